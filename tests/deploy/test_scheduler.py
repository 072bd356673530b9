"""deploy/scheduler.py as a process: the APScheduler loop runs `tick` and sends a due check-in to
Rasa's trigger_intent (a recording stand-in here), answers /healthz, /readyz and /metrics, and
stops on SIGTERM; bad arguments are refused."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import requests

from bot.crypto import TextCipher
from bot.store import Store
from tests.harness import ROOT, FakeProviders, free_port


class FakeRasa(FakeProviders):
    """Records POST /conversations/<id>/trigger_intent and answers like Rasa (no `messages`: sent)."""

    @staticmethod
    def answer(path: str, body: dict) -> tuple[int, dict]:
        return 200, {"tracker": {}}


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("it did not happen in time")


def test_the_loop_sends_a_due_check_in_serves_its_health_and_stops_on_sigterm(cli_env: dict[str, str]) -> None:
    rasa = FakeRasa()
    store = Store(cli_env["RAPPORT_DATABASE_URL"], TextCipher([cli_env["RAPPORT_ENCRYPTION_KEYS"]]))
    client = store.enrol_client(name="Jo", clinician_id=None, timezone="UTC")
    store.bind_conversation("f" * 64, client, "telegram", "4242")
    store.set_schedule(client, kind="after_session", send_time="10:00", remind_after_hours=24, max_reminders=1, window_days=3)
    now = datetime.now(timezone.utc)
    store.plan_checkins(client, [(now - timedelta(minutes=1), now + timedelta(days=1))])
    port = free_port()
    env = {**cli_env, "RAPPORT_RASA_URL": rasa.url, "RASA_AUTH_TOKEN": "t0ken", "RAPPORT_SCHEDULER_TICK_SECONDS": "1",
           "RAPPORT_SCHEDULER_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "deploy.scheduler", "--skip", "purge"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: rasa.calls)
        path, body = (rasa.calls[0]["path"], rasa.calls[0]["body"])
        assert path == f"/conversations/{'f' * 64}/trigger_intent?output_channel=telegram&token=t0ken"
        assert body == {"name": "scheduled_checkin"}
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: store.scheduled_checkins(client)[0].status == "sent")
        assert requests.get(f"{base}/healthz", timeout=10).json() == {"status": "alive"}
        ready = requests.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["checks"]["migrations"]["ok"]
        assert 'rapport_scheduled_sends_total{outcome="sent"} 1.0' in requests.get(f"{base}/metrics", timeout=10).text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert len(rasa.calls) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        rasa.close()
        store.dispose()


def test_bad_arguments_are_refused(cli_env: dict[str, str]) -> None:
    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "deploy.scheduler", *args], cwd=ROOT, env={**cli_env, **env},
                              capture_output=True, text=True, timeout=60)

    assert run("--now", "2030-01-01T09:00Z").returncode == 2  # --now only with --once
    assert run("--once", "--now", "next tuesday").returncode == 2
    refused = run("--once", RAPPORT_SCHEDULER_TICK_SECONDS="0")
    assert refused.returncode == 2 and "RAPPORT_SCHEDULER_TICK_SECONDS" in refused.stderr
    assert run("--once", "--now", "2030-01-01T09:00Z", "--skip", "purge").returncode == 0
