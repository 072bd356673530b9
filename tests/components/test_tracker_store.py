"""The conversation store (Rasa's tracker store): encrypted at rest, erasable, time-limited.

Runs the real store on SQLite and PostgreSQL, with a real Rasa domain and tracker.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.crypto import generate_key
from components.encryption import read_event
from components.tracker_store import ErasableSQLTrackerStore
from tests.harness import ROOT

WORDS = "she talks over me and I hate it"
DOMAIN = Domain.from_path(ROOT / "domain.yml")


def connection_kwargs(url: str) -> dict:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {"dialect": "sqlite", "db": parsed.database}
    return {"dialect": "postgresql", "host": parsed.host, "port": parsed.port,
            "db": parsed.database, "username": parsed.username, "password": parsed.password}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tracker.db'}"
    return request.getfixturevalue("make_pg_database")()


@pytest.fixture
def make_store(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., ErasableSQLTrackerStore]:
    monkeypatch.setenv("RAPPORT_RETENTION_DAYS", "30")

    def make(keys: str | None = None) -> ErasableSQLTrackerStore:
        monkeypatch.setenv("RAPPORT_ENCRYPTION_KEYS", keys or generate_key())
        return ErasableSQLTrackerStore(domain=DOMAIN, **connection_kwargs(db_url))

    return make


def stored_data(db_url: str) -> list[str]:
    engine = create_engine(db_url, future=True)
    with engine.connect() as connection:
        rows = [row[0] for row in connection.execute(text("SELECT data FROM events ORDER BY id"))]
    engine.dispose()
    return rows


def conversation(sender: str = "client-1", at: float | None = None) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    at = time.time() if at is None else at
    tracker.update(ActionExecuted("action_listen", timestamp=at))
    tracker.update(UserUttered(WORDS, {"name": "answer", "confidence": 0.9}, timestamp=at + 1))
    tracker.update(SlotSet("heard", WORDS, timestamp=at + 2))
    return tracker


def test_the_clients_words_are_encrypted_at_rest_and_read_back(make_store, db_url: str):
    store = make_store()
    asyncio.run(store.save(conversation()))
    stored = stored_data(db_url)
    assert len(stored) == 3 and all(row.startswith("gAAAA") for row in stored)  # Fernet tokens
    assert not any("talks over me" in row for row in stored)

    back = asyncio.run(store.retrieve("client-1"))
    assert back.latest_message.text == WORDS and back.get_slot("heard") == WORDS


def test_rows_written_before_encryption_stay_readable_and_rotation_encrypts_them(make_store, db_url: str):
    old_key, new_key = generate_key(), generate_key()
    store = make_store(old_key)
    asyncio.run(store.save(conversation()))
    engine = create_engine(db_url, future=True)  # one row as plain Rasa wrote it, one with the old key
    with engine.begin() as connection:
        first_id = connection.execute(text("SELECT min(id) FROM events")).scalar()
        plain = json.dumps(read_event(stored_data(db_url)[0], store.cipher))
        connection.execute(text("UPDATE events SET data = :d WHERE id = :i"), {"d": plain, "i": first_id})
    engine.dispose()

    rotated = make_store(f"{new_key},{old_key}")
    assert asyncio.run(rotated.retrieve("client-1")).latest_message.text == WORDS
    assert rotated.rotate_keys() == 3
    only_new = make_store(new_key)  # the old key dropped after rotation: all still readable
    assert asyncio.run(only_new.retrieve("client-1")).get_slot("heard") == WORDS
    assert all(row.startswith("gAAAA") for row in stored_data(db_url))


def test_a_missing_key_stops_the_server_instead_of_storing_plain_text(make_store, monkeypatch):
    make_store()
    monkeypatch.setenv("RAPPORT_ENCRYPTION_KEYS", "")
    with pytest.raises(RuntimeError, match="RAPPORT_ENCRYPTION_KEYS"):
        ErasableSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=":memory:")


def test_delete_my_data_erases_only_that_conversation(make_store):
    store = make_store()
    asyncio.run(store.save(conversation("client-1")))
    asyncio.run(store.save(conversation("client-2")))
    erasing = conversation("client-1")
    erasing.update(SlotSet("erase_conversation", True))
    asyncio.run(store.save(erasing))
    assert asyncio.run(store.retrieve("client-1")) is None
    assert asyncio.run(store.retrieve("client-2")).get_slot("heard") == WORDS


def test_events_past_the_retention_period_are_deleted(make_store):
    store = make_store()  # RAPPORT_RETENTION_DAYS=30
    now = time.time()
    asyncio.run(store.save(conversation("old", at=now - 31 * 86400)))
    asyncio.run(store.save(conversation("recent", at=now - 29 * 86400)))
    assert asyncio.run(store.retrieve("old")) is None  # the save above already purged it
    assert asyncio.run(store.retrieve("recent")) is not None
    asyncio.run(store.save(conversation("old", at=now - 40 * 86400)))
    assert asyncio.run(store.retrieve("old")) is not None  # checked at most hourly...
    assert store.purge_expired(now=now + 3601) == 3  # ...and then it goes
    assert asyncio.run(store.retrieve("old")) is None


def test_rotate_keys_command_reads_the_endpoints_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    key, db = generate_key(), tmp_path / "tracker.db"
    monkeypatch.setenv("RAPPORT_ENCRYPTION_KEYS", key)
    asyncio.run(ErasableSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db)).save(conversation()))
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: components.tracker_store.ErasableSQLTrackerStore\n"
                         f"  dialect: sqlite\n  db: {db}\n")
    env = {"RAPPORT_ENCRYPTION_KEYS": f"{generate_key()},{key}", "PYTHONPATH": str(ROOT),
           "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "components.tracker_store", "rotate-keys",
                             "--endpoints", str(endpoints)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Re-encrypted 3 conversation events" in result.stdout
