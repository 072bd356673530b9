"""What the store tests share besides the fixtures in tests/conftest.py."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import create_engine, text

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
