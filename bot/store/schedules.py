"""Schedules, therapy sessions and scheduled check-ins (schedule, therapy_session, scheduled_checkin).

Part of the `Store` API (`bot/store/api.py` combines the parts); nothing outside `bot/store/`
touches these tables.
"""
from __future__ import annotations

from typing import Collection

from sqlalchemy import case, func, select

from bot.store.base import StoreBase
from bot.store.schema import scheduled_checkin_table
from bot.store.views import ScheduleSummary, as_utc
from bot.vocabulary import DUE_COMPLETED, DUE_EXPIRED, DUE_PENDING, DUE_SENT


class ScheduleStore(StoreBase):
    """Schedules, therapy sessions and scheduled check-ins."""

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
