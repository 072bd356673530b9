"""Schedules, sessions and scheduled check-ins (bot/store/schedules.py) on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from bot.crypto import TextCipher
from bot.store import NotFoundError, Store
from bot.vocabulary import AFTER_SESSION, DUE_CANCELLED, DUE_COMPLETED, DUE_EXPIRED, DUE_PENDING, DUE_SENT, WEEKLY

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)  # the clocked fixture's CLOCK_START (conftest.py)
HOUR = timedelta(hours=1)
SCHEDULE = {"kind": AFTER_SESSION, "send_time": "10:00", "remind_after_hours": 24, "max_reminders": 2, "window_days": 3}




def enrolled(store: Store, **kwargs) -> str:
    return store.enrol_client(name="Jo", clinician_id=None, timezone="Europe/London", **kwargs)


def test_a_schedule_is_set_replaced_and_read_with_the_clients_time_zone(clocked) -> None:
    store, _ = clocked
    client = enrolled(store)
    assert store.schedule(client) is None
    store.set_schedule(client, **SCHEDULE, quiet_start="21:00", quiet_end="08:00")
    store.set_schedule(client, **{**SCHEDULE, "kind": WEEKLY}, weekday=3)
    found = store.schedule(client)
    assert found is not None and (found.kind, found.weekday, found.quiet_start) == (WEEKLY, 3, None)
    assert (found.timezone, found.updated_at, found.active) == ("Europe/London", NOW, True)
    assert [s.client_id for s in store.active_schedules()] == [client]
    store.set_client_stopped(client, True)
    assert store.active_schedules() == []


@pytest.mark.parametrize("bad", [{"kind": "daily"}, {"kind": WEEKLY}, {"send_time": "9:00"}, {"quiet_start": "25:00"}])
def test_a_bad_schedule_is_refused(clocked, bad) -> None:
    store, _ = clocked
    with pytest.raises(ValueError):
        store.set_schedule(enrolled(store), **{**SCHEDULE, **bad})


def test_a_schedule_for_nobody_is_refused(clocked) -> None:
    store, _ = clocked
    with pytest.raises(NotFoundError):
        store.set_schedule("nobody", **SCHEDULE)


def test_sessions_are_added_imported_and_deduplicated_by_time_and_calendar_uid(clocked) -> None:
    store, _ = clocked
    client = enrolled(store)
    monday = datetime(2026, 12, 7, 15, 0, tzinfo=timezone.utc)
    assert store.add_session(client, monday) is True
    assert store.add_session(client, monday) is False  # the same time again
    first = store.import_sessions(client, [(monday + timedelta(days=7), "uid-1@cal"), (monday, "uid-2@cal")], "ics")
    assert (first.added, first.moved, first.unchanged) == (1, 0, 1)
    again = store.import_sessions(client, [(monday + timedelta(days=7), "uid-1@cal")], "ics")
    assert (again.added, again.moved, again.unchanged) == (0, 0, 1)
    moved = store.import_sessions(client, [(monday + timedelta(days=8), "uid-1@cal")], "ics")  # rescheduled
    assert (moved.added, moved.moved) == (0, 1)
    sessions = store.sessions(client)
    assert [(s.starts_at, s.source, s.uid) for s in sessions] == [
        (monday, "manual", None), (monday + timedelta(days=8), "ics", "uid-1@cal"),
    ]
    assert store.delete_session(client, sessions[0].id) is True
    assert store.delete_session(client, sessions[0].id) is False
    assert store.session_times([client], monday) == {client: [monday + timedelta(days=8)]}
    with pytest.raises(ValueError):
        store.add_session(client, datetime(2026, 12, 7, 15, 0))  # naive


def test_planning_is_idempotent_and_shows_as_the_next_check_in(clocked) -> None:
    store, _ = clocked
    client = enrolled(store)
    windows = [(NOW + HOUR, NOW + 73 * HOUR), (NOW + 2 * HOUR, NOW + 74 * HOUR)]
    assert store.plan_checkins(client, windows) == 2
    assert store.plan_checkins(client, windows) == 0
    summary = store.schedule_summaries([client])[client]
    assert (summary.next_due_at, summary.sent, summary.completed, summary.response_rate) == (NOW + HOUR, 0, 0, None)


def test_changing_the_schedule_drops_what_was_planned_and_not_sent(clocked) -> None:
    store, clock = clocked
    client = enrolled(store)
    store.set_schedule(client, **SCHEDULE)
    store.plan_checkins(client, [(NOW, NOW + 72 * HOUR), (NOW + 48 * HOUR, NOW + 120 * HOUR)])
    [claimed] = store.claim_due("w1", timedelta(minutes=5))
    store.mark_sent(claimed.id, "w1", None)
    store.set_schedule(client, **{**SCHEDULE, "send_time": "11:00"})
    assert [(r.due_at, r.status) for r in store.scheduled_checkins(client)] == [(NOW, DUE_SENT)]


def test_a_due_check_in_is_claimed_once_then_sent_reminded_and_expired(clocked) -> None:
    store, clock = clocked
    client = enrolled(store)
    store.plan_checkins(client, [(NOW + HOUR, NOW + 73 * HOUR)])
    assert store.claim_due("w1", timedelta(minutes=5)) == []  # not due yet
    clock["now"] = NOW + HOUR
    [claim] = store.claim_due("w1", timedelta(minutes=5))
    assert not claim.is_reminder
    assert store.claim_due("w2", timedelta(minutes=5)) == []  # leased to w1
    assert store.mark_sent(claim.id, "w2", None) is False  # not w2's to record
    assert store.mark_sent(claim.id, "w1", NOW + 25 * HOUR) is True
    clock["now"] = NOW + 25 * HOUR
    [reminder] = store.claim_due("w2", timedelta(minutes=5))
    assert reminder.is_reminder and reminder.reminders_sent == 0
    assert store.mark_reminded(reminder.id, "w2", None) is True
    assert store.claim_due("w1", timedelta(minutes=5)) == []  # no more reminders
    clock["now"] = NOW + 73 * HOUR
    assert store.close_windows() == (0, 1)
    [row] = store.scheduled_checkins(client)
    assert (row.status, row.sent_at, row.reminders_sent) == (DUE_EXPIRED, NOW + HOUR, 1)
    summary = store.schedule_summaries([client])[client]
    assert (summary.sent, summary.completed, summary.response_rate, summary.next_due_at) == (1, 0, 0.0, None)


def test_a_lease_that_ran_out_can_be_claimed_again(clocked) -> None:
    store, clock = clocked
    client = enrolled(store)
    store.plan_checkins(client, [(NOW, NOW + 72 * HOUR)])
    [claim] = store.claim_due("w1", timedelta(minutes=5))
    clock["now"] = NOW + timedelta(minutes=6)  # w1 died mid-send
    [again] = store.claim_due("w2", timedelta(minutes=5))
    assert again.id == claim.id
    assert store.mark_sent(claim.id, "w1", None) is False


def test_released_until_later_is_not_claimed_before(clocked) -> None:
    store, clock = clocked
    client = enrolled(store)
    store.plan_checkins(client, [(NOW, NOW + 72 * HOUR)])
    [claim] = store.claim_due("w1", timedelta(minutes=5))
    assert store.release(claim.id, "w1", NOW + 10 * HOUR) is True
    clock["now"] = NOW + 9 * HOUR
    assert store.claim_due("w1", timedelta(minutes=5)) == []
    clock["now"] = NOW + 10 * HOUR
    assert len(store.claim_due("w1", timedelta(minutes=5))) == 1


def test_a_check_in_completed_in_the_window_completes_it_whichever_id_it_was_kept_under(clocked) -> None:
    store, clock = clocked
    client, other = enrolled(store), enrolled(store)
    conversation = "c" * 64
    store.bind_conversation(conversation, client, "telegram", "4242")
    store.plan_checkins(client, [(NOW, NOW + 72 * HOUR), (NOW + 96 * HOUR, NOW + 168 * HOUR)])
    store.plan_checkins(other, [(NOW, NOW + 72 * HOUR)])
    [first, _] = store.claim_due("w1", timedelta(minutes=5))
    store.mark_sent(first.id, "w1", NOW + 24 * HOUR)
    early = store.start_checkin(conversation, "telegram", True)  # started before the window ...
    clock["now"] = NOW + 5 * HOUR
    store.complete_checkin(early, "thanks")  # ... completed inside it, in the bound conversation
    assert store.close_windows() == (1, 0)
    rows = store.scheduled_checkins(client)
    assert [(r.status, r.checkin_id, r.completed_at, r.next_reminder_at) for r in rows] == [
        (DUE_COMPLETED, early, NOW + 5 * HOUR, None), (DUE_PENDING, None, None, None),
    ]
    assert store.scheduled_checkins(other)[0].status == DUE_PENDING  # someone else's check-in counts not
    clock["now"] = NOW + 72 * HOUR
    assert store.close_windows() == (0, 1)  # the other client's, never sent
    assert store.scheduled_checkins(other)[0].status == DUE_CANCELLED
    summary = store.schedule_summaries()
    assert (summary[client].sent, summary[client].completed, summary[client].response_rate) == (1, 1, 1.0)
    assert summary[other].sent == 0


def test_two_workers_racing_claim_each_row_exactly_once(store_url: str, cipher: TextCipher) -> None:
    clock = {"now": NOW}
    stores = [Store(store_url, cipher, clock=lambda: clock["now"]) for _ in range(4)]
    try:
        clients = [enrolled(stores[0]) for _ in range(10)]
        for client in clients:
            stores[0].plan_checkins(client, [(NOW - timedelta(minutes=i), NOW + 72 * HOUR) for i in range(3)])
        claims: dict[str, list[int]] = {}
        barrier = threading.Barrier(len(stores))

        def work(index: int) -> None:
            barrier.wait()
            claims[f"w{index}"] = [c.id for c in stores[index].claim_due(f"w{index}", timedelta(minutes=5), limit=100)]

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(stores))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        every = [row_id for ids in claims.values() for row_id in ids]
        assert len(every) == 30 and len(set(every)) == 30
    finally:
        for s in stores:
            s.dispose()
