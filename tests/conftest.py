"""Shared fixtures.

Databases:
- `store_url`: URL of an empty, migrated database, once per backend (SQLite file, real
  PostgreSQL). Tests using it (or `store`) run twice. PostgreSQL tests skip, with the reason,
  when no server answers at 127.0.0.1:5432 (override with RAPPORT_TEST_PG_ADMIN_URL).
- `store`: a `Store` on `store_url` with a fresh encryption key (`cipher`).
- `sqlite_store`: the same on SQLite only, for tests that do not care about the backend.
- `pg_url`: a throwaway PostgreSQL database for this test session (dropped afterwards);
  `make_pg_database()` makes more of them (e.g. for migration tests that need an empty one).
- `cli_env`: environment for running `python -m bot.review` (or other entry points) in a
  subprocess against a migrated temp SQLite database, with an id secret and an encryption key.
- `cli`: `bot.review`'s main() run in this process with `cli_env`'s settings:
  `cli("list")` returns (exit code, stdout, stderr).
"""
from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot import review  # noqa: E402
from bot.crypto import TextCipher, generate_key  # noqa: E402
from bot.store import Store  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "RAPPORT_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
_TABLES = (
    "alert_outbox", "scheduled_checkin", "therapy_session", "schedule", "invitation", "binding",
    "event", "summary", "answer", "checkin", "client", "staff",
)
_APPEND_ONLY = ("audit_log",)  # its trigger refuses DELETE; TRUNCATE is not a row operation


# --------------------------------------------------------------------------- keys


@pytest.fixture
def encryption_key() -> str:
    return generate_key()


@pytest.fixture
def cipher(encryption_key: str) -> TextCipher:
    return TextCipher([encryption_key])


# --------------------------------------------------------------------------- PostgreSQL


def _pg_admin_engine():
    return create_engine(
        PG_ADMIN_URL,
        future=True,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
    )


@pytest.fixture(scope="session")
def make_pg_database() -> Iterator[Callable[[], str]]:
    """A factory of fresh, empty PostgreSQL databases; all are dropped at session end."""
    engine = _pg_admin_engine()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the server means: skip, saying why
        engine.dispose()
        pytest.skip(f"PostgreSQL not reachable at {make_url(PG_ADMIN_URL).render_as_string(hide_password=True)}: {type(exc).__name__}")
    created: list[str] = []

    def make() -> str:
        name = f"rapport_test_{uuid.uuid4().hex[:12]}"
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
            # Throwaway data: skip waiting for the WAL flush on commit (much faster tests).
            connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        created.append(name)
        return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    with engine.connect() as connection:
        for name in created:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def pg_url(make_pg_database: Callable[[], str]) -> str:
    """One throwaway PostgreSQL database for the whole test session (not migrated)."""
    return make_pg_database()


@pytest.fixture(scope="session")
def _migrated_pg_url(make_pg_database: Callable[[], str]) -> str:
    url = make_pg_database()
    store = Store(url, TextCipher([generate_key()]))
    store.migrate()
    store.dispose()
    return url


# --------------------------------------------------------------------------- SQLite


def _ram_dir() -> Path | None:
    """/dev/shm when usable: SQLite commits there skip the disk's fsync (~15 ms each)."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else None


@pytest.fixture(scope="session")
def _migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "rapport.db"
    store = Store(f"sqlite:///{path}", TextCipher([generate_key()]))
    store.migrate()
    store.dispose()
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, _migrated_sqlite_template: Path) -> Iterator[str]:
    """URL of a migrated, empty SQLite database file private to this test."""
    ram = _ram_dir()
    directory = Path(tempfile.mkdtemp(prefix="rapport-test-", dir=ram)) if ram else tmp_path
    path = directory / "rapport.db"
    shutil.copyfile(_migrated_sqlite_template, path)
    yield f"sqlite:///{path}"
    if ram:
        shutil.rmtree(directory, ignore_errors=True)


# --------------------------------------------------------------------------- stores


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database on each backend in turn."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    url = request.getfixturevalue("_migrated_pg_url")
    engine = create_engine(url, future=True)
    with engine.begin() as connection:
        # DELETE, not TRUNCATE: on a handful of rows it is ~50x faster. Ids keep counting up.
        for table in _TABLES:
            connection.execute(text(f"DELETE FROM {table}"))
        for table in _APPEND_ONLY:
            connection.execute(text(f"TRUNCATE {table}"))
    engine.dispose()
    return url


@pytest.fixture
def store(store_url: str, cipher: TextCipher) -> Iterator[Store]:
    s = Store(store_url, cipher)
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(sqlite_url: str, cipher: TextCipher) -> Iterator[Store]:
    s = Store(sqlite_url, cipher)
    yield s
    s.dispose()


# --------------------------------------------------------------------------- subprocesses


@pytest.fixture
def cli_env(tmp_path: Path, sqlite_url: str, encryption_key: str) -> dict[str, str]:
    """Environment for a subprocess run from PROJECT_ROOT against this test's SQLite db."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAPPORT_")}
    env.update(
        RAPPORT_DATABASE_URL=sqlite_url,
        RAPPORT_DATA_DIR=str(tmp_path / "data"),
        RAPPORT_ENCRYPTION_KEYS=encryption_key,
        RAPPORT_ID_SECRET="test-secret-" + uuid.uuid4().hex,
        RASA_TELEMETRY_ENABLED="false",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    return env


@pytest.fixture
def cli(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run `bot.review.main` in this process with cli_env's settings; returns (exit code, stdout, stderr)."""
    for key, value in cli_env.items():
        if key.startswith("RAPPORT_"):
            monkeypatch.setenv(key, value)

    def call(*args: str) -> tuple[int, str, str]:
        out = io.StringIO()
        try:
            code = review.main(list(args), out=out)
        except SystemExit as exit_:  # argparse
            code = exit_.code
        captured = capsys.readouterr()
        return code, out.getvalue() + captured.out, captured.err

    return call
