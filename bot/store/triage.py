"""Crisis triage: acknowledging crisis events and escalating those left unacknowledged (event's triage columns).

A crisis event (bot.vocabulary.CRISIS_KINDS) is new until a staff member acknowledges it, with an
optional note (encrypted at rest like the client's words). The first acknowledgement is kept: a
second one changes nothing and says so. An event nobody acknowledged in time is escalated once
(`mark_escalated`, a conditional UPDATE, so concurrent callers cannot both escalate it; the
escalation's alert is written by `then` in the same transaction). bot/triage.py decides when.

Part of the `Store` API (`bot/store/api.py` combines the parts); nothing outside `bot/store/`
touches these tables.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.store.base import StoreBase
from bot.store.checks import check_identifier
from bot.store.errors import NotFoundError
from bot.store.reads import StoreReads
from bot.store.schema import CLIENT_ID_MAX, USERNAME_MAX, event_table
from bot.store.views import Acknowledgement, EventView
from bot.vocabulary import CRISIS_KINDS, TRIAGE_ACKNOWLEDGED, TRIAGE_NEW

ACK_NOTE_MAX = 500  # characters
EVENT_ID_MAX = 2**31 - 1  # event.id is a 32-bit integer
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # control characters but tab and newline


def clean_note(note: object) -> str | None:
    """An acknowledgement's note: trimmed, line ends as "\\n", None when empty. Raises ValueError
    for anything but text of at most ACK_NOTE_MAX characters without control characters."""
    if note is None:
        return None
    if not isinstance(note, str):
        raise ValueError("the note must be text")
    note = unicodedata.normalize("NFC", note.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if _CONTROL.search(note):
        raise ValueError("the note must not contain control characters")
    if len(note) > ACK_NOTE_MAX:
        raise ValueError(f"the note can be at most {ACK_NOTE_MAX} characters")
    return note or None


def _check_event_id(event_id: object) -> int:
    if isinstance(event_id, bool) or not isinstance(event_id, int) or not 1 <= event_id <= EVENT_ID_MAX:
        raise ValueError(f"event_id must be an integer from 1 to {EVENT_ID_MAX}, got {event_id!r}")
    return event_id


class TriageStore(StoreBase):
    """Crisis triage: acknowledging crisis events and escalating those left unacknowledged."""

    def _triage_view(self, row: Any) -> EventView:
        """The event as every read sees it, with the note decrypted."""
        return replace(StoreReads._event_view(row), ack_note=self._decrypt(row.ack_note))

    @staticmethod
    def _crisis_query() -> Any:
        return select(event_table).where(event_table.c.kind.in_(CRISIS_KINDS))

    @staticmethod
    def _still_new(event_id: int) -> Any:
        """An UPDATE of this crisis event, only while nobody has acknowledged it."""
        return update(event_table).where(
            event_table.c.id == event_id,
            event_table.c.kind.in_(CRISIS_KINDS),
            event_table.c.acknowledged_at.is_(None),
        )

    def crisis_event(self, event_id: int) -> EventView | None:
        """One crisis event with its triage fields, or None (no such event, or not a crisis)."""
        event_id = _check_event_id(event_id)
        with self._transaction() as session:
            row = session.execute(self._crisis_query().where(event_table.c.id == event_id)).first()
            return None if row is None else self._triage_view(row)

    def crisis_events(self, client_id: str | None = None, status: str | None = None) -> list[EventView]:
        """Crisis events (every client's, or one's) with their triage fields, newest first; only
        the new (unacknowledged) or acknowledged ones when `status` is TRIAGE_NEW / TRIAGE_ACKNOWLEDGED."""
        query = self._crisis_query().order_by(event_table.c.created_at.desc(), event_table.c.id.desc())
        if client_id is not None:
            query = query.where(event_table.c.client_id == check_identifier("client_id", client_id, CLIENT_ID_MAX))
        if status == TRIAGE_NEW:
            query = query.where(event_table.c.acknowledged_at.is_(None))
        elif status == TRIAGE_ACKNOWLEDGED:
            query = query.where(event_table.c.acknowledged_at.is_not(None))
        elif status is not None:
            raise ValueError(f"status must be {TRIAGE_NEW!r}, {TRIAGE_ACKNOWLEDGED!r} or None, got {status!r}")
        with self._transaction() as session:
            return [self._triage_view(row) for row in session.execute(query)]

    def unacknowledged_events(self, client_id: str | None = None) -> list[EventView]:
        """Crisis events nobody has acknowledged yet, oldest (longest waiting) first."""
        return list(reversed(self.crisis_events(client_id, TRIAGE_NEW)))

    def acknowledge(self, event_id: int, by: str, note: str | None = None) -> Acknowledgement:
        """Marks a crisis event acknowledged by staff member `by` (now, by the store's clock), with
        an optional note. Only the first acknowledgement counts: when someone already acknowledged
        the event, nothing changes and `done_now` is False. NotFoundError for no such crisis event;
        ValueError for a note that is too long or not plain text."""
        event_id = _check_event_id(event_id)
        by = check_identifier("by", by, USERNAME_MAX)
        note = clean_note(note)
        with self._transaction() as session:
            changed = session.execute(
                self._still_new(event_id).values(
                    acknowledged_at=self._clock(),
                    acknowledged_by=by,
                    ack_note=None if note is None else self._encrypt(note),
                )
            ).rowcount
            row = session.execute(self._crisis_query().where(event_table.c.id == event_id)).first()
            if row is None:
                raise NotFoundError(f"no crisis event with id {event_id}")
            return Acknowledgement(self._triage_view(row), done_now=changed == 1)

    def escalation_candidates(self, created_before: datetime, created_after: datetime | None = None) -> list[int]:
        """Ids of crisis events created before `created_before` (and after `created_after`), never
        acknowledged and never escalated, oldest first."""
        query = (
            select(event_table.c.id)
            .where(
                event_table.c.kind.in_(CRISIS_KINDS),
                event_table.c.acknowledged_at.is_(None),
                event_table.c.escalated_at.is_(None),
                event_table.c.created_at <= created_before,
            )
            .order_by(event_table.c.created_at, event_table.c.id)
        )
        if created_after is not None:
            query = query.where(event_table.c.created_at > created_after)
        with self._transaction() as session:
            return [row.id for row in session.execute(query)]

    def mark_escalated(
        self, event_id: int, now: datetime, then: Callable[[Session, EventView], Any] | None = None
    ) -> bool:
        """Sets the event's `escalated_at` unless it is acknowledged or escalated already (a
        conditional UPDATE: of several concurrent callers exactly one gets True). `then(session,
        event)` runs in the same transaction only for that one (bot.triage adds the alert there),
        so an escalation is recorded if and only if its alert is."""
        event_id = _check_event_id(event_id)
        with self._transaction() as session:
            changed = session.execute(
                self._still_new(event_id).where(event_table.c.escalated_at.is_(None)).values(escalated_at=now)
            ).rowcount
            if changed != 1:
                return False
            if then is not None:
                row = session.execute(self._crisis_query().where(event_table.c.id == event_id)).one()
                then(session, self._triage_view(row))
            return True
