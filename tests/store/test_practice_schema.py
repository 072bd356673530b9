"""The practice tables' guarantees that live in the database itself (migration 0003)."""
from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DatabaseError

from bot.crypto import TextCipher
from bot.store import Store
from bot.store.migrate import alembic_config


def _execute(url: str, sql: str) -> None:
    engine = create_engine(url, future=True)
    try:
        with engine.begin() as connection:
            connection.execute(text(sql))
    finally:
        engine.dispose()


def test_the_audit_log_refuses_updates_and_deletes(store: Store, store_url: str) -> None:
    _execute(store_url, "INSERT INTO audit_log (at, actor, action, client_id) VALUES (CURRENT_TIMESTAMP, 'ana', 'view_client', 'c1')")
    for sql in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"):
            _execute(store_url, sql)
    engine = create_engine(store_url, future=True)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT actor, action, client_id FROM audit_log")).all() == [("ana", "view_client", "c1")]
    engine.dispose()


def test_the_practice_migration_goes_down_and_up_again(make_pg_database, tmp_path: Path, cipher: TextCipher) -> None:
    for url in (f"sqlite:///{tmp_path / 'down.db'}", make_pg_database()):
        store = Store(url, cipher)
        store.migrate()
        config = alembic_config(url)
        command.downgrade(config, "0002")
        tables = set(inspect(store.engine).get_table_names())
        assert "staff" not in tables and "audit_log" not in tables and "clinician_id" not in {
            c["name"] for c in inspect(store.engine).get_columns("client")
        }
        command.upgrade(config, "head")
        assert {"staff", "binding", "invitation", "schedule", "therapy_session", "scheduled_checkin", "audit_log"} <= set(
            inspect(store.engine).get_table_names()
        )
        store.dispose()


def test_upgrading_to_the_practice_schema_keeps_every_check_in(make_pg_database, tmp_path: Path, cipher: TextCipher) -> None:
    """On SQLite the client table is rebuilt to add columns; its check-ins must not cascade away."""
    for url in (f"sqlite:///{tmp_path / 'old.db'}", make_pg_database()):
        command.upgrade(alembic_config(url), "0002")
        _execute(url, "INSERT INTO client (id, label, created_at) VALUES ('c1', NULL, CURRENT_TIMESTAMP)")
        _execute(
            url,
            "INSERT INTO checkin (client_id, channel, status, shared, started_at, updated_at) "
            "VALUES ('c1', 'rest', 'completed', TRUE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        )
        _execute(url, "INSERT INTO event (client_id, checkin_id, kind, created_at) VALUES ('c1', 1, 'crisis', CURRENT_TIMESTAMP)")
        store = Store(url, cipher)
        store.migrate()
        assert store.schema_revision() == "0003"
        assert [c.id for c in store.clients()] == ["c1"]
        assert len(store.checkins("c1")) == 1 and len(store.events("c1")) == 1
        store.dispose()
