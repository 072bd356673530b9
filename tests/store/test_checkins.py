"""Check-ins written through the Store (bot/store/api.py): answers, completion, validation,
the lifecycle of an open check-in, on real SQLite and real PostgreSQL."""
from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError

from bot.crypto import TextCipher
from bot.dimensions import DIMENSIONS
from bot.store import (
    ABANDONED,
    COMPLETED,
    IN_PROGRESS,
    PAUSED,
    FinalAnswer,
    NotFoundError,
    Store,
    StoreError,
)
from tests.store.support import CLIENT, OTHER, Clock, raw_rows

# --------------------------------------------------------------------- basics


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


def test_the_database_itself_enforces_scores_and_statuses(store: Store, store_url: str) -> None:
    checkin_id = store.start_checkin(CLIENT, "rest", shared=True)
    store.record_answer(checkin_id, "team", 3, "x")
    engine = create_engine(store_url, future=True)
    try:
        for sql in (
            "UPDATE answer SET score = 9",
            "UPDATE checkin SET status = 'lost'",
            f"INSERT INTO answer (checkin_id, dimension, score, skipped, text, created_at, updated_at) "
            f"SELECT checkin_id, dimension, 2, skipped, text, created_at, updated_at FROM answer",
        ):
            with pytest.raises(Exception):
                with engine.begin() as connection:
                    connection.execute(text(sql))
    finally:
        engine.dispose()


# ------------------------------------------------------------------ lifecycle


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
