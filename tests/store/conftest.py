"""Fixtures of the store's tests (tests/conftest.py has the databases and `store`)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.crypto import TextCipher
from bot.store import Store

CLOCK_START = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def clocked(store_url: str, cipher: TextCipher):
    """A Store on each backend whose clock reads `clock["now"]` (CLOCK_START at first): (store, clock)."""
    clock = {"now": CLOCK_START}
    s = Store(store_url, cipher, clock=lambda: clock["now"])
    yield s, clock
    s.dispose()
