"""Real servers for end-to-end tests: the Rasa action server and the Rasa HTTP server.

They run as subprocesses on free loopback ports against a throwaway SQLite store, using the
trained model at models/rapport.tar.gz (`make test` trains it first when it is stale).
"""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Iterator

import pytest
import requests

from bot.identity import client_id
from tests.harness import (
    MODEL,
    free_port,
    migrate,
    ROOT,
    VENV_BIN,
    server_env,
    start_action_server,
    start_rasa_server,
    stop,
    write_endpoints,
)

__all__ = ["ROOT", "VENV_BIN", "MODEL", "RasaServer"]


@pytest.fixture(scope="session")
def e2e_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does it for you)")
    webchat_port = free_port()  # the web chat page's origin is allowed in advance (test_webchat_browser)
    env = server_env(tmp_path_factory.mktemp("rapport-e2e"), RAPPORT_WEBCHAT_PORT=str(webchat_port),
                     RAPPORT_WEBCHAT_ORIGINS=f"http://127.0.0.1:{webchat_port}")
    migrate(env)
    return env


@pytest.fixture(scope="session")
def action_server(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real action server; yields its webhook URL."""
    proc, url = start_action_server(e2e_env, tmp_path_factory.mktemp("logs") / "actions.log")
    try:
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def endpoints_file(action_server: str, e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_endpoints(
        tmp_path_factory.mktemp("config") / "endpoints.yml",
        action_server,
        Path(e2e_env["RAPPORT_DATA_DIR"]) / "tracker.db",
    )


class RasaServer:
    def __init__(self, url: str, token: str, log: Path, id_secret: str) -> None:
        self.url, self.token, self.log, self.id_secret = url, token, log, id_secret

    def conversation(self, sender: str, channel: str = "rest") -> str:
        """The id Rasa keeps `sender`'s conversation under (the channels never hand it the raw id)."""
        return client_id(channel, sender, self.id_secret)

    def send(self, sender: str, text: str) -> list[dict]:
        """One client message over the REST channel; returns the bot's messages."""
        response = requests.post(
            f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str, channel: str = "rest") -> dict:
        response = requests.get(
            f"{self.url}/conversations/{self.conversation(sender, channel)}/tracker",
            params={"token": self.token}, timeout=30,
        )
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def rasa_server(endpoints_file: Path, e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaServer]:
    """The real Rasa HTTP server (REST channel + HTTP API with an auth token)."""
    # A generated token can start with "-" (1 in 64 from token_urlsafe); such a token once made
    # `rasa run --auth-token TOKEN` fail to start. Always use one, so that case stays covered.
    token = "-" + secrets.token_urlsafe(16)
    log = tmp_path_factory.mktemp("logs") / "rasa.log"
    proc, url = start_rasa_server(e2e_env, endpoints_file, token, log)
    try:
        yield RasaServer(url, token, log, e2e_env["RAPPORT_ID_SECRET"])
    finally:
        stop(proc)
