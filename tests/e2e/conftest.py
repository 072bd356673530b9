"""Real servers for end-to-end tests: the Rasa action server and the Rasa HTTP server.

They run as subprocesses on free loopback ports against a throwaway SQLite store, using the
trained model at models/rapport.tar.gz (`make train` builds it; `make test` does so first).
"""
from __future__ import annotations

import base64
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "rapport.tar.gz"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up in {timeout}s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def e2e_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for the servers and the CLI: a fresh SQLite store and fresh secrets."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does it for you)")
    data = tmp_path_factory.mktemp("rapport-e2e")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAPPORT_")}
    env.update(
        RAPPORT_DATA_DIR=str(data),
        RAPPORT_DATABASE_URL=f"sqlite:///{data / 'rapport.db'}",
        RAPPORT_ID_SECRET=secrets.token_hex(16),
        RAPPORT_ENCRYPTION_KEYS=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        RAPPORT_LOCALE="US",
        RAPPORT_PRACTICE_NAME="Test Practice",
        RASA_TELEMETRY_ENABLED="false",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONPATH=str(ROOT),
    )
    return env


@pytest.fixture(scope="session")
def action_server(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real action server; yields its webhook URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("logs") / "actions.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions",
             "--port", str(port)],
            cwd=ROOT, env=e2e_env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", proc, log)
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def endpoints_file(action_server: str, e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "endpoints.yml"
    tracker_db = Path(e2e_env["RAPPORT_DATA_DIR"]) / "tracker.db"
    path.write_text(
        f'action_endpoint:\n  url: "{action_server}"\n'
        f'tracker_store:\n  type: components.tracker_store.ErasableSQLTrackerStore\n  dialect: "sqlite"\n  db: "{tracker_db}"\n'
    )
    return path


class RasaServer:
    def __init__(self, url: str, token: str, log: Path) -> None:
        self.url, self.token, self.log = url, token, log

    def send(self, sender: str, text: str) -> list[dict]:
        """One client message over the REST channel; returns the bot's messages."""
        response = requests.post(
            f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> dict:
        response = requests.get(
            f"{self.url}/conversations/{sender}/tracker", params={"token": self.token}, timeout=30
        )
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def rasa_server(endpoints_file: Path, e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaServer]:
    """The real Rasa HTTP server (REST channel + HTTP API with an auth token)."""
    port = free_port()
    token = secrets.token_urlsafe(16)
    log = tmp_path_factory.mktemp("logs") / "rasa.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(VENV_BIN / "rasa"), "run", "--model", str(MODEL), "--endpoints", str(endpoints_file),
             "--credentials", str(ROOT / "credentials.yml"), "--enable-api", "--auth-token", token,
             "--interface", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=e2e_env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", proc, log, timeout=240)
        yield RasaServer(f"http://127.0.0.1:{port}", token, log)
    finally:
        stop(proc)
