"""TriageStore (bot/store/triage.py): acknowledging crisis events, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.crypto import TextCipher
from bot.store import NotFoundError, Store, event_table
from bot.store.triage import ACK_NOTE_MAX
from bot.vocabulary import CRISIS, CRISIS_UNCLEAR, TRIAGE_ACKNOWLEDGED, TRIAGE_NEW
from tests.harness import HOSTILE, Clock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def triage(store_url: str, cipher: TextCipher, clock: Clock):
    s = Store(store_url, cipher, clock=clock)
    yield s
    s.dispose()


def crisis_at(store: Store, clock: Clock, client: str, minutes: int, kind: str = CRISIS) -> int:
    clock.now = T0 + timedelta(minutes=minutes)
    store.record_event(client, kind)
    return max(e.id for e in store.events(client))


def test_a_crisis_event_is_new_until_acknowledged_with_who_when_and_note(triage: Store, clock: Clock) -> None:
    event_id = crisis_at(triage, clock, "c1", 0)
    event = triage.crisis_event(event_id)
    assert event is not None and event.triage_status == TRIAGE_NEW and event.acknowledged_by is None
    clock.now = T0 + timedelta(minutes=12)
    done = triage.acknowledge(event_id, "ana", "  Called the client.\r\nSafe for tonight.  ")
    assert done.done_now
    assert (done.event.triage_status, done.event.acknowledged_by, done.event.acknowledged_at) == (
        TRIAGE_ACKNOWLEDGED, "ana", T0 + timedelta(minutes=12))
    assert done.event.ack_note == "Called the client.\nSafe for tonight."
    assert triage.crisis_event(event_id) == done.event
    # The plain reads carry the status too (not the note, which only the triage reads decrypt).
    [plain] = triage.events("c1")
    assert (plain.acknowledged_by, plain.acknowledged_at, plain.ack_note) == ("ana", T0 + timedelta(minutes=12), None)


def test_the_note_is_encrypted_at_rest(triage: Store, clock: Clock) -> None:
    event_id = crisis_at(triage, clock, "c1", 0)
    triage.acknowledge(event_id, "ana", "spoke to her sister")
    with triage.engine.connect() as connection:
        stored = connection.execute(select(event_table.c.ack_note).where(event_table.c.id == event_id)).scalar_one()
    assert stored and "sister" not in stored
    assert triage.cipher.decrypt(stored) == "spoke to her sister"


def test_a_second_acknowledgement_keeps_the_first(triage: Store, clock: Clock) -> None:
    event_id = crisis_at(triage, clock, "c1", 0)
    first = triage.acknowledge(event_id, "ana", "first note")
    clock.now += timedelta(hours=1)
    second = triage.acknowledge(event_id, "ben", "second note")
    assert first.done_now and not second.done_now
    assert second.event == first.event
    assert (second.event.acknowledged_by, second.event.ack_note) == ("ana", "first note")


@pytest.mark.parametrize("note", ["x" * (ACK_NOTE_MAX + 1), "bell\x07", 42])
def test_a_bad_note_is_refused_and_nothing_is_acknowledged(triage: Store, clock: Clock, note: object) -> None:
    event_id = crisis_at(triage, clock, "c1", 0)
    with pytest.raises(ValueError):
        triage.acknowledge(event_id, "ana", note)  # type: ignore[arg-type]
    assert triage.crisis_event(event_id).triage_status == TRIAGE_NEW  # type: ignore[union-attr]


def test_notes_keep_markup_as_text_and_blank_notes_are_none(triage: Store, clock: Clock) -> None:
    first, second = crisis_at(triage, clock, "c1", 0), crisis_at(triage, clock, "c1", 1)
    assert triage.acknowledge(first, "ana", HOSTILE).event.ack_note == HOSTILE  # escaped where shown
    assert triage.acknowledge(second, "ana", " \n\t ").event.ack_note is None
    assert triage.acknowledge(crisis_at(triage, clock, "c1", 2), "ana", "x" * ACK_NOTE_MAX).done_now


def test_only_crisis_events_can_be_acknowledged(triage: Store, clock: Clock) -> None:
    triage.record_event("c1", "very_low_checkin")
    other = triage.events("c1")[0].id
    for event_id in (other, other + 1000):
        assert triage.crisis_event(event_id) is None
        with pytest.raises(NotFoundError):
            triage.acknowledge(event_id, "ana")
    for impossible in (0, 2**40):
        with pytest.raises(ValueError):
            triage.acknowledge(impossible, "ana")
    with pytest.raises(ValueError):
        triage.acknowledge(crisis_at(triage, clock, "c1", 0), "")


def test_unacknowledged_events_oldest_first_and_crisis_events_by_status(triage: Store, clock: Clock) -> None:
    late = crisis_at(triage, clock, "c2", 30, CRISIS_UNCLEAR)
    early = crisis_at(triage, clock, "c1", 0)
    middle = crisis_at(triage, clock, "c1", 10)
    done = crisis_at(triage, clock, "c3", 5)
    triage.record_event("c1", "very_low_checkin")
    triage.acknowledge(done, "ana")
    assert [e.id for e in triage.unacknowledged_events()] == [early, middle, late]
    assert [e.id for e in triage.unacknowledged_events("c1")] == [early, middle]
    assert [e.id for e in triage.crisis_events()] == [late, middle, done, early]  # newest first
    assert [e.id for e in triage.crisis_events(status=TRIAGE_ACKNOWLEDGED)] == [done]
    assert [e.id for e in triage.crisis_events(status=TRIAGE_NEW)] == [late, middle, early]
    with pytest.raises(ValueError):
        triage.crisis_events(status="everything")


def test_mark_escalated_once_and_never_after_acknowledgement(triage: Store, clock: Clock) -> None:
    left, seen = crisis_at(triage, clock, "c1", 0), crisis_at(triage, clock, "c2", 0)
    triage.acknowledge(seen, "ana")
    at = T0 + timedelta(minutes=31)
    assert triage.escalation_candidates(at) == [left]
    calls: list[int] = []
    assert triage.mark_escalated(left, at, then=lambda _session, event: calls.append(event.id))
    assert not triage.mark_escalated(left, at, then=lambda _session, event: calls.append(event.id))
    assert not triage.mark_escalated(seen, at, then=lambda _session, event: calls.append(event.id))
    assert calls == [left]
    assert triage.crisis_event(left).escalated_at == at  # type: ignore[union-attr]
    assert triage.escalation_candidates(at) == []


def test_escalation_is_undone_when_its_alert_cannot_be_written(triage: Store, clock: Clock) -> None:
    event_id = crisis_at(triage, clock, "c1", 0)

    def fail(_session: object, _event: object) -> None:
        raise RuntimeError("the outbox could not be written")

    with pytest.raises(RuntimeError):
        triage.mark_escalated(event_id, T0 + timedelta(hours=1), then=fail)
    assert triage.crisis_event(event_id).escalated_at is None  # type: ignore[union-attr]
    assert triage.escalation_candidates(T0 + timedelta(hours=1)) == [event_id]
