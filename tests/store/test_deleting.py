"""Deleting a client and purging old data (bot/store/api.py) on real SQLite and real PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.crypto import TextCipher
from bot.store import Store
from tests.store.support import CLIENT, OTHER, Clock, raw_rows


def test_delete_client_cascades(store: Store, store_url: str) -> None:
    for client in (CLIENT, OTHER):
        checkin_id = store.start_checkin(client, "rest", shared=True)
        store.record_answer(checkin_id, "team", 3, "x")
        store.record_followup(checkin_id, "team", "y")
        store.record_event(client, "crisis", checkin_id)
        store.record_event(client, "crisis")
        store.complete_checkin(checkin_id, "s")
    store.start_checkin(CLIENT, "rest", shared=True)

    assert store.delete_client(CLIENT) == 2
    assert store.delete_client(CLIENT) == 0
    for table, expected in (("client", 1), ("checkin", 1), ("answer", 1), ("summary", 1), ("event", 2)):
        assert raw_rows(store_url, f"SELECT count(*) FROM {table}") == [(expected,)], table
    assert store.checkins(CLIENT) == [] and store.events(CLIENT) == []
    assert len(store.checkins(OTHER)) == 1


def test_purge_deletes_only_old_data(store_url: str, cipher: TextCipher) -> None:
    clock = Clock(datetime(2024, 1, 1, tzinfo=timezone.utc))
    store = Store(store_url, cipher, clock=clock)
    old = store.start_checkin(OTHER, "rest", shared=True)
    store.record_answer(old, "team", 2, "old words")
    store.record_event(OTHER, "crisis", old)
    store.record_event(OTHER, "crisis")
    store.complete_checkin(old, "old summary")
    kept_client_old_checkin = store.start_checkin(CLIENT, "rest", shared=True)
    clock.advance(days=200)
    recent = store.start_checkin(CLIENT, "rest", shared=True)  # abandons the old one: activity now
    store.record_answer(recent, "team", 4, "new words")
    clock.advance(days=1)

    with pytest.raises(ValueError):
        store.purge(timedelta(0))
    assert store.purge(timedelta(days=180)) == 1
    assert [c.id for c in store.checkins()] == [kept_client_old_checkin, recent]
    assert [c.id for c in store.clients()] == [CLIENT]  # OTHER has nothing left
    assert raw_rows(store_url, "SELECT count(*) FROM answer") == [(1,)]
    assert raw_rows(store_url, "SELECT count(*) FROM event") == [(0,)]
    assert raw_rows(store_url, "SELECT count(*) FROM summary") == [(0,)]
    assert store.purge(timedelta(days=180)) == 0
    store.dispose()


def test_foreign_keys_are_enforced_on_sqlite(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with pytest.raises(Exception, match="FOREIGN KEY"):
        with sqlite_store.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO checkin (client_id, channel, status, shared, started_at, updated_at) "
                "VALUES ('ghost', 'rest', 'in_progress', 1, '2024-01-01', '2024-01-01')"
            )
