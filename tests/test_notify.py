"""bot.notify against real local HTTP servers (127.0.0.1, ephemeral ports)."""
from __future__ import annotations

import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from bot.notify import clean_payload, notify_in_background, notify_practice

SECRET_WORDS = "I want to end my life tonight"
PAYLOAD = {
    "client_id": "3f9a0c",
    "checkin_id": 12,
    "kind": "crisis",
    "time": "2024-05-01T10:00:00+00:00",
}


class _Server:
    """A local HTTP server whose answers are scripted by `statuses` (then 200), or that hangs."""

    def __init__(self, statuses: list[int] | None = None, hang: bool = False) -> None:
        self.statuses = list(statuses or [])
        self.hang = hang
        self.release = threading.Event()
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length") or 0)
                server.bodies.append(self.rfile.read(length))
                server.headers.append(dict(self.headers))
                if server.hang:
                    server.release.wait(10)
                    return
                status = server.statuses.pop(0) if server.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook?token=abc"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def make_server() -> Iterator:
    servers: list[_Server] = []

    def factory(statuses: list[int] | None = None, hang: bool = False) -> _Server:
        servers.append(_Server(statuses, hang))
        return servers[-1]

    yield factory
    for server in servers:
        server.close()


def test_retries_on_500_then_succeeds(make_server) -> None:
    server = make_server([500, 500])
    assert notify_practice(server.url, PAYLOAD, timeout=2, retries=3, backoff=0.01) is True
    assert len(server.bodies) == 3
    assert json.loads(server.bodies[-1]) == PAYLOAD
    assert server.headers[-1]["Content-Type"] == "application/json"


def test_gives_up_after_the_retries(make_server) -> None:
    server = make_server([503] * 10)
    assert notify_practice(server.url, PAYLOAD, timeout=2, retries=2, backoff=0.01) is False
    assert len(server.bodies) == 3  # the first attempt plus two retries


def test_client_error_is_not_retried(make_server) -> None:
    server = make_server([404])
    assert notify_practice(server.url, PAYLOAD, timeout=2, retries=3, backoff=0.01) is False
    assert len(server.bodies) == 1


def test_hanging_server_times_out_within_a_bounded_time(make_server) -> None:
    server = make_server(hang=True)
    start = time.monotonic()
    assert notify_practice(server.url, PAYLOAD, timeout=0.3, retries=2, backoff=0.05) is False
    elapsed = time.monotonic() - start
    assert len(server.bodies) == 3
    # three attempts of 0.3 s plus 0.05 + 0.1 s of backoff; generous slack for a busy machine
    assert 0.9 <= elapsed < 3.0


def test_absent_server_returns_false_without_raising() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    start = time.monotonic()
    assert notify_practice(f"http://127.0.0.1:{port}/hook", PAYLOAD, timeout=1, retries=2, backoff=0.01) is False
    assert time.monotonic() - start < 3


@pytest.mark.parametrize("url", ["", "not a url", "ftp://127.0.0.1/x", "file:///etc/passwd"])
def test_unusable_url_returns_false(url: str) -> None:
    assert notify_practice(url, PAYLOAD, timeout=0.5, retries=0) is False


def test_payload_never_contains_client_text_and_logs_do_not_either(make_server, caplog) -> None:
    server = make_server()
    payload = dict(PAYLOAD, text=SECRET_WORDS, message=SECRET_WORDS, Last_Message=SECRET_WORDS, user_text=SECRET_WORDS)
    with caplog.at_level(logging.DEBUG, logger="bot.notify"):
        assert notify_practice(server.url, payload, timeout=2, retries=0) is True
    sent = json.loads(server.bodies[0])
    assert sent == PAYLOAD
    assert SECRET_WORDS.encode() not in server.bodies[0]
    assert SECRET_WORDS not in caplog.text
    assert "3f9a0c" not in caplog.text  # nothing from the payload but its kind is logged


def test_failure_logs_mention_kind_but_not_payload_or_url(caplog) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with caplog.at_level(logging.DEBUG, logger="bot.notify"):
        notify_practice(f"http://127.0.0.1:{port}/hook?token=s3cret", PAYLOAD, timeout=0.5, retries=0)
    assert "kind=crisis" in caplog.text
    assert "3f9a0c" not in caplog.text and "s3cret" not in caplog.text


def test_clean_payload_strips_nested_text_keys() -> None:
    assert clean_payload({"kind": "crisis", "meta": {"text": "x", "n": 1}, "MESSAGE": "y"}) == {
        "kind": "crisis",
        "meta": {"n": 1},
    }


def test_background_notification_does_not_block(make_server) -> None:
    server = make_server(hang=True)
    start = time.monotonic()
    thread = notify_in_background(server.url, PAYLOAD, timeout=0.3, retries=0, backoff=0)
    assert time.monotonic() - start < 0.2
    assert thread.daemon
    thread.join(5)
    assert not thread.is_alive()
    assert len(server.bodies) == 1


def test_background_notification_delivers(make_server) -> None:
    server = make_server([500])
    payload = dict(PAYLOAD)
    thread = notify_in_background(server.url, payload, timeout=2, retries=1, backoff=0.01)
    payload["kind"] = "changed after the call"  # the thread works on a snapshot
    thread.join(5)
    assert [json.loads(b)["kind"] for b in server.bodies] == ["crisis", "crisis"]
