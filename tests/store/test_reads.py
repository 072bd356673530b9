"""Listing check-ins and clients (bot/store/reads.py, views.py) on real SQLite and real PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import event

from bot.crypto import TextCipher
from bot.store import IN_PROGRESS, Store
from tests.store.support import CLIENT, OTHER, Clock


def test_checkins_and_clients(store_url: str, cipher: TextCipher) -> None:
    clock = Clock(datetime(2024, 2, 1, tzinfo=timezone.utc))
    store = Store(store_url, cipher, clock=clock)
    a1 = store.start_checkin(CLIENT, "rest", shared=True)
    store.record_answer(a1, "team", 5, "always")
    store.complete_checkin(a1, "great")
    clock.advance(days=1)
    b1 = store.start_checkin(OTHER, "rest", shared=False)
    store.record_event(OTHER, "crisis", b1)
    clock.advance(days=1)
    a2 = store.start_checkin(CLIENT, "rest", shared=True)
    store.record_answer(a2, "heard", 1, "no")
    store.set_label(CLIENT, "Sam R. 🌱")

    everything = store.checkins()
    assert [c.id for c in everything] == [a1, b1, a2]
    assert everything[0].summary == "great" and everything[0].answers["team"].text == "always"
    assert [e.kind for e in everything[1].events] == ["crisis"]
    assert everything[2].summary is None and list(everything[2].answers) == ["heard"]
    assert [c.id for c in store.checkins(CLIENT)] == [a1, a2]
    assert store.checkins("nobody") == []

    clients = {c.id: c for c in store.clients()}
    assert clients[CLIENT].label == "Sam R. 🌱"
    assert clients[CLIENT].checkin_count == 2
    assert clients[CLIENT].last_checkin_id == a2
    assert clients[CLIENT].last_checkin_at == datetime(2024, 2, 3, tzinfo=timezone.utc)
    assert clients[CLIENT].last_status == IN_PROGRESS
    assert clients[OTHER].checkin_count == 1 and clients[OTHER].label is None
    assert [c.id for c in store.clients()] == [CLIENT, OTHER]  # latest activity first
    store.set_label(CLIENT, None)
    assert store.client(CLIENT).label is None
    store.dispose()


def test_checkins_use_a_fixed_number_of_queries(sqlite_store: Store) -> None:
    statements: list[str] = []

    def count(*_args: object) -> None:
        statements.append("x")

    def measure() -> int:
        statements.clear()
        event.listen(sqlite_store.engine, "before_cursor_execute", count)
        try:
            sqlite_store.checkins()
        finally:
            event.remove(sqlite_store.engine, "before_cursor_execute", count)
        return len(statements)

    def add(n: int) -> None:
        for i in range(n):
            checkin_id = sqlite_store.start_checkin(f"client-{i}", "rest", shared=True)
            sqlite_store.record_answer(checkin_id, "team", 3, "ok")
            sqlite_store.record_event(f"client-{i}", "crisis", checkin_id)
            sqlite_store.complete_checkin(checkin_id, "fine")

    add(2)
    few = measure()
    add(10)
    assert measure() == few <= 4


def test_checkins_since_and_without_text(store_url: str, cipher: TextCipher) -> None:
    clock = Clock(datetime(2024, 6, 1, tzinfo=timezone.utc))
    store = Store(store_url, cipher, clock=clock)
    old = store.start_checkin(CLIENT, "rest", shared=True)
    store.record_answer(old, "team", 2, "old")
    clock.advance(days=10)
    new = store.start_checkin(OTHER, "rest", shared=True)
    store.record_answer(new, "team", 4, "new words")
    store.record_followup(new, "team", "more")
    store.record_event(OTHER, "crisis", new)
    store.complete_checkin(new, "summary")

    recent = store.checkins(since=datetime(2024, 6, 5, tzinfo=timezone.utc))
    assert [c.id for c in recent] == [new] and recent[0].answers["team"].text == "new words"
    assert [e.kind for e in recent[0].events] == ["crisis"]
    assert store.checkins(CLIENT, since=datetime(2024, 6, 5, tzinfo=timezone.utc)) == []

    bare = store.checkins(include_text=False)
    assert [c.answers["team"].score for c in bare] == [2, 4]
    assert bare[1].answers["team"].text == "" and bare[1].answers["team"].followup is None
    assert bare[1].summary is None and [e.kind for e in bare[1].events] == ["crisis"]
    store.dispose()
