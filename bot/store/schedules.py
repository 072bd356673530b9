"""Schedules, therapy sessions and scheduled check-ins (schedule, therapy_session, scheduled_checkin).

The scheduler (`bot/schedule_tick.py`) plans a row per check-in a schedule asks for
(`plan_checkins`: unique per client and due time, so planning again adds nothing), claims the due
ones with a conditional UPDATE (`claim_due`: a lease in `claimed_by` / `claimed_until`, so of
several scheduler processes exactly one wins each row, on SQLite and PostgreSQL alike), and
records what it did (`mark_sent`, `mark_reminded`, `release`, `cancel_due`). `close_windows`
completes a row when the client completed a check-in between its due time and the end of its
window, and closes the rest once the window has passed.

Part of the `Store` API (`bot/store/api.py` combines the parts); nothing outside `bot/store/`
touches these tables.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Collection, Iterable

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.store.base import StoreBase
from bot.store.checks import check_identifier
from bot.store.errors import NotFoundError
from bot.store.schema import (
    CLIENT_ID_MAX,
    COMPLETED,
    binding_table,
    checkin_table,
    client_table,
    schedule_table,
    scheduled_checkin_table,
    therapy_session_table,
)
from bot.store.views import (
    DueCheckinView,
    ScheduleSummary,
    ScheduleView,
    SessionImport,
    TherapySessionView,
    as_utc,
)
from bot.vocabulary import (
    DUE_CANCELLED,
    DUE_COMPLETED,
    DUE_EXPIRED,
    DUE_PENDING,
    DUE_SENT,
    SCHEDULE_KINDS,
    WEEKLY,
)

SESSION_SOURCES = ("manual", "csv", "ics")
UID_MAX = 255
WORKER_MAX = 64
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ScheduleStore(StoreBase):
    """Schedules, therapy sessions and scheduled check-ins."""

    # ------------------------------------------------------------------ schedules

    def set_schedule(
        self,
        client_id: str,
        *,
        kind: str,
        send_time: str,
        weekday: int | None = None,
        quiet_start: str | None = None,
        quiet_end: str | None = None,
        remind_after_hours: int,
        max_reminders: int,
        window_days: int,
        active: bool = True,
    ) -> None:
        """Set (or replace) a client's schedule; `bot.schedule.Rule` checks the values first.

        Check-ins planned under the old schedule and not sent yet are dropped; the scheduler plans
        again from the new one on its next tick."""
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        if kind not in SCHEDULE_KINDS or (kind == WEEKLY) != (weekday is not None):
            raise ValueError("a schedule is after_session, or weekly with a weekday")
        for name, value in (("send_time", send_time), ("quiet_start", quiet_start), ("quiet_end", quiet_end)):
            if (value is not None or name == "send_time") and not _HHMM.match(str(value)):
                raise ValueError(f"{name} must be HH:MM")
        now = self._clock()
        values = {
            "kind": kind, "weekday": weekday, "send_time": send_time, "quiet_start": quiet_start,
            "quiet_end": quiet_end, "remind_after_hours": int(remind_after_hours),
            "max_reminders": int(max_reminders), "window_days": int(window_days), "active": bool(active),
            "updated_at": now,
        }
        with self._transaction() as session:
            self._require_client(session, client_id)
            stmt = self._insert(schedule_table).values(client_id=client_id, **values)
            session.execute(stmt.on_conflict_do_update(index_elements=["client_id"], set_=values))
            self._drop_unsent(session, client_id, now)

    def schedule(self, client_id: str) -> ScheduleView | None:
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        found = self._schedules(schedule_table.c.client_id == client_id)
        return found[0] if found else None

    def active_schedules(self) -> list[ScheduleView]:
        """Every active schedule of a client who has not left."""
        return self._schedules(and_(schedule_table.c.active.is_(True), client_table.c.stopped_at.is_(None)))

    def _schedules(self, where: object) -> list[ScheduleView]:
        s, c = schedule_table, client_table
        query = select(s, c.c.timezone, c.c.stopped_at).join(c, c.c.id == s.c.client_id).where(where)
        with self._transaction() as session:
            rows = session.execute(query.order_by(s.c.client_id)).all()
        return [
            ScheduleView(
                client_id=row.client_id, kind=row.kind, weekday=row.weekday, send_time=row.send_time,
                quiet_start=row.quiet_start, quiet_end=row.quiet_end, remind_after_hours=row.remind_after_hours,
                max_reminders=row.max_reminders, window_days=row.window_days, active=bool(row.active),
                updated_at=row.updated_at, timezone=row.timezone, client_stopped_at=row.stopped_at,
            )
            for row in rows
        ]

    # ------------------------------------------------------------------ sessions

    def add_session(self, client_id: str, starts_at: datetime) -> bool:
        """A session entered by hand. False when the client already has one at that time."""
        return self.import_sessions(client_id, [(starts_at, None)], "manual").added == 1

    def import_sessions(
        self, client_id: str, sessions: Iterable[tuple[datetime, str | None]], source: str
    ) -> SessionImport:
        """Add sessions (start time, calendar UID or None) from `source` (manual, csv, ics), in one
        transaction. A UID already imported for this client moves that session to the new time
        (a rescheduled appointment); a time already taken is left as it is."""
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        if source not in SESSION_SOURCES:
            raise ValueError(f"source must be one of {', '.join(SESSION_SOURCES)}")
        items = []
        for starts_at, uid in sessions:
            if not isinstance(starts_at, datetime) or starts_at.tzinfo is None:
                raise ValueError("a session's start must be a timezone-aware datetime")
            if uid is not None and (not isinstance(uid, str) or not uid or len(uid) > UID_MAX):
                raise ValueError(f"a calendar UID must be 1 to {UID_MAX} characters")
            items.append((starts_at, uid))
        t = therapy_session_table
        now = self._clock()
        added = moved = unchanged = 0
        with self._transaction() as session:
            self._require_client(session, client_id)
            taken = {as_utc(at) for at in session.execute(select(t.c.starts_at).where(t.c.client_id == client_id)).scalars()}
            by_uid = {
                row.uid: row for row in session.execute(
                    select(t.c.id, t.c.uid, t.c.starts_at).where(t.c.client_id == client_id, t.c.uid.is_not(None))
                ).all()
            }
            for starts_at, uid in items:
                starts_at = as_utc(starts_at)
                known = by_uid.get(uid) if uid is not None else None
                if known is not None:
                    if as_utc(known.starts_at) == starts_at or starts_at in taken:
                        unchanged += 1
                        continue
                    session.execute(update(t).where(t.c.id == known.id).values(starts_at=starts_at))
                    taken.discard(as_utc(known.starts_at))
                    taken.add(starts_at)
                    moved += 1
                    continue
                if starts_at in taken:
                    unchanged += 1
                    continue
                result = session.execute(
                    t.insert().values(client_id=client_id, starts_at=starts_at, source=source, uid=uid, created_at=now)
                )
                taken.add(starts_at)
                if uid is not None:
                    by_uid[uid] = _Known(int(result.inserted_primary_key[0]), uid, starts_at)
                added += 1
            if moved:
                self._drop_unsent(session, client_id, now)
        return SessionImport(added=added, moved=moved, unchanged=unchanged)

    def sessions(self, client_id: str, since: datetime | None = None) -> list[TherapySessionView]:
        """A client's sessions, earliest first (from `since`, when given)."""
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        t = therapy_session_table
        query = select(t).where(t.c.client_id == client_id)
        if since is not None:
            query = query.where(t.c.starts_at >= since)
        with self._transaction() as session:
            rows = session.execute(query.order_by(t.c.starts_at)).all()
        return [
            TherapySessionView(
                id=row.id, client_id=row.client_id, starts_at=row.starts_at, source=row.source,
                uid=row.uid, created_at=row.created_at,
            )
            for row in rows
        ]

    def session_times(self, client_ids: Collection[str], since: datetime) -> dict[str, list[datetime]]:
        """The sessions' start times from `since`, per client (for planning)."""
        t = therapy_session_table
        found: dict[str, list[datetime]] = {client_id: [] for client_id in client_ids}
        if not found:
            return found
        with self._transaction() as session:
            rows = session.execute(
                select(t.c.client_id, t.c.starts_at).where(t.c.client_id.in_(list(found)), t.c.starts_at >= since)
            ).all()
        for row in rows:
            found[row.client_id].append(row.starts_at)
        return found

    def delete_session(self, client_id: str, session_id: int) -> bool:
        """Remove one of the client's sessions (and its check-in, if not sent yet). False when
        there was none."""
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        t = therapy_session_table
        with self._transaction() as session:
            result = session.execute(delete(t).where(t.c.id == int(session_id), t.c.client_id == client_id))
            if not result.rowcount:
                return False
            self._drop_unsent(session, client_id, self._clock())
            return True

    # ------------------------------------------------------------------ scheduled check-ins

    def plan_checkins(self, client_id: str, windows: Iterable[tuple[datetime, datetime]]) -> int:
        """Keep a pending row per (due time, window close) not planned yet; returns how many
        are new. Safe to repeat, and from several processes at once."""
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        added = 0
        with self._transaction() as session:
            for due_at, closes_at in windows:
                if closes_at <= due_at:
                    raise ValueError("a check-in's window must close after it is due")
                stmt = self._insert(scheduled_checkin_table).values(
                    client_id=client_id, due_at=due_at, closes_at=closes_at, status=DUE_PENDING, reminders_sent=0,
                )
                added += session.execute(stmt.on_conflict_do_nothing(index_elements=["client_id", "due_at"])).rowcount or 0
        return added

    def scheduled_checkins(self, client_id: str) -> list[DueCheckinView]:
        """A client's scheduled check-ins, earliest first."""
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        t = scheduled_checkin_table
        with self._transaction() as session:
            rows = session.execute(select(t).where(t.c.client_id == client_id).order_by(t.c.due_at)).all()
        return [_due_view(row) for row in rows]

    def claim_due(self, worker: str, lease: timedelta, limit: int = 50) -> list[DueCheckinView]:
        """Claim up to `limit` rows with a message to send now (the first message, or a reminder)
        for `lease`: only this worker may record what came of them until the lease ends.

        Each claim is a conditional UPDATE that repeats the whole "due and not claimed" test, so
        when several schedulers race for a row exactly one sees rowcount 1 (PostgreSQL re-checks
        the condition on the row another transaction just updated; SQLite serialises writes)."""
        check_identifier("worker", worker, WORKER_MAX)
        now = self._clock()
        t = scheduled_checkin_table
        due = and_(
            t.c.closes_at > now,
            or_(t.c.claimed_until.is_(None), t.c.claimed_until <= now),
            or_(
                and_(t.c.status == DUE_PENDING, t.c.due_at <= now),
                and_(t.c.status == DUE_SENT, t.c.next_reminder_at.is_not(None), t.c.next_reminder_at <= now),
            ),
        )
        claimed: list[DueCheckinView] = []
        with self._transaction() as session:
            candidates = session.execute(select(t.c.id).where(due).order_by(t.c.due_at, t.c.id).limit(limit)).scalars().all()
        for row_id in candidates:
            with self._transaction() as session:
                won = session.execute(
                    update(t).where(and_(t.c.id == row_id, due)).values(claimed_by=worker, claimed_until=now + lease)
                ).rowcount
                if won == 1:
                    claimed.append(_due_view(session.execute(select(t).where(t.c.id == row_id)).one()))
        return claimed

    def mark_sent(self, row_id: int, worker: str, next_reminder_at: datetime | None) -> bool:
        """The first message went out; the claim ends. False when `worker` no longer held it."""
        return self._finish_claim(row_id, worker, DUE_PENDING, status=DUE_SENT, sent_at=self._clock(), next_reminder_at=next_reminder_at)

    def mark_reminded(self, row_id: int, worker: str, next_reminder_at: datetime | None) -> bool:
        """A reminder went out; the claim ends. False when `worker` no longer held it."""
        t = scheduled_checkin_table
        return self._finish_claim(
            row_id, worker, DUE_SENT, reminders_sent=t.c.reminders_sent + 1, next_reminder_at=next_reminder_at
        )

    def release(self, row_id: int, worker: str, retry_at: datetime | None = None) -> bool:
        """Give a claim back unsent; no one claims the row again before `retry_at` (quiet hours,
        nobody to send to yet, or a failed send)."""
        t = scheduled_checkin_table
        with self._transaction() as session:
            return bool(session.execute(
                update(t).where(t.c.id == row_id, t.c.claimed_by == worker)
                .values(claimed_by=None, claimed_until=retry_at)
            ).rowcount)

    def cancel_due(self, row_id: int, worker: str) -> bool:
        """Nothing is sent for this row after all (the client left, or has no schedule now); a
        row already sent keeps its status and gets no more reminders."""
        t = scheduled_checkin_table
        status = case((t.c.status == DUE_PENDING, DUE_CANCELLED), else_=t.c.status)
        return self._finish_claim(row_id, worker, None, status=status, next_reminder_at=None)

    def _finish_claim(self, row_id: int, worker: str, held_in: str | None, **values: object) -> bool:
        t = scheduled_checkin_table
        where = [t.c.id == row_id, t.c.claimed_by == worker]
        if held_in is not None:
            where.append(t.c.status == held_in)
        with self._transaction() as session:
            return bool(session.execute(
                update(t).where(*where).values(claimed_by=None, claimed_until=None, **values)
            ).rowcount)

    def close_windows(self) -> tuple[int, int]:
        """Complete each open row whose client completed a check-in between its due time and its
        window's end (in a conversation bound to them, or under their own id), then close the rest
        whose window has passed: expired if sent, cancelled if it never was. Returns (completed, closed)."""
        now = self._clock()
        t, c, b = scheduled_checkin_table, checkin_table, binding_table
        answered = and_(
            c.c.status == COMPLETED,
            c.c.completed_at >= t.c.due_at,
            c.c.completed_at <= t.c.closes_at,
            or_(
                c.c.client_id == t.c.client_id,
                c.c.client_id.in_(select(b.c.conversation_id).where(b.c.client_id == t.c.client_id).correlate(t)),
            ),
        )
        first = select(func.min(c.c.id)).where(answered).correlate(t).scalar_subquery()
        when = select(func.min(c.c.completed_at)).where(answered).correlate(t).scalar_subquery()
        found = select(c.c.id).where(answered).correlate(t).exists()
        with self._transaction() as session:
            completed = session.execute(
                update(t)
                .where(t.c.status.in_((DUE_PENDING, DUE_SENT)), found)
                .values(status=DUE_COMPLETED, checkin_id=first, completed_at=when, next_reminder_at=None)
                .execution_options(synchronize_session=False)
            ).rowcount or 0
            closed = session.execute(
                update(t)
                .where(t.c.status.in_((DUE_PENDING, DUE_SENT)), t.c.closes_at <= now)
                .values(
                    status=case((t.c.status == DUE_SENT, DUE_EXPIRED), else_=DUE_CANCELLED),
                    next_reminder_at=None, claimed_by=None, claimed_until=None,
                )
            ).rowcount or 0
        return int(completed), int(closed)

    def schedule_summaries(self, client_ids: Collection[str] | None = None) -> dict[str, ScheduleSummary]:
        """Per client: the next check-in waiting to be sent, and how many were sent and completed
        (the response rate). Clients with no scheduled check-in are left out."""
        t = scheduled_checkin_table
        query = select(
            t.c.client_id,
            func.min(case((t.c.status == DUE_PENDING, t.c.due_at))).label("next_due_at"),
            func.count(case((t.c.status.in_((DUE_SENT, DUE_COMPLETED, DUE_EXPIRED)), 1))).label("sent"),
            func.count(case((t.c.status == DUE_COMPLETED, 1))).label("completed"),
        ).group_by(t.c.client_id)
        if client_ids is not None:
            query = query.where(t.c.client_id.in_(list(client_ids)))
        with self._transaction() as session:
            rows = session.execute(query).all()
        return {
            row.client_id: ScheduleSummary(
                next_due_at=as_utc(row.next_due_at),
                sent=int(row.sent),
                completed=int(row.completed),
            )
            for row in rows
        }

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _require_client(session: Session, client_id: str) -> None:
        if session.execute(select(client_table.c.id).where(client_table.c.id == client_id)).first() is None:
            raise NotFoundError(f"no client with id {client_id!r}")

    @staticmethod
    def _drop_unsent(session: Session, client_id: str, now: datetime) -> None:
        """Forget the client's planned check-ins that were not sent and are not being sent now."""
        t = scheduled_checkin_table
        session.execute(
            delete(t).where(
                t.c.client_id == client_id,
                t.c.status == DUE_PENDING,
                t.c.sent_at.is_(None),
                or_(t.c.claimed_by.is_(None), t.c.claimed_until <= now),
            )
        )


class _Known:
    def __init__(self, id: int, uid: str, starts_at: datetime) -> None:
        self.id, self.uid, self.starts_at = id, uid, starts_at


def _due_view(row: object) -> DueCheckinView:
    return DueCheckinView(
        id=row.id, client_id=row.client_id, due_at=row.due_at, closes_at=row.closes_at,  # type: ignore[attr-defined]
        status=row.status, sent_at=row.sent_at, reminders_sent=row.reminders_sent,  # type: ignore[attr-defined]
        next_reminder_at=row.next_reminder_at, checkin_id=row.checkin_id,  # type: ignore[attr-defined]
        completed_at=row.completed_at,  # type: ignore[attr-defined]
    )
