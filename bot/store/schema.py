"""The tables (SQLAlchemy models, 2.0-style code on SQLAlchemy 1.4), their statuses and sizes.

The schema is created and changed only by the Alembic migrations in `bot/migrations/`, which
read `Base.metadata` from here.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base
from sqlalchemy.types import TypeDecorator

from bot.vocabulary import ABANDONED, COMPLETED, IN_PROGRESS, OPEN_STATUSES, PAUSED, STATUSES  # noqa: F401 (re-exported)

# Column sizes for the plain (unencrypted) identifiers; checked in Python too, so SQLite agrees.
CLIENT_ID_MAX = 128
CHANNEL_MAX = 64
KIND_MAX = 64


_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base: Any = declarative_base(metadata=MetaData(naming_convention=_NAMING))


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite keeps naive UTC text)."""

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Client(Base):
    __tablename__ = "client"

    id = Column(String(CLIENT_ID_MAX), primary_key=True)
    label = Column(Text, nullable=True)  # encrypted
    created_at = Column(UTCDateTime(), nullable=False)


class Checkin(Base):
    __tablename__ = "checkin"
    __table_args__ = (
        CheckConstraint(
            "status IN ('in_progress', 'completed', 'paused', 'abandoned')", name="status"
        ),
        Index("ix_checkin_client_id_started_at", "client_id", "started_at"),
        Index("ix_checkin_updated_at", "updated_at"),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    client_id = Column(
        String(CLIENT_ID_MAX), ForeignKey("client.id", ondelete="CASCADE"), nullable=False
    )
    channel = Column(String(CHANNEL_MAX), nullable=False)
    status = Column(String(16), nullable=False)
    shared = Column(Boolean, nullable=False)
    started_at = Column(UTCDateTime(), nullable=False)
    updated_at = Column(UTCDateTime(), nullable=False)
    completed_at = Column(UTCDateTime(), nullable=True)


class Answer(Base):
    __tablename__ = "answer"
    __table_args__ = (
        UniqueConstraint("checkin_id", "dimension"),
        CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="score"),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    checkin_id = Column(
        Integer, ForeignKey("checkin.id", ondelete="CASCADE"), nullable=False
    )
    dimension = Column(String(32), nullable=False)
    score = Column(SmallInteger, nullable=True)
    skipped = Column(Boolean, nullable=False)
    text = Column(Text, nullable=False)  # encrypted
    followup = Column(Text, nullable=True)  # encrypted
    created_at = Column(UTCDateTime(), nullable=False)
    updated_at = Column(UTCDateTime(), nullable=False)


class Summary(Base):
    __tablename__ = "summary"

    checkin_id = Column(
        Integer, ForeignKey("checkin.id", ondelete="CASCADE"), primary_key=True
    )
    text = Column(Text, nullable=False)  # encrypted
    created_at = Column(UTCDateTime(), nullable=False)


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (Index("ix_event_client_id", "client_id"), Index("ix_event_checkin_id", "checkin_id"))

    id = Column(Integer, primary_key=True, autoincrement=True)
    client_id = Column(
        String(CLIENT_ID_MAX), ForeignKey("client.id", ondelete="CASCADE"), nullable=False
    )
    checkin_id = Column(
        Integer, ForeignKey("checkin.id", ondelete="CASCADE"), nullable=True
    )
    kind = Column(String(KIND_MAX), nullable=False)
    created_at = Column(UTCDateTime(), nullable=False)


client_table: Table = Client.__table__
checkin_table: Table = Checkin.__table__
answer_table: Table = Answer.__table__
summary_table: Table = Summary.__table__
event_table: Table = Event.__table__
