"""bot.notify (one signed POST) and bot.outbox (the durable alert outbox) against real local HTTP
servers (127.0.0.1, ephemeral ports), on SQLite and PostgreSQL. Signatures are checked with the
Standard Webhooks specification's own library, not with our code."""
from __future__ import annotations

import base64
import json
import logging
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bot.notify import body_of, clean_payload, post, signature_headers, signing_key
from bot.outbox import DELIVERED, FAILED, PENDING, AlertOutbox, OutboxSettings
from bot.store import Store
from tests.harness import WebhookReceiver

SECRET = "whsec_" + base64.b64encode(b"a practice's webhook secret: 32b").decode()
SECRET_WORDS = "I want to end my life tonight"
CLIENT = "3f9a0c"


@pytest.fixture
def make_server() -> Iterator:
    servers: list[WebhookReceiver] = []

    def factory(statuses: list[int] | None = None, port: int = 0) -> WebhookReceiver:
        servers.append(WebhookReceiver(SECRET, statuses, port))
        return servers[-1]

    yield factory
    for server in servers:
        server.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_outbox(store: Store, url: str, clock: Clock | None = None, **settings: object) -> AlertOutbox:
    values = {"webhook": url, "secret": SECRET, "retry_seconds": 10.0, "poll_seconds": 0.1, "timeout_seconds": 2.0}
    return AlertOutbox(store.engine, OutboxSettings(**(values | settings)), clock or Clock())


def crisis(store: Store, outbox: AlertOutbox, kind: str = "crisis") -> str:
    """A crisis event and its alert, in one transaction (as actions.common.record_and_alert does)."""
    made: list[str] = []
    store.record_event(CLIENT, kind, then=lambda session: made.append(outbox.adder(CLIENT, kind, None)(session)))
    return made[0]


# --------------------------------------------------------------------------- signing


def test_the_signature_verifies_with_the_standard_webhooks_library() -> None:
    body = body_of({"kind": "crisis", "client_id": CLIENT})
    headers = signature_headers(signing_key(SECRET), "msg_1", int(time.time()), body)
    assert headers["webhook-id"] == "msg_1" and headers["webhook-signature"].startswith("v1,")
    assert Webhook(SECRET).verify(body, headers) == {"kind": "crisis", "client_id": CLIENT}
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body.replace(b"crisis", b"nothing"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body, headers | {"webhook-id": "msg_2"})
    other = "whsec_" + base64.b64encode(b"x" * 32).decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(body, headers)


@pytest.mark.parametrize("secret", ["", "s3cret", "whsec_not base64!", "whsec_" + base64.b64encode(b"short").decode()])
def test_a_secret_that_is_not_a_whsec_key_is_refused(secret: str) -> None:
    with pytest.raises(ValueError):
        signing_key(secret)


# --------------------------------------------------------------------------- one POST


def test_payload_never_contains_client_text_and_logs_do_not_either(make_server, caplog) -> None:
    server = make_server()
    payload = {"client_id": CLIENT, "kind": "crisis", "text": SECRET_WORDS, "Last_Message": SECRET_WORDS,
               "user_text": SECRET_WORDS, "meta": {"answer": SECRET_WORDS, "n": 1}}
    with caplog.at_level(logging.DEBUG, logger="bot.notify"):
        assert post(server.url, body_of(payload), {}, timeout=2, kind="crisis").delivered
    assert json.loads(server.bodies[0]) == {"client_id": CLIENT, "kind": "crisis", "meta": {"n": 1}}
    assert SECRET_WORDS not in caplog.text and CLIENT not in caplog.text


def test_failures_are_reported_in_a_word_without_payload_or_url(make_server, caplog) -> None:
    with caplog.at_level(logging.DEBUG, logger="bot.notify"):
        refused = post(f"http://127.0.0.1:{closed_port()}/hook?token=s3cret", b"{}", {}, timeout=1, kind="crisis")
        answered = post(make_server([503]).url, b"{}", {}, timeout=2, kind="crisis")
    assert not refused.delivered and refused.error and refused.status is None
    assert not answered.delivered and answered.status == 503 and answered.error == "HTTP 503"
    assert "kind=crisis" in caplog.text and "s3cret" not in caplog.text


@pytest.mark.parametrize("url", ["", "not a url", "ftp://127.0.0.1/x", "file:///etc/passwd"])
def test_an_unusable_url_is_not_tried(url: str) -> None:
    assert not post(url, b"{}", {}, timeout=0.5).delivered


def test_clean_payload_strips_nested_text_keys() -> None:
    assert clean_payload({"kind": "crisis", "meta": {"text": "x", "n": 1}, "MESSAGE": "y"}) == {
        "kind": "crisis", "meta": {"n": 1}}


# --------------------------------------------------------------------------- the outbox


