"""Client free text encrypted at rest, key rotation, and any text round-tripping through the
Store, on real SQLite and real PostgreSQL."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.crypto import TextCipher, generate_key
from bot.store import Store, StoreError, UnreadableTextError
from tests.store.support import CLIENT, OTHER, raw_rows


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


# --------------------------------------------------------------- awkward text


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
