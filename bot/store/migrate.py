"""Alembic glue: run the migrations in `bot/migrations/` on a store's engine.

From a shell:

    .venv/bin/alembic -c bot/migrations/alembic.ini upgrade head      # migrate the configured db
    .venv/bin/alembic -c bot/migrations/alembic.ini current           # show its revision
    .venv/bin/alembic -c bot/migrations/alembic.ini revision --autogenerate -m "add x"

(the database comes from RAPPORT_DATABASE_URL, as everywhere else; `python -m bot.review
migrate` does the same as the first line).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.store.errors import StoreError, describe

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_MIGRATION_LOCK = 0x5241_5050  # any constant: the PostgreSQL advisory lock taken while migrating


def alembic_config(url: str | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.attributes["database_url"] = url
    return config



def upgrade(engine: Engine, url: str) -> None:
    """Create or upgrade the schema to the newest Alembic revision (safe to re-run)."""
    from alembic import command
    from alembic.util import CommandError

    if engine.dialect.name == "sqlite":
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    config = alembic_config(url)
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as connection:
            if sqlite:
                # SQLite alters a table by copying and dropping it; with foreign keys on,
                # the drop would cascade into the child tables.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            try:
                with connection.begin():
                    if not sqlite:
                        # Two processes starting at once must not both create the tables.
                        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
            finally:
                if sqlite:
                    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                    connection.commit()
    except SQLAlchemyError as exc:
        raise StoreError(describe(exc)) from exc
    except CommandError as exc:  # e.g. the database is at a revision this code does not know
        raise StoreError(f"cannot migrate: {exc}") from exc


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise StoreError(describe(exc)) from exc


def head_revision() -> str | None:
    """The newest revision in bot/migrations."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
