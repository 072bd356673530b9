"""channels/rest.py: the REST channel's loopback rule and the retry-safe app channel."""
from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
import requests

from tests.channels.providers import Bot
from tests.harness import (
    MODEL,
    ROOT,
    free_port,
    server_env,
)


def test_an_open_rest_channel_refuses_to_listen_beyond_loopback(tmp_path: Path):
    env = server_env(tmp_path, RAPPORT_REST_TOKEN="")
    log = tmp_path / "rasa.log"
    with log.open("w") as out:
        proc = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "rasa"), "run", "--model", str(MODEL), "--credentials",
             str(ROOT / "credentials.yml"), "--interface", "0.0.0.0", "--port", str(free_port())],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=240,
        )
    assert proc.returncode != 0
    assert "RAPPORT_REST_TOKEN" in log.read_text()


# The retry-safe app channel --------------------------------------------------------------------------

def app_post(bot: Bot, sender: str, text: str, message_id: str, token: str | None = None) -> requests.Response:
    return requests.post(f"{bot.url}/webhooks/app/webhook", timeout=60,
                         json={"sender": sender, "message": text, "message_id": message_id},
                         headers={"Authorization": f"Bearer {bot.env['RAPPORT_APP_TOKEN'] if token is None else token}"})


def test_app_channel_needs_its_token(bot: Bot):
    sender = uuid.uuid4().hex
    assert app_post(bot, sender, "hi", "m1", token="a-guess").status_code == 401
    bare = requests.post(f"{bot.url}/webhooks/app/webhook", json={"sender": sender, "message": "hi", "message_id": "m1"},
                         timeout=30)
    assert bare.status_code == 401 and bare.headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert bot.user_events("app", sender) == []
    assert app_post(bot, sender, "hi", "m2").status_code == 200


def test_app_channel_replays_a_retried_message_instead_of_applying_it_twice(bot: Bot):
    sender = uuid.uuid4().hex
    app_post(bot, sender, "check in", "m1")
    first = app_post(bot, sender, "mostly", "m2")
    retry = app_post(bot, sender, "mostly", "m2")
    assert first.status_code == retry.status_code == 200
    assert retry.headers.get("X-Rapport-Replayed") == "true" and "X-Rapport-Replayed" not in first.headers
    assert [m.get("text") for m in retry.json()] == [m.get("text") for m in first.json()]
    tracker = bot.tracker("app", sender)
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == ["check in", "mostly"]
    assert tracker["slots"]["requested_slot"] == "heard"  # the retry did not answer the 2nd question


@pytest.mark.parametrize("body", [
    {"sender": "short", "message": "hi", "message_id": "m1"},           # guessable sender id
    {"sender": uuid.uuid4().hex, "message": "hi"},                       # no message id
    {"sender": uuid.uuid4().hex, "message": "", "message_id": "m1"},
    {"sender": uuid.uuid4().hex, "message": ["hi"], "message_id": "m1"},
])
def test_app_channel_refuses_unsafe_requests(bot: Bot, body: dict):
    response = requests.post(f"{bot.url}/webhooks/app/webhook", json=body, timeout=30,
                             headers={"Authorization": f"Bearer {bot.env['RAPPORT_APP_TOKEN']}"})
    assert response.status_code == 400
