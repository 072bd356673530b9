"""Storage of check-ins: the `Store` API (`api.py`, over `reads.py` and `base.py`), its tables
(`schema.py`), the values it returns (`views.py`), its errors, and the Alembic glue
(`migrate.py`, migrations in `bot/migrations/`). Import from here: `from bot.store import Store`.
Nothing outside this package touches the tables or the engine, except tests and the bench
that seed data in bulk.
"""
from __future__ import annotations

from bot.store.api import Store
from bot.store.errors import NotFoundError, StoreError, UnreadableTextError
from bot.store.migrate import MIGRATIONS_DIR
from bot.store.practice import StaffError, normal_username
from bot.store.schema import (
    ABANDONED,
    CHANNEL_MAX,
    CLIENT_ID_MAX,
    COMPLETED,
    IN_PROGRESS,
    KIND_MAX,
    OPEN_STATUSES,
    PAUSED,
    STATUSES,
    Base,
    answer_table,
    checkin_table,
    client_table,
    event_table,
    summary_table,
)
from bot.store.views import (
    Acknowledgement,
    AnswerView,
    BindingView,
    CheckinView,
    ClientView,
    DueCheckinView,
    EventView,
    FinalAnswer,
    ScoreCard,
    ScheduleSummary,
    ScheduleView,
    ScoreOnlyAnswer,
    SessionImport,
    TherapySessionView,
    as_utc,
    AuditEntryView,
    StaffView,
)

__all__ = [
    "Acknowledgement",
    "ABANDONED",
    "COMPLETED",
    "IN_PROGRESS",
    "OPEN_STATUSES",
    "PAUSED",
    "STATUSES",
    "AnswerView",
    "BindingView",
    "Base",
    "CheckinView",
    "ClientView",
    "DueCheckinView",
    "EventView",
    "FinalAnswer",
    "InvitationView",
    "MIGRATIONS_DIR",
    "NotFoundError",
    "ScheduleSummary",
    "ScheduleView",
    "SessionImport",
    "TherapySessionView",
    "ScoreCard",
    "ScoreOnlyAnswer",
    "Store",
    "StoreError",
    "UnreadableTextError",
    "as_utc",
    "AuditEntryView",
    "StaffError",
    "StaffView",
    "normal_username",
    "CHANNEL_MAX",
    "CLIENT_ID_MAX",
    "KIND_MAX",
    "answer_table",
    "checkin_table",
    "client_table",
    "event_table",
    "summary_table",
]
