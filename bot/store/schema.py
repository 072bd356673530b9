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
USERNAME_MAX = 64


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


class Staff(Base):
    """A practice account: an admin or a clinician (bot.vocabulary.ROLES)."""

    __tablename__ = "staff"
    __table_args__ = (CheckConstraint("role IN ('admin', 'clinician')", name="role"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    username = Column(String(USERNAME_MAX), nullable=False, unique=True)  # lower case
    display_name = Column(String(128), nullable=False)
    role = Column(String(16), nullable=False)
    password_hash = Column(Text, nullable=False)
    active = Column(Boolean, nullable=False)
    created_at = Column(UTCDateTime(), nullable=False)
    updated_at = Column(UTCDateTime(), nullable=False)


class Client(Base):
    """A client: anonymous (id = the conversation's pseudonymous id, nothing else known) or
    enrolled by a clinician (id made at enrolment; conversations bound to it in `binding`)."""

    __tablename__ = "client"
    __table_args__ = (Index("ix_client_clinician_id", "clinician_id"),)

    id = Column(String(CLIENT_ID_MAX), primary_key=True)
    label = Column(Text, nullable=True)  # encrypted; for an enrolled client, the name or initials
    created_at = Column(UTCDateTime(), nullable=False)
    clinician_id = Column(Integer, ForeignKey("staff.id", ondelete="SET NULL"), nullable=True)
    external_id = Column(Text, nullable=True)  # encrypted: the practice's own record number
    preferred_channel = Column(String(CHANNEL_MAX), nullable=True)  # bot.vocabulary.CLIENT_CHANNELS
    timezone = Column(String(64), nullable=True)  # IANA name, e.g. Europe/London
    enrolled_at = Column(UTCDateTime(), nullable=True)  # None: anonymous
    stopped_at = Column(UTCDateTime(), nullable=True)  # the client left: no message is sent


class Binding(Base):
    """A conversation (its pseudonymous id, as Rasa sees it) bound to an enrolled client."""

    __tablename__ = "binding"
    __table_args__ = (Index("ix_binding_client_id", "client_id"),)

    conversation_id = Column(String(CLIENT_ID_MAX), primary_key=True)
    client_id = Column(
        String(CLIENT_ID_MAX), ForeignKey("client.id", ondelete="CASCADE"), nullable=False
    )
    channel = Column(String(CHANNEL_MAX), nullable=False)
    address = Column(Text, nullable=True)  # encrypted: chat id / phone number, to send to
    bound_at = Column(UTCDateTime(), nullable=False)
    stopped_at = Column(UTCDateTime(), nullable=True)  # STOP on this address: nothing is sent to it


class Invitation(Base):
    """A one-time, expiring invitation; only a hash of its code is kept."""

    __tablename__ = "invitation"

    id = Column(Integer, primary_key=True, autoincrement=True)
    code_hash = Column(String(64), nullable=False, unique=True)
    client_id = Column(
        String(CLIENT_ID_MAX), ForeignKey("client.id", ondelete="CASCADE"), nullable=False
    )
    channel = Column(String(CHANNEL_MAX), nullable=False)
    created_by = Column(Integer, ForeignKey("staff.id", ondelete="SET NULL"), nullable=True)
    created_at = Column(UTCDateTime(), nullable=False)
    expires_at = Column(UTCDateTime(), nullable=False)
    used_at = Column(UTCDateTime(), nullable=True)
    used_by = Column(String(CLIENT_ID_MAX), nullable=True)  # the conversation it bound


class Schedule(Base):
    """When a client is asked to check in (one per client); times are the client's local time."""

    __tablename__ = "schedule"
    __table_args__ = (
        CheckConstraint("kind IN ('after_session', 'weekly')", name="kind"),
        CheckConstraint("weekday IS NULL OR (weekday >= 0 AND weekday <= 6)", name="weekday"),
    )

    client_id = Column(
        String(CLIENT_ID_MAX), ForeignKey("client.id", ondelete="CASCADE"), primary_key=True
    )
    kind = Column(String(16), nullable=False)
    weekday = Column(SmallInteger, nullable=True)  # weekly: 0 Monday .. 6 Sunday
    send_time = Column(String(5), nullable=False)  # "HH:MM", local
    quiet_start = Column(String(5), nullable=True)  # "HH:MM", local: nothing sent from here ...
    quiet_end = Column(String(5), nullable=True)  # ... to here
    remind_after_hours = Column(Integer, nullable=False)
    max_reminders = Column(Integer, nullable=False)
    window_days = Column(Integer, nullable=False)
    active = Column(Boolean, nullable=False)
    updated_at = Column(UTCDateTime(), nullable=False)


class TherapySession(Base):
    """A therapy session, entered by the clinician or imported (CSV, iCalendar)."""

    __tablename__ = "therapy_session"
    __table_args__ = (
        UniqueConstraint("client_id", "starts_at"),
        Index("ix_therapy_session_starts_at", "starts_at"),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    client_id = Column(
        String(CLIENT_ID_MAX), ForeignKey("client.id", ondelete="CASCADE"), nullable=False
    )
    starts_at = Column(UTCDateTime(), nullable=False)
    source = Column(String(16), nullable=False)  # manual, csv, ics
    uid = Column(String(255), nullable=True)  # the calendar event's UID, when imported
    created_at = Column(UTCDateTime(), nullable=False)


class ScheduledCheckin(Base):
    """One check-in the schedule asks for: sent once, reminded, completed or expired.

    The scheduler claims a row with a conditional UPDATE (`claimed_by`, `claimed_until`: a lease),
    so however many scheduler processes run, exactly one sends each message."""

    __tablename__ = "scheduled_checkin"
    __table_args__ = (
        UniqueConstraint("client_id", "due_at"),
        CheckConstraint(
            "status IN ('pending', 'sent', 'completed', 'expired', 'cancelled')", name="status"
        ),
        Index("ix_scheduled_checkin_status_due_at", "status", "due_at"),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    client_id = Column(
        String(CLIENT_ID_MAX), ForeignKey("client.id", ondelete="CASCADE"), nullable=False
    )
    due_at = Column(UTCDateTime(), nullable=False)
    closes_at = Column(UTCDateTime(), nullable=False)
    status = Column(String(16), nullable=False)
    sent_at = Column(UTCDateTime(), nullable=True)
    reminders_sent = Column(Integer, nullable=False)
    next_reminder_at = Column(UTCDateTime(), nullable=True)
    claimed_by = Column(String(64), nullable=True)
    claimed_until = Column(UTCDateTime(), nullable=True)
    checkin_id = Column(Integer, ForeignKey("checkin.id", ondelete="SET NULL"), nullable=True)
    completed_at = Column(UTCDateTime(), nullable=True)


class AuditEntry(Base):
    """Who viewed or exported which client, and when. Append-only (a trigger refuses UPDATE and
    DELETE); `client_id` has no foreign key, so the record outlives an erased client."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_client_id", "client_id"))

    id = Column(Integer, primary_key=True, autoincrement=True)
    at = Column(UTCDateTime(), nullable=False)
    actor = Column(String(USERNAME_MAX), nullable=False)  # a staff user name, "api" or "cli"
    action = Column(String(32), nullable=False)
    client_id = Column(String(CLIENT_ID_MAX), nullable=True)
    detail = Column(String(256), nullable=True)  # never client words


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
    # Crisis triage (bot.vocabulary.TRIAGE_*): new until acknowledged by a staff member.
    acknowledged_at = Column(UTCDateTime(), nullable=True)
    acknowledged_by = Column(String(USERNAME_MAX), nullable=True)
    ack_note = Column(Text, nullable=True)  # encrypted
    escalated_at = Column(UTCDateTime(), nullable=True)  # the alert fired again, unacknowledged


client_table: Table = Client.__table__
checkin_table: Table = Checkin.__table__
answer_table: Table = Answer.__table__
summary_table: Table = Summary.__table__
event_table: Table = Event.__table__
staff_table: Table = Staff.__table__
binding_table: Table = Binding.__table__
invitation_table: Table = Invitation.__table__
schedule_table: Table = Schedule.__table__
therapy_session_table: Table = TherapySession.__table__
scheduled_checkin_table: Table = ScheduledCheckin.__table__
audit_table: Table = AuditEntry.__table__
