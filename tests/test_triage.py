"""bot/triage.py: escalating crisis events nobody acknowledged, through the real alert outbox to a
webhook receiver on loopback, on SQLite and PostgreSQL. Time moves by an injected clock."""
from __future__ import annotations

import base64
import json
import threading
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest

from bot.config import load_settings
from bot.crypto import TextCipher
from bot.outbox import DELIVERED, AlertOutbox, OutboxSettings
from bot.store import EventView, Store
from bot.triage import ESCALATION_HORIZON, ESCALATION_KIND, escalate_due, in_triage_order, run_escalation
from tests.harness import Clock, WebhookReceiver

SECRET = "whsec_" + base64.b64encode(b"the practice's escalation secret").decode()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
CLIENT = "5e7a1c"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver(SECRET)
    yield server
    server.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def triage(store_url: str, cipher: TextCipher, clock: Clock) -> Iterator[Store]:
    s = Store(store_url, cipher, clock=clock)
    yield s
    s.dispose()


def outbox_for(store: Store, url: str, clock: Clock) -> AlertOutbox:
    return AlertOutbox(store.engine, OutboxSettings(webhook=url, secret=SECRET, timeout_seconds=2.0), clock)


def crisis(store: Store, client: str = CLIENT) -> int:
    store.record_event(client, "crisis", checkin_id=None)
    return max(e.id for e in store.events(client))


def test_an_event_left_alone_escalates_exactly_once(triage: Store, clock: Clock, receiver: WebhookReceiver) -> None:
    outbox = outbox_for(triage, receiver.url, clock)
    event_id = crisis(triage)
    clock.now = T0 + timedelta(minutes=29)
    assert escalate_due(triage, outbox, clock.now, 30) == 0, "not before the limit"
    clock.now = T0 + timedelta(minutes=30)
    assert escalate_due(triage, outbox, clock.now, 30) == 1
    assert outbox.deliver_due() == 1
    for minutes in (31, 60, 600):  # the scheduler keeps calling: nothing more
        clock.now = T0 + timedelta(minutes=minutes)
        assert escalate_due(triage, outbox, clock.now, 30) == 0
        assert outbox.deliver_due() == 0
    [alert] = receiver.verified()  # signed like every alert
    assert alert["kind"] == ESCALATION_KIND and alert["client_id"] == CLIENT and alert["count"] == 1
    assert set(alert) == {"id", "kind", "client_id", "checkin_id", "time", "last_time", "count"}, "no words"
    assert triage.crisis_event(event_id).escalated_at == T0 + timedelta(minutes=30)  # type: ignore[union-attr]
    assert [a.status for a in outbox.alerts()] == [DELIVERED]


def test_an_acknowledged_event_never_escalates(triage: Store, clock: Clock, receiver: WebhookReceiver) -> None:
    outbox = outbox_for(triage, receiver.url, clock)
    event_id = crisis(triage)
    clock.now = T0 + timedelta(minutes=20)
    triage.acknowledge(event_id, "ana", "called them")
    for minutes in (30, 90, 24 * 60):
        clock.now = T0 + timedelta(minutes=minutes)
        assert escalate_due(triage, outbox, clock.now, 30) == 0
    assert outbox.deliver_due() == 0 and receiver.bodies == [] and outbox.alerts() == []


def test_each_event_escalates_on_its_own_clock(triage: Store, clock: Clock, receiver: WebhookReceiver) -> None:
    outbox = outbox_for(triage, receiver.url, clock)
    first = crisis(triage, "client-a")
    clock.now = T0 + timedelta(minutes=10)
    second = crisis(triage, "client-b")
    clock.now = T0 + timedelta(minutes=35)
    assert escalate_due(triage, outbox, clock.now, 30) == 1
    clock.now = T0 + timedelta(minutes=40)
    assert escalate_due(triage, outbox, clock.now, 30) == 1
    outbox.deliver_due()
    assert sorted(a["client_id"] for a in receiver.verified()) == ["client-a", "client-b"]
    assert [triage.crisis_event(i).escalated_at for i in (first, second)] == [  # type: ignore[union-attr]
        T0 + timedelta(minutes=35), T0 + timedelta(minutes=40)]


def test_nothing_escalates_without_a_webhook_or_with_zero_minutes(triage: Store, clock: Clock, receiver: WebhookReceiver) -> None:
    crisis(triage)
    clock.now = T0 + timedelta(hours=1)
    assert escalate_due(triage, outbox_for(triage, "", clock), clock.now, 30) == 0
    assert escalate_due(triage, outbox_for(triage, receiver.url, clock), clock.now, 0) == 0
    assert triage.escalation_candidates(clock.now) != [], "the event is still waiting, not marked escalated"


