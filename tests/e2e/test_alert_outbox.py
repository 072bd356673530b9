"""The practice's alerts end to end: a real Rasa server and action server, crisis words over the
REST channel, the practice's webhook a real local HTTP server, on SQLite and PostgreSQL.

The webhook is down when the client writes; the action server is killed (SIGKILL) with the alert
pending and started again; the webhook comes up. The alert must then arrive, once, signed (checked
with the Standard Webhooks library), with the same id it was queued under, counting both crises.
Today's daemon thread loses it with the process.
"""
from __future__ import annotations

import base64
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests
from sqlalchemy import create_engine
from standardwebhooks.webhooks import Webhook

from bot.outbox import DELIVERED, PENDING, AlertOutbox, OutboxSettings
from tests.harness import (
    MODEL,
    free_port,
    migrate,
    server_env,
    start_action_server,
    start_rasa_server,
    stop,
    write_endpoints,
)

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class Receiver:
    def __init__(self, port: int) -> None:
        self.received: list[dict] = []
        self.ids: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(Webhook(SECRET).verify(body, dict(self.headers)))
                receiver.ids.append(self.headers["webhook-id"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A Rasa server whose action server (on a port fixed for restarts) each test runs itself."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train`")
    data = tmp_path_factory.mktemp("alerts")
    action_port, hook_port = free_port(), free_port()
    env = server_env(data, RAPPORT_ALERT_WEBHOOK=f"http://127.0.0.1:{hook_port}/hook", RAPPORT_ALERT_SECRET=SECRET,
                     RAPPORT_ALERT_RETRY_SECONDS="0.5", RAPPORT_ALERT_POLL_SECONDS="0.3")
    endpoints = write_endpoints(data / "endpoints.yml", f"http://127.0.0.1:{action_port}/webhook", data / "tracker.db")
    rasa, url = start_rasa_server(env, endpoints, secrets.token_urlsafe(16), data / "rasa.log")
    try:
        yield {"url": url, "env": env, "action_port": action_port, "hook_port": hook_port, "dir": data}
    finally:
        stop(rasa)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, servers: dict) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{servers['dir'] / secrets.token_hex(4)}.db"
    make: Callable[[], str] = request.getfixturevalue("make_pg_database")
    return make()


def test_a_pending_alert_survives_the_action_server_killed_and_is_delivered_once(servers: dict, database_url: str):
    env = servers["env"] | {"RAPPORT_DATABASE_URL": database_url}
    migrate(env)
    log = servers["dir"] / f"actions-{secrets.token_hex(3)}.log"
    actions, _ = start_action_server(env, log, servers["action_port"])
    engine = create_engine(database_url, future=True)
    outbox = AlertOutbox(engine, OutboxSettings())
    receiver = None
    try:
        sender = f"client-{secrets.token_hex(8)}"
        for _ in range(2):  # two crises within the dedup window: one alert
            reply = requests.post(f"{servers['url']}/webhooks/rest/webhook", timeout=60,
                                  json={"sender": sender, "message": "i want to end my life tonight"}).json()
            assert "988" in " ".join(m.get("text", "") for m in reply)
        [pending] = outbox.alerts()
        assert pending.status == PENDING and pending.count == 2
        deadline = time.monotonic() + 20
        while outbox.alerts()[0].attempts < 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert outbox.alerts()[0].attempts >= 1, "the worker tried while the webhook was down"

        actions.kill()  # SIGKILL: nothing is flushed, nothing is finished
        actions.wait(10)
        receiver = Receiver(servers["hook_port"])
        actions, _ = start_action_server(env, log.with_suffix(".2.log"), servers["action_port"])
        deadline = time.monotonic() + 40
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.2)
        assert receiver.ids == [pending.id], "delivered after the restart, once, under its queued id"
        [sent] = receiver.received
        assert sent["kind"] == "crisis" and sent["count"] == 2 and sent["client_id"] == pending.client_id
        assert "end my life" not in str(sent)
        deadline = time.monotonic() + 10  # the worker marks it once the receiver has answered
        while outbox.alerts()[0].status != DELIVERED and time.monotonic() < deadline:
            time.sleep(0.1)
        [row] = outbox.alerts()
        assert row.status == DELIVERED and row.attempts >= 2
    finally:
        stop(actions)
        if receiver:
            receiver.close()
        engine.dispose()
