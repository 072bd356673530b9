"""The schema and its migrations (bot/store/schema.py, migrate.py; bot/migrations/) and how
database errors reach callers (bot/store/errors.py), on real SQLite and real PostgreSQL."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from bot.config import load_settings
from bot.crypto import TextCipher, generate_key
from bot.store import Store, StoreError
from tests.store.support import CLIENT, raw_rows


def test_migrations_run_from_empty_and_rerun(make_pg_database, tmp_path: Path, cipher: TextCipher) -> None:
    for url in (f"sqlite:///{tmp_path / 'fresh.db'}", make_pg_database()):
        store = Store(url, cipher)
        assert store.schema_revision() is None and store.needs_migration()
        store.migrate()
        store.migrate()
        assert store.schema_revision() == Store.head_revision() and not store.needs_migration()
        tables = set(inspect(store.engine).get_table_names())
        assert {"client", "checkin", "answer", "summary", "event", "alembic_version"} <= tables
        checkin_id = store.start_checkin(CLIENT, "rest", shared=True)
        store.migrate()  # data survives a re-run
        assert store.checkin(checkin_id) is not None
        store.dispose()


def test_models_match_the_migrations(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import bot.outbox  # noqa: F401 - its table is declared on the same metadata
    from bot.store import Base

    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_concurrent_migrations_on_postgresql(make_pg_database, cipher: TextCipher) -> None:
    from concurrent.futures import ThreadPoolExecutor

    url = make_pg_database()
    stores = [Store(url, cipher) for _ in range(3)]
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda s: s.migrate(), stores))  # raises if any of them failed
    assert all(s.schema_revision() == Store.head_revision() for s in stores)
    for s in stores:
        s.dispose()


def test_the_documented_alembic_command_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, RAPPORT_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}")
    alembic = [sys.executable, "-m", "alembic", "-c", "bot/migrations/alembic.ini"]
    upgraded = subprocess.run([*alembic, "upgrade", "head"], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert upgraded.returncode == 0, upgraded.stderr
    checked = subprocess.run([*alembic, "check"], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr  # the models and the migrations agree
    assert raw_rows(env["RAPPORT_DATABASE_URL"], "SELECT version_num FROM alembic_version") == [(Store.head_revision(),)]


def test_a_database_from_newer_code_is_a_store_error(sqlite_store: Store, sqlite_url: str) -> None:
    engine = create_engine(sqlite_url, future=True)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'fromthefuture'"))
    engine.dispose()
    with pytest.raises(StoreError, match="cannot migrate"):
        sqlite_store.migrate()
    assert sqlite_store.needs_migration()


# --------------------------------------------------------------------- errors


def test_database_errors_are_store_errors(tmp_path: Path, cipher: TextCipher) -> None:
    unmigrated = Store(f"sqlite:///{tmp_path / 'empty.db'}", cipher)
    with pytest.raises(StoreError):
        unmigrated.start_checkin(CLIENT, "rest", shared=True)
    unreachable = Store("postgresql://postgres@127.0.0.1:1/nothing", cipher)
    with pytest.raises(StoreError):
        unreachable.checkins()
    missing_dir = Store(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}", cipher)
    with pytest.raises(StoreError):
        missing_dir.clients()
    missing_dir.migrate()  # creates the directory
    assert missing_dir.clients() == []
    with pytest.raises(StoreError):
        Store("mysql://x@localhost/db", cipher)
    with pytest.raises(StoreError):
        Store("not a url", cipher)


def test_from_settings_needs_a_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(StoreError, match="RAPPORT_ENCRYPTION_KEYS"):
        Store.from_settings(load_settings({"RAPPORT_DATABASE_URL": url}))
    with pytest.raises(StoreError, match="RAPPORT_ENCRYPTION_KEYS"):
        Store.from_settings(load_settings({"RAPPORT_DATABASE_URL": url, "RAPPORT_ENCRYPTION_KEYS": "nope"}))
    key = generate_key()
    store = Store.from_settings(
        load_settings({"RAPPORT_DATABASE_URL": url, "RAPPORT_ENCRYPTION_KEYS": f"{generate_key()}, {key}"})
    )
    assert store.url == url and store.cipher.key_count == 2