def test_events_overdue_for_longer_than_the_horizon_are_not_escalated(triage: Store, clock: Clock, receiver: WebhookReceiver) -> None:
    outbox = outbox_for(triage, receiver.url, clock)
    crisis(triage, "old")  # e.g. recorded before triage existed
    clock.now = T0 + ESCALATION_HORIZON + timedelta(minutes=31)
    crisis(triage, "recent")
    clock.now += timedelta(minutes=30)
    assert escalate_due(triage, outbox, clock.now, 30) == 1
    assert [a.client_id for a in outbox.alerts()] == ["recent"]


def test_two_callers_at_once_escalate_each_event_once(store_url: str, cipher: TextCipher, receiver: WebhookReceiver) -> None:
    """Two stores (two connection pools, as two scheduler processes), each having read the same
    candidates before either writes: only the conditional UPDATE keeps it to one alert each."""
    clock = Clock(T0)
    stores = [Store(store_url, cipher, clock=clock) for _ in range(2)]
    ids = [crisis(stores[0], f"client-{n}") for n in range(5)]
    clock.now = T0 + timedelta(minutes=45)
    both_read = threading.Barrier(2, timeout=30)
    for store in stores:
        read = store.escalation_candidates

        def read_then_wait(*args: object, _read=read, **kwargs: object) -> list[int]:
            found = _read(*args, **kwargs)  # type: ignore[arg-type]
            both_read.wait()
            return found

        store.escalation_candidates = read_then_wait  # type: ignore[method-assign]
    counts: list[int] = []
    threads = [
        threading.Thread(target=lambda s=s: counts.append(escalate_due(s, outbox_for(s, receiver.url, clock), clock.now, 30)))
        for s in stores
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert len(counts) == 2 and sum(counts) == len(ids), counts
        outbox = outbox_for(stores[0], receiver.url, clock)
        assert sorted(a.client_id for a in outbox.alerts()) == sorted(f"client-{n}" for n in range(5))
        assert outbox.deliver_due() == 5
        assert len(receiver.verified()) == 5
    finally:
        for store in stores:
            store.dispose()


def test_run_escalation_from_settings_and_the_delivery_worker_sends_it(
    store_url: str, cipher: TextCipher, encryption_key: str, receiver: WebhookReceiver
) -> None:
    """The scheduler's job as the lead registers it, with the real clock: the event is backdated
    instead of waiting; the outbox's delivery worker (the action server's) sends the alert."""
    backdated = Clock(datetime.now(timezone.utc) - timedelta(minutes=31))
    store = Store(store_url, cipher, clock=backdated)
    crisis(store)
    backdated.now = datetime.now(timezone.utc) - timedelta(minutes=5)
    crisis(store, "too-recent")
    env = {
        "RAPPORT_DATABASE_URL": store_url,
        "RAPPORT_ENCRYPTION_KEYS": encryption_key,
        "RAPPORT_ALERT_WEBHOOK": receiver.url,
        "RAPPORT_ALERT_SECRET": SECRET,
        "RAPPORT_CRISIS_ACK_MINUTES": "30",
    }
    settings = load_settings(env)
    assert run_escalation(settings) == 1
    assert run_escalation(settings) == 0
    worker = AlertOutbox(store.engine, OutboxSettings.from_env(env | {"RAPPORT_ALERT_POLL_SECONDS": "0.1"}))
    worker.start()
    try:
        assert receiver.arrived.wait(10), "the delivery worker did not send the escalation"
    finally:
        worker.stop()
        store.dispose()
    [alert] = receiver.verified()
    assert (alert["kind"], alert["client_id"]) == (ESCALATION_KIND, CLIENT)
    assert json.loads(receiver.bodies[0]) == alert


def test_the_setting_defaults_to_30_minutes_and_refuses_nonsense() -> None:
    assert load_settings({}).crisis_ack_minutes == 30
    assert load_settings({"RAPPORT_CRISIS_ACK_MINUTES": " 45 "}).crisis_ack_minutes == 45
    assert load_settings({"RAPPORT_CRISIS_ACK_MINUTES": "0"}).crisis_ack_minutes == 0
    for bad in ("half an hour", "-5", "2.5"):
        with pytest.raises(ValueError, match="RAPPORT_CRISIS_ACK_MINUTES"):
            load_settings({"RAPPORT_CRISIS_ACK_MINUTES": bad})


def test_triage_order_puts_the_longest_waiting_first() -> None:
    def event(n: int, minutes: int, by: str | None = None) -> EventView:
        at = T0 + timedelta(minutes=minutes)
        return EventView(n, "c", None, "crisis", at, acknowledged_at=at if by else None, acknowledged_by=by)

    events = [event(1, 0, "ana"), event(2, 5), event(3, 10, "ben"), event(4, 1)]
    assert [e.id for e in in_triage_order(events)] == [4, 2, 3, 1]
