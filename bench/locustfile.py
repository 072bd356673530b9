"""Locust scenario for bench/load.py: simulated clients going through whole check-ins over the
retry-safe `app` channel (POST /webhooks/app/webhook, a message id per message).

The check-in itself is bench/checkin_flow.py. A message that gets no answer (connection error,
5xx, timeout: its replica was killed) counts as a locust failure and is sent again with the SAME
message id. Each check-in's record is appended to $RAPPORT_LOAD_RESULTS (JSON lines) for
bench/load.py to check against the store.

Runs in its own venv (.venv-load, made by bench/load.py): locust is not a dependency of the bot.
"""
from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from pathlib import Path

from locust import HttpUser, between, task

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.checkin_flow import new_client, retrying_say, run_checkin  # noqa: E402

RESULTS = os.environ.get("RAPPORT_LOAD_RESULTS", "load-results.jsonl")
_write_lock = threading.Lock()


THINK_SECONDS = (2, 6)  # reading the question and typing: a brisk person


def think() -> None:
    # Not User.wait(): that stops a user mid check-in when the run ends, and the check-in must
    # finish (--stop-timeout) to be checked against the store.
    time.sleep(random.uniform(*THINK_SECONDS))


class CheckinClient(HttpUser):
    wait_time = between(*THINK_SECONDS)

    def post(self, body: dict) -> tuple[int, object]:
        with self.client.post("/webhooks/app/webhook", json=body, name=self.step, timeout=150,
                              headers={"Authorization": f"Bearer {os.environ['RAPPORT_APP_TOKEN']}"},
                              catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return response.status_code, None
            try:
                messages = response.json()
            except ValueError:
                response.failure("not JSON")
                return response.status_code, None
            if not messages:
                response.failure("an empty answer")
            return 200, messages

    @task
    def checkin(self) -> None:
        say = retrying_say(self.post)

        def named_say(sender: str, text: str, step: str) -> list:
            self.step = step
            return say(sender, text, step)

        sender, levels = new_client()
        record = run_checkin(named_say, sender, levels, pause=think)
        with _write_lock, open(RESULTS, "a") as out:
            out.write(json.dumps(record) + "\n")
