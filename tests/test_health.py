"""Readiness checks (bot/health.py) against real databases, in-process.

The /healthz and /readyz routes of the real servers are tested in tests/e2e/test_operations.py.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

from bot import health
from bot.crypto import TextCipher
from bot.store import Store


def ready(store: Store) -> tuple[int, dict]:
    return asyncio.run(health.readiness(health.store_checks(store)))


def test_ready_when_the_store_is_migrated(sqlite_url: str, cipher: TextCipher):
    status, body = ready(Store(sqlite_url, cipher))
    assert status == 200 and body["status"] == "ready"
    assert body["checks"]["migrations"]["ok"] and body["checks"]["database"]["ok"]


def test_not_ready_on_a_fresh_sqlite_file(tmp_path: Path, cipher: TextCipher):
    status, body = ready(Store(f"sqlite:///{tmp_path / 'fresh.db'}", cipher))
    assert status == 503 and body["status"] == "not ready"
    assert body["checks"]["database"]["ok"] and not body["checks"]["migrations"]["ok"]
    assert "never migrated" in body["checks"]["migrations"]["detail"]


def test_not_ready_when_postgresql_has_no_such_database(make_pg_database, cipher: TextCipher):
    url = make_pg_database().rsplit("/", 1)[0] + "/rapport_no_such_database"
    status, body = ready(Store(url, cipher))
    assert status == 503 and not body["checks"]["database"]["ok"]
    assert "postgres" not in json.dumps(body)  # no URL, user or host in the answer


def test_a_hanging_check_is_not_ready_within_its_time_limit():
    import time

    status, body = asyncio.run(health.readiness({"slow": lambda: time.sleep(3) or "ok"}, timeout=0.2))
    assert status == 503 and "no answer within" in body["checks"]["slow"]["detail"]


def test_a_sql_database_is_ready_only_with_its_table(tmp_path: Path):
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path / 'tracker.db'}", future=True)
    check = {"tracker_store": health.sql_table_check(engine, "events")}
    status, body = asyncio.run(health.readiness(check))
    assert status == 503 and "has no 'events' table" in body["checks"]["tracker_store"]["detail"]
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY)"))
    assert asyncio.run(health.readiness(check))[0] == 200
    engine.dispose()


def test_a_probe_that_raises_or_says_no_is_not_ready_and_names_no_secret():
    def refused() -> bool:
        raise ConnectionError("redis://:hunter2@cache:6379 refused")

    status, body = asyncio.run(health.readiness({
        "lock_store": health.probe_check(refused, "Redis"),
        "event_broker": health.probe_check(lambda: False, "the event broker", no="is not connected"),
    }))
    assert status == 503
    assert body["checks"]["lock_store"]["detail"] == "Redis cannot be reached (ConnectionError)"
    assert body["checks"]["event_broker"]["detail"] == "the event broker is not connected"
    assert "hunter2" not in json.dumps(body)
