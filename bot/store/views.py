"""What the store hands back: frozen dataclasses of plain, decrypted values."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping, overload

from bot.dimensions import LEVELS
from bot.store.schema import COMPLETED
from bot.vocabulary import TRIAGE_ACKNOWLEDGED, TRIAGE_NEW


@dataclass(frozen=True)
class AnswerView:
    dimension: str
    score: int | None
    text: str
    followup: str | None
    skipped: bool
    created_at: datetime
    updated_at: datetime

    @property
    def level(self) -> str | None:
        """The words for the score ("mostly"), or None when there is no score."""
        return LEVELS.get(self.score) if self.score is not None else None


@dataclass(frozen=True)
class EventView:
    id: int
    client_id: str
    checkin_id: int | None
    kind: str
    created_at: datetime
    # Crisis triage (bot/store/triage.py): who acknowledged the event and when, their note, and
    # when the practice's alert fired again because nobody had. `ack_note` is decrypted only by
    # the triage reads (TriageStore); every other read leaves it None.
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    ack_note: str | None = None
    escalated_at: datetime | None = None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    @property
    def triage_status(self) -> str:
        """bot.vocabulary.TRIAGE_NEW or TRIAGE_ACKNOWLEDGED."""
        return TRIAGE_ACKNOWLEDGED if self.acknowledged else TRIAGE_NEW


@dataclass(frozen=True)
class CheckinView:
    id: int
    client_id: str
    channel: str
    status: str
    shared: bool
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    answers: Mapping[str, AnswerView]  # by dimension, in DIMENSIONS order
    summary: str | None
    events: tuple[EventView, ...]


@dataclass(frozen=True)
class ScheduleSummary:
    """A client's scheduled check-ins at a glance (Store.schedule_summaries)."""

    next_due_at: datetime | None  # the next one waiting to be sent
    sent: int  # sent (whatever came of them)
    completed: int  # of those, completed by the client

    @property
    def response_rate(self) -> float | None:
        """Completed / sent, or None before anything was sent."""
        return self.completed / self.sent if self.sent else None


@dataclass(frozen=True)
class FinalAnswer:
    """One answer as written when a check-in is completed (see Store.complete_checkin)."""

    dimension: str
    score: int | None
    text: str
    skipped: bool = False
    followup: str | None = None


@dataclass(frozen=True)
class ScoreOnlyAnswer:
    dimension: str
    score: int | None
    skipped: bool


@dataclass(frozen=True)
class ScoreCard:
    """A completed, shared check-in's scores, without any of the client's words."""

    id: int
    client_id: str
    started_at: datetime
    completed_at: datetime | None
    answers: Mapping[str, ScoreOnlyAnswer] = field(default_factory=dict)
    status: str = COMPLETED
    shared: bool = True


@dataclass(frozen=True)
class ClientView:
    id: str
    label: str | None
    created_at: datetime
    checkin_count: int
    last_checkin_id: int | None
    last_checkin_at: datetime | None  # when the latest check-in started
    last_status: str | None
    last_shared: bool | None
    # Enrolment (None for an anonymous client; see bot/store/enrolment.py).
    clinician_id: int | None = None
    external_id: str | None = None
    preferred_channel: str | None = None
    timezone: str | None = None
    enrolled_at: datetime | None = None
    stopped_at: datetime | None = None

    @property
    def enrolled(self) -> bool:
        return self.enrolled_at is not None


@overload
def as_utc(value: None) -> None: ...
@overload
def as_utc(value: datetime | str) -> datetime: ...
def as_utc(value: Any) -> datetime | None:
    """A timestamp read through a subquery (SQLite may hand back text) as aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


@dataclass(frozen=True)
class BindingView:
    """A conversation bound to an enrolled client (Store.bindings)."""

    conversation_id: str  # the pseudonymous id Rasa sees
    client_id: str
    channel: str
    address: str | None  # decrypted: the chat id or phone number to send to
    bound_at: datetime
    stopped_at: datetime | None  # STOP on this address


@dataclass(frozen=True)
class InvitationView:
    """An invitation (Store.invitations); its code is never stored, only a hash."""

    id: int
    client_id: str
    channel: str
    created_by: int | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None

    @property
    def used(self) -> bool:
        return self.used_at is not None


@dataclass(frozen=True)
class ScheduleView:
    """A client's schedule (Store.schedule); times are "HH:MM" in the client's `timezone`."""

    client_id: str
    kind: str  # bot.vocabulary.AFTER_SESSION or WEEKLY
    weekday: int | None
    send_time: str
    quiet_start: str | None
    quiet_end: str | None
    remind_after_hours: int
    max_reminders: int
    window_days: int
    active: bool
    updated_at: datetime
    timezone: str | None  # the client's (None: the practice's default)
    client_stopped_at: datetime | None  # the client left: nothing is planned or sent


@dataclass(frozen=True)
class TherapySessionView:
    """A therapy session (Store.sessions): entered by hand or imported from CSV or iCalendar."""

    id: int
    client_id: str
    starts_at: datetime
    source: str  # manual, csv, ics
    uid: str | None  # the calendar event's UID
    created_at: datetime


@dataclass(frozen=True)
class SessionImport:
    """What an import of sessions did (Store.import_sessions)."""

    added: int  # new sessions
    moved: int  # a calendar event already imported (same UID) at a new time
    unchanged: int  # already there


@dataclass(frozen=True)
class DueCheckinView:
    """A scheduled check-in (Store.claim_due, Store.scheduled_checkins)."""

    id: int
    client_id: str
    due_at: datetime
    closes_at: datetime
    status: str  # bot.vocabulary.DUE_*
    sent_at: datetime | None
    reminders_sent: int
    next_reminder_at: datetime | None
    checkin_id: int | None
    completed_at: datetime | None

    @property
    def is_reminder(self) -> bool:
        """Claimed for a reminder (already sent once), not for the first message."""
        return self.sent_at is not None


@dataclass(frozen=True)
class Acknowledgement:
    """What TriageStore.acknowledge did: `event` as it now stands, and whether this call
    acknowledged it (False: someone already had, and their acknowledgement was kept)."""

    event: EventView
    done_now: bool


@dataclass(frozen=True)
class StaffView:
    """A practice account (bot/store/practice.py), without its password hash."""

    id: int
    username: str
    display_name: str
    role: str  # bot.vocabulary.ROLES
    active: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AuditEntryView:
    """One line of the audit log: who did what to which client, and when (never client words)."""

    id: int
    at: datetime
    actor: str
    action: str
    client_id: str | None
    detail: str | None