def test_an_alert_is_delivered_signed_with_its_row_id(store: Store, make_server) -> None:
    server = make_server()
    outbox = make_outbox(store, server.url)
    alert_id = crisis(store, outbox)
    assert [a.status for a in outbox.alerts()] == [PENDING]
    assert outbox.deliver_due() == 1
    [sent] = server.verified()
    assert server.headers[0]["webhook-id"] == alert_id == sent["id"]
    assert abs(int(server.headers[0]["webhook-timestamp"]) - time.time()) < 60
    assert sent["kind"] == "crisis" and sent["client_id"] == CLIENT and sent["count"] == 1
    [row] = outbox.alerts()
    assert (row.status, row.attempts, row.last_error) == (DELIVERED, 1, None) and row.delivered_at
    assert outbox.deliver_due() == 0 and len(server.bodies) == 1, "a delivered alert is not sent again"


def test_receiver_down_then_up_the_alert_is_delivered_on_a_later_attempt(store: Store, make_server) -> None:
    port, clock = closed_port(), Clock()
    outbox = make_outbox(store, f"http://127.0.0.1:{port}/hook", clock)
    alert_id = crisis(store, outbox)
    assert outbox.deliver_due() == 0
    [row] = outbox.alerts()
    assert (row.status, row.attempts) == (PENDING, 1) and row.last_error
    assert row.next_attempt_at == clock.now + timedelta(seconds=10)
    assert outbox.deliver_due() == 0 and outbox.alerts()[0].attempts == 1, "not due before its backoff"
    server = make_server([500], port=port)  # up, but failing once: the backoff doubles
    clock.advance(seconds=10)
    assert outbox.deliver_due() == 0
    assert outbox.alerts()[0].next_attempt_at == clock.now + timedelta(seconds=20)
    clock.advance(seconds=20)
    assert outbox.deliver_due() == 1
    assert [h["webhook-id"] for h in server.headers] == [alert_id, alert_id], "the id is stable across retries"
    assert len(server.verified()) == 2
    [row] = outbox.alerts()
    assert (row.status, row.attempts) == (DELIVERED, 3)


def test_an_alert_never_taken_is_marked_failed_after_the_last_attempt(store: Store, make_server, caplog) -> None:
    server, clock = make_server([503] * 5), Clock()
    outbox = make_outbox(store, server.url, clock, max_attempts=3, retry_seconds=1.0)
    crisis(store, outbox)
    with caplog.at_level(logging.ERROR, logger="bot.outbox"):
        for _ in range(5):
            outbox.deliver_due()
            clock.advance(hours=1)
    [row] = outbox.alerts()
    assert (row.status, row.attempts, row.last_error) == (FAILED, 3, "HTTP 503")
    assert len(server.bodies) == 3 and "failed after 3 attempts" in caplog.text


def test_a_second_crisis_within_the_window_is_counted_not_sent_again(store: Store, make_server) -> None:
    server, clock = make_server(), Clock()
    outbox = make_outbox(store, server.url, clock, dedup_minutes=30)
    first = crisis(store, outbox)
    clock.advance(minutes=10)
    assert crisis(store, outbox) == first
    unclear = crisis(store, outbox, "crisis_unclear")  # another kind is its own alert
    outbox.deliver_due()
    assert sorted((s["kind"], s["count"]) for s in server.verified()) == [("crisis", 2), ("crisis_unclear", 1)]
    clock.advance(minutes=10)
    assert crisis(store, outbox) == first, "still within 30 minutes of the first: counted on the delivered row"
    clock.advance(minutes=11)
    assert crisis(store, outbox) not in (first, unclear), "after the window, a new alert"
    assert len(store.events(CLIENT)) == 5, "every crisis is still recorded as an event"
    assert [a.count for a in outbox.alerts() if a.kind == "crisis"] == [3, 1]


def test_the_alert_is_written_in_the_crisis_events_transaction(store: Store) -> None:
    outbox = make_outbox(store, "http://127.0.0.1:9/hook")

    def add_then_fail(session: object) -> None:
        outbox.adder(CLIENT, "crisis", None)(session)
        raise RuntimeError("the transaction fails after the alert was added")

    with pytest.raises(RuntimeError):
        store.record_event(CLIENT, "crisis", then=add_then_fail)
    assert outbox.alerts() == [] and store.events(CLIENT) == []


def test_two_workers_on_one_database_send_each_alert_once(store: Store, make_server) -> None:
    server = make_server()
    outboxes = [make_outbox(store, server.url) for _ in range(2)]
    ids = {crisis(store, outboxes[0], f"kind-{n}") for n in range(6)}
    threads = [threading.Thread(target=o.deliver_due) for o in outboxes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(h["webhook-id"] for h in server.headers) == sorted(ids)
    assert {a.status for a in outboxes[0].alerts()} == {DELIVERED}


def test_the_worker_sends_a_new_alert_at_once_when_woken(store: Store, make_server) -> None:
    server = make_server()
    outbox = make_outbox(store, server.url, poll_seconds=30.0)  # only the wake-up can be in time
    outbox.start()
    try:
        crisis(store, outbox)
        outbox.wake()
        assert server.arrived.wait(10), "the worker did not send the alert"
    finally:
        outbox.stop()
    assert server.verified()[0]["kind"] == "crisis"


def test_erasing_a_client_erases_their_alerts(store: Store) -> None:
    outbox = make_outbox(store, "http://127.0.0.1:9/hook")
    crisis(store, outbox)
    store.delete_client(CLIENT)
    assert outbox.alerts() == []
