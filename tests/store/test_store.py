"""The Store on real SQLite and real PostgreSQL."""
from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError

from bot.config import load_settings
from bot.crypto import TextCipher, generate_key
from bot.dimensions import DIMENSIONS
from bot.store import (
    ABANDONED,
    COMPLETED,
    IN_PROGRESS,
    FinalAnswer,
    PAUSED,
    NotFoundError,
    Store,
    StoreError,
    UnreadableTextError,
)

CLIENT = "a" * 64
OTHER = "b" * 64


class Clock:
    """A settable clock, so tests can make data old."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def raw_rows(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text(sql))]
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- basics


def test_a_full_checkin_round_trips(store: Store) -> None:
    checkin_id = store.start_checkin(CLIENT, "rest", shared=True)
    for score, dimension in enumerate(DIMENSIONS, start=1):
        store.record_answer(checkin_id, dimension, score, f"words for {dimension}")
    store.record_followup(checkin_id, "team", "they forget what I said")
    store.complete_checkin(checkin_id, "You feel mostly heard.")

    view = store.checkin(checkin_id)
    assert view is not None
    assert view.client_id == CLIENT and view.channel == "rest" and view.shared is True
    assert view.status == COMPLETED
    assert view.completed_at is not None and view.completed_at.tzinfo == timezone.utc
    assert list(view.answers) == list(DIMENSIONS)
    assert [a.score for a in view.answers.values()] == [1, 2, 3, 4, 5]
    assert view.answers["heard"].text == "words for heard"
    assert view.answers["team"].followup == "they forget what I said"
    assert view.answers["heard"].followup is None
    assert view.answers["understood"].level == "completely"
    assert view.summary == "You feel mostly heard."
    assert store.answers(checkin_id) == view.answers
    assert store.last_completed(CLIENT) == view
    assert store.open_checkin(CLIENT) is None


def test_completing_with_answers_writes_them_all_with_the_summary(store: Store) -> None:
    checkin_id = store.start_checkin(CLIENT, "rest", shared=True)
    store.record_answer(checkin_id, "team", 1, "an earlier answer, changed since")
    answers = [
        FinalAnswer("team", 2, "not really", followup="she talks over me"),
        FinalAnswer("heard", None, "", skipped=True),
        FinalAnswer("warmth", 4, "mostly"),
        FinalAnswer("worth", 5, "100%"),
        FinalAnswer("understood", 3, "sometimes?"),
    ]
    store.complete_checkin(checkin_id, "Here's what I heard", answers)
    store.complete_checkin(checkin_id, "Here's what I heard", answers)  # a retried action

    view = store.checkin(checkin_id)
    assert view.status == COMPLETED and view.summary == "Here's what I heard"
    assert {d: (a.score, a.text, a.skipped, a.followup) for d, a in view.answers.items()} == {
        "team": (2, "not really", False, "she talks over me"),
        "heard": (None, "", True, None),
        "warmth": (4, "mostly", False, None),
        "worth": (5, "100%", False, None),
        "understood": (3, "sometimes?", False, None),
    }


@pytest.mark.parametrize("bad", [
    FinalAnswer("rapport", 3, "x"),
    FinalAnswer("team", 9, "x"),
    FinalAnswer("team", 3, None),  # type: ignore[arg-type]
    FinalAnswer("team", 3, "x", skipped=True),
    FinalAnswer("team", 3, "x", followup=7),  # type: ignore[arg-type]
])
def test_completing_with_a_bad_answer_writes_nothing(store: Store, bad: FinalAnswer) -> None:
    checkin_id = store.start_checkin(CLIENT, "rest", shared=True)
    with pytest.raises((ValueError, TypeError)):
        store.complete_checkin(checkin_id, "summary", [FinalAnswer("worth", 5, "yes"), bad])
    view = store.checkin(checkin_id)
    assert view.status == IN_PROGRESS and view.summary is None and view.answers == {}


def test_completion_is_all_or_nothing_when_the_database_fails(store: Store) -> None:
    checkin_id = store.start_checkin(CLIENT, "rest", shared=True)
    store.record_answer(checkin_id, "team", 3, "somewhat")

    def fail_on_summary(conn, cursor, statement, *args):  # the last write of the transaction
        if "INSERT INTO summary" in statement:
            raise OperationalError(statement, {}, Exception("disk I/O error"))

    event.listen(store.engine, "before_cursor_execute", fail_on_summary)
    try:
        with pytest.raises(StoreError):
            store.complete_checkin(checkin_id, "summary", [
                FinalAnswer("team", 5, "completely", followup="more"), FinalAnswer("heard", 4, "mostly")])
    finally:
        event.remove(store.engine, "before_cursor_execute", fail_on_summary)
    view = store.checkin(checkin_id)
    assert view.status == IN_PROGRESS and view.summary is None
    assert set(view.answers) == {"team"}
    assert (view.answers["team"].score, view.answers["team"].followup) == (3, None)


def test_views_are_frozen_plain_values(store: Store) -> None:
    checkin_id = store.start_checkin(CLIENT, "rest", shared=True)
    store.record_answer(checkin_id, "team", 4, "yes")
    view = store.checkin(checkin_id)
    with pytest.raises(FrozenInstanceError):
        view.status = "completed"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        view.answers["team"].score = 1  # type: ignore[misc]
    for stamp in (view.started_at, view.updated_at, view.answers["team"].created_at):
        assert stamp.tzinfo == timezone.utc


def test_unknown_ids_give_none_or_not_found(store: Store) -> None:
    assert store.checkin(999) is None
    assert store.open_checkin(CLIENT) is None
    assert store.last_completed(CLIENT) is None
    assert store.answers(999) == {}
    assert store.checkins(CLIENT) == []
    with pytest.raises(NotFoundError):
        store.record_answer(999, "team", 3, "x")
    with pytest.raises(NotFoundError):
        store.set_status(999, PAUSED)
    with pytest.raises(NotFoundError):
        store.complete_checkin(999, "x")
    with pytest.raises(NotFoundError):
        store.record_event(CLIENT, "crisis", checkin_id=999)
    with pytest.raises(NotFoundError):
        store.set_label("nobody", "Sam")
    assert isinstance(NotFoundError("x"), StoreError)


def test_answer_upsert_is_idempotent_and_keeps_created_at(store_url: str, cipher: TextCipher) -> None:
    clock = Clock(datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc))
    store = Store(store_url, cipher, clock=clock)
    checkin_id = store.start_checkin(CLIENT, "rest", shared=True)
    store.record_answer(checkin_id, "heard", 2, "not really")
    store.record_followup(checkin_id, "heard", "they talk over me")
    clock.advance(minutes=3)
    store.record_answer(checkin_id, "heard", 2, "not really")  # a retried action
    clock.advance(minutes=3)
    store.record_answer(checkin_id, "heard", 4, "actually, mostly")  # the client went back

    answers = store.answers(checkin_id)
    assert list(answers) == ["heard"]
    heard = answers["heard"]
    assert heard.score == 4 and heard.text == "actually, mostly"
    assert heard.followup == "they talk over me"
    assert heard.created_at == datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)
    assert heard.updated_at == datetime(2024, 3, 1, 9, 6, tzinfo=timezone.utc)
    assert raw_rows(store_url, "SELECT count(*) FROM answer") == [(1,)]
    assert store.checkin(checkin_id).updated_at == heard.updated_at
    store.dispose()


def test_skipped_answers(store: Store) -> None:
    checkin_id = store.start_checkin(CLIENT, "rest", shared=True)
    store.record_answer(checkin_id, "warmth", None, "", skipped=True)
    warmth = store.answers(checkin_id)["warmth"]
    assert warmth.skipped is True and warmth.score is None and warmth.text == ""
    assert warmth.level is None
    with pytest.raises(ValueError):
        store.record_answer(checkin_id, "warmth", 3, "x", skipped=True)


@pytest.mark.parametrize("score", [0, 6, -1, 3.0, "3", True])
def test_bad_scores_are_refused(sqlite_store: Store, score: object) -> None:
    checkin_id = sqlite_store.start_checkin(CLIENT, "rest", shared=True)
    with pytest.raises(ValueError):
        sqlite_store.record_answer(checkin_id, "team", score, "x")  # type: ignore[arg-type]
    assert sqlite_store.answers(checkin_id) == {}


def test_bad_dimensions_statuses_and_ids_are_refused(sqlite_store: Store) -> None:
    checkin_id = sqlite_store.start_checkin(CLIENT, "rest", shared=True)
    with pytest.raises(ValueError):
        sqlite_store.record_answer(checkin_id, "Team", 3, "x")
    with pytest.raises(ValueError):
        sqlite_store.record_followup(checkin_id, "mood", "x")
    with pytest.raises(ValueError):
        sqlite_store.set_status(checkin_id, "done")
    with pytest.raises(ValueError):
        sqlite_store.start_checkin("", "rest", shared=True)
    with pytest.raises(ValueError):
        sqlite_store.start_checkin(CLIENT, "re\x00st", shared=True)
    with pytest.raises(ValueError):
        sqlite_store.start_checkin("x" * 129, "rest", shared=True)
    with pytest.raises(TypeError):
        sqlite_store.record_answer(checkin_id, "team", 3, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="record_answer first"):
        sqlite_store.record_followup(checkin_id, "team", "more")


def test_the_database_itself_enforces_scores_and_statuses(store: Store, store_url: str) -> None:
    checkin_id = store.start_checkin(CLIENT, "rest", shared=True)
    store.record_answer(checkin_id, "team", 3, "x")
    engine = create_engine(store_url, future=True)
    try:
        for sql in (
            "UPDATE answer SET score = 9",
            "UPDATE checkin SET status = 'lost'",
            "INSERT INTO answer (checkin_id, dimension, score, skipped, text, created_at, updated_at) "
            "SELECT checkin_id, dimension, 2, skipped, text, created_at, updated_at FROM answer",
        ):
            with pytest.raises(Exception):
                with engine.begin() as connection:
                    connection.execute(text(sql))
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- lifecycle


def test_open_checkin_status_and_sharing(store: Store) -> None:
    checkin_id = store.start_checkin(CLIENT, "rest", shared=True)
    assert store.open_checkin(CLIENT).id == checkin_id
    store.set_status(checkin_id, PAUSED)
    assert store.open_checkin(CLIENT).status == PAUSED
    store.set_shared(checkin_id, False)
    assert store.checkin(checkin_id).shared is False
    store.set_status(checkin_id, IN_PROGRESS)
    assert store.open_checkin(CLIENT).status == IN_PROGRESS
    assert store.open_checkin(OTHER) is None


def test_starting_again_abandons_the_open_checkin(store: Store) -> None:
    first = store.start_checkin(CLIENT, "rest", shared=True)
    store.set_status(first, PAUSED)
    other = store.start_checkin(OTHER, "rest", shared=True)
    second = store.start_checkin(CLIENT, "telegram", shared=False)
    assert store.checkin(first).status == ABANDONED
    assert store.open_checkin(CLIENT).id == second
    assert store.open_checkin(OTHER).id == other


def test_completing_twice_keeps_the_first_completion_time(store_url: str, cipher: TextCipher) -> None:
    clock = Clock(datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc))
    store = Store(store_url, cipher, clock=clock)
    checkin_id = store.start_checkin(CLIENT, "rest", shared=True)
    store.complete_checkin(checkin_id, "first")
    clock.advance(seconds=30)
    store.complete_checkin(checkin_id, "second")
    view = store.checkin(checkin_id)
    assert view.completed_at == datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    assert view.summary == "second"
    assert raw_rows(store_url, "SELECT count(*) FROM summary") == [(1,)]
    store.dispose()


def test_last_completed_is_the_newest(store_url: str, cipher: TextCipher) -> None:
    clock = Clock(datetime(2024, 1, 1, tzinfo=timezone.utc))
    store = Store(store_url, cipher, clock=clock)
    ids = []
    for day in range(3):
        checkin_id = store.start_checkin(CLIENT, "rest", shared=True)
        store.complete_checkin(checkin_id, f"day {day}")
        ids.append(checkin_id)
        clock.advance(days=1)
    store.start_checkin(CLIENT, "rest", shared=True)  # in progress, not completed
    assert store.last_completed(CLIENT).id == ids[-1]
    store.dispose()


def test_events_never_carry_text(store: Store) -> None:
    checkin_id = store.start_checkin(CLIENT, "rest", shared=True)
    event_id = store.record_event(CLIENT, "crisis", checkin_id)
    loose = store.record_event(OTHER, "crisis_unclear")  # a client never seen before
    view = store.checkin(checkin_id)
    assert [(e.id, e.kind, e.checkin_id) for e in view.events] == [(event_id, "crisis", checkin_id)]
    assert [(e.id, e.client_id, e.checkin_id) for e in store.events(OTHER)] == [(loose, OTHER, None)]
    assert {c.id for c in store.clients()} == {CLIENT, OTHER}


# --------------------------------------------------------------------------- listing


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


# --------------------------------------------------------------------------- deleting


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


# --------------------------------------------------------------------------- encryption


def test_free_text_is_encrypted_on_disk(store: Store, store_url: str) -> None:
    secret = "my therapist SECRETWORD ignores me"
    checkin_id = store.start_checkin(CLIENT, "rest", shared=True)
    store.record_answer(checkin_id, "heard", 1, secret)
    store.record_followup(checkin_id, "heard", "FOLLOWUPWORD")
    store.complete_checkin(checkin_id, "SUMMARYWORD")
    store.set_label(CLIENT, "LABELWORD")

    dumped = " ".join(
        str(row)
        for table in ("client", "checkin", "answer", "summary", "event")
        for row in raw_rows(store_url, f"SELECT * FROM {table}")
    )
    for word in ("SECRETWORD", "FOLLOWUPWORD", "SUMMARYWORD", "LABELWORD"):
        assert word not in dumped
    assert raw_rows(store_url, "SELECT score FROM answer") == [(1,)]  # scores stay queryable
    if store_url.startswith("sqlite"):
        raw = Path(store_url.removeprefix("sqlite:///")).read_bytes()
        assert b"SECRETWORD" not in raw and b"ignores" not in raw


def test_key_rotation(store_url: str) -> None:
    old_key, new_key = generate_key(), generate_key()
    old = Store(store_url, TextCipher([old_key]))
    checkin_id = old.start_checkin(CLIENT, "rest", shared=True)
    old.record_answer(checkin_id, "team", 3, "kind of")
    old.record_followup(checkin_id, "team", "sometimes")
    old.record_answer(checkin_id, "heard", None, "", skipped=True)
    old.complete_checkin(checkin_id, "a summary")
    old.set_label(CLIENT, "Robin")
    old.start_checkin(OTHER, "rest", shared=True)  # a client without a label
    expected = old.checkins()
    old.dispose()

    both = Store(store_url, TextCipher([new_key, old_key]))
    assert both.checkins() == expected  # old data readable before rotating
    assert both.rotate_keys() == 5  # 2 answer texts + 1 follow-up + 1 summary + 1 label
    both.dispose()

    new_only = Store(store_url, TextCipher([new_key]))
    assert new_only.checkins() == expected
    assert new_only.client(CLIENT).label == "Robin"
    new_only.dispose()

    old_only = Store(store_url, TextCipher([old_key]))
    with pytest.raises(UnreadableTextError):
        old_only.checkins()
    with pytest.raises(StoreError):
        old_only.rotate_keys()
    old_only.dispose()


def test_key_rotation_covers_more_than_one_batch(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.store.api._ROTATE_BATCH", 2)
    old_key, new_key = generate_key(), generate_key()
    old = Store(sqlite_url, TextCipher([old_key]))
    for i in range(3):
        checkin_id = old.start_checkin(f"c{i}", "rest", shared=True)
        for dimension in ("team", "heard"):
            old.record_answer(checkin_id, dimension, 3, f"{i} {dimension}")
        old.complete_checkin(checkin_id, f"summary {i}")
    old.dispose()
    both = Store(sqlite_url, TextCipher([new_key, old_key]))
    assert both.rotate_keys() == 9
    both.dispose()
    new_only = Store(sqlite_url, TextCipher([new_key]))
    assert [c.answers["heard"].text for c in new_only.checkins()] == ["0 heard", "1 heard", "2 heard"]
    assert [c.summary for c in new_only.checkins()] == ["summary 0", "summary 1", "summary 2"]
    new_only.dispose()


# --------------------------------------------------------------------------- awkward text


AWKWARD = [
    "",
    " ",
    "🙂🙃 😢 — “quotes” ‘and’ «more» 你好 مرحبا שלום",
    "nul \x00 in \x00 the middle\x00",
    "x" * 10_000,
    "<script>alert('hi')</script> **bold** [link](http://x)",
    "'; DROP TABLE answer; --",
    "line\nbreaks\r\nand\ttabs",
    "\u200b\ufeff zero width and BOM",
    "\ud7ff\ue000\U0010ffff",
    "lone surrogate \ud800 from a broken client",
]


@pytest.mark.parametrize("words", AWKWARD, ids=range(len(AWKWARD)))
def test_any_text_round_trips(store: Store, words: str) -> None:
    checkin_id = store.start_checkin(CLIENT, "rest", shared=True)
    store.record_answer(checkin_id, "team", 3, words)
    store.record_followup(checkin_id, "team", words)
    store.complete_checkin(checkin_id, words)
    store.set_label(CLIENT, words)
    view = store.checkin(checkin_id)
    assert view.answers["team"].text == words
    assert view.answers["team"].followup == words
    assert view.summary == words
    assert store.client(CLIENT).label == words


# --------------------------------------------------------------------------- schema & errors


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


def test_checkin_ids_from_slots_and_strict_sharing(sqlite_store: Store) -> None:
    checkin_id = sqlite_store.start_checkin(CLIENT, "rest", shared=True)
    sqlite_store.record_answer(str(checkin_id), "team", 3, "from a text slot")  # type: ignore[arg-type]
    sqlite_store.record_followup(float(checkin_id), "team", "from a float slot")  # type: ignore[arg-type]
    assert sqlite_store.answers(checkin_id)["team"].followup == "from a float slot"
    for bad in ("12a", 1.5, None, True):
        with pytest.raises((ValueError, TypeError)):
            sqlite_store.set_status(bad, PAUSED)  # type: ignore[arg-type]
    for bad_shared in ("false", 0, None):
        with pytest.raises(TypeError):
            sqlite_store.set_shared(checkin_id, bad_shared)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            sqlite_store.start_checkin(OTHER, "rest", bad_shared)  # type: ignore[arg-type]
    assert sqlite_store.checkin(checkin_id).shared is True
    assert sqlite_store.open_checkin(OTHER) is None
    with pytest.raises(ValueError):
        sqlite_store.open_checkin("bad\x00id")


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
