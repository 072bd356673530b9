"""Every read of the store: check-ins with their answers, summary and events; clients; and the
scores-only reads behind the review page's client list."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Collection

from sqlalchemy import Column, func, or_, select, true
from sqlalchemy.orm import Session

from bot.dimensions import DIMENSIONS
from bot.store.base import StoreBase
from bot.store.checks import check_checkin_id, check_identifier
from bot.store.schema import (
    CLIENT_ID_MAX,
    COMPLETED,
    OPEN_STATUSES,
    answer_table,
    checkin_table,
    client_table,
    event_table,
    summary_table,
)
from bot.store.views import (
    AnswerView,
    CheckinView,
    ClientView,
    EventView,
    ScoreCard,
    ScoreOnlyAnswer,
    as_utc,
)

_ID_CHUNK = 900  # ids per IN (...) list, well under SQLite's parameter limit


class StoreReads(StoreBase):
    """The reads; `Store` adds the writes."""

    def _answer_view(self, row: Any, include_text: bool = True) -> AnswerView:
        return AnswerView(
            dimension=row.dimension,
            score=row.score,
            text=(self._decrypt(row.text) or "") if include_text else "",
            followup=self._decrypt(row.followup) if include_text else None,
            skipped=bool(row.skipped),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @staticmethod
    def _event_view(row: Any) -> EventView:
        return EventView(
            id=row.id,
            client_id=row.client_id,
            checkin_id=row.checkin_id,
            kind=row.kind,
            created_at=row.created_at,
            acknowledged_at=row.acknowledged_at,
            acknowledged_by=row.acknowledged_by,
            escalated_at=row.escalated_at,
        )

    @staticmethod
    def _ordered(answers: dict[str, AnswerView]) -> dict[str, AnswerView]:
        return {d: answers[d] for d in DIMENSIONS if d in answers}

    def _checkin_view(
        self,
        row: Any,
        answers: dict[str, AnswerView],
        summary: str | None,
        events: tuple[EventView, ...],
    ) -> CheckinView:
        return CheckinView(
            id=row.id,
            client_id=row.client_id,
            channel=row.channel,
            status=row.status,
            shared=bool(row.shared),
            started_at=row.started_at,
            updated_at=row.updated_at,
            completed_at=row.completed_at,
            answers=self._ordered(answers),
            summary=summary,
            events=events,
        )

    def _load_one(self, session: Session, row: Any) -> CheckinView:
        answers = {
            a.dimension: self._answer_view(a)
            for a in session.execute(
                select(answer_table).where(answer_table.c.checkin_id == row.id)
            )
        }
        summary = session.execute(
            select(summary_table.c.text).where(summary_table.c.checkin_id == row.id)
        ).scalar_one_or_none()
        events = tuple(
            self._event_view(e)
            for e in session.execute(
                select(event_table)
                .where(event_table.c.checkin_id == row.id)
                .order_by(event_table.c.created_at, event_table.c.id)
            )
        )
        return self._checkin_view(row, answers, self._decrypt(summary), events)

    def _first_checkin(self, query: Any) -> CheckinView | None:
        with self._transaction() as session:
            row = session.execute(query.limit(1)).first()
            return None if row is None else self._load_one(session, row)

    def owns(self, client_id: str, checkin_id: int) -> bool:
        """Whether check-in `checkin_id` exists and belongs to `client_id` (writes check this first:
        a conversation only ever writes its own client's check-ins)."""
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        checkin_id = check_checkin_id(checkin_id)
        with self._transaction() as session:
            found = session.execute(select(checkin_table.c.id).where(
                checkin_table.c.id == checkin_id, checkin_table.c.client_id == client_id)).first()
        return found is not None

    def checkin(self, checkin_id: int) -> CheckinView | None:
        checkin_id = check_checkin_id(checkin_id)
        return self._first_checkin(select(checkin_table).where(checkin_table.c.id == checkin_id))

    def open_checkin(self, client_id: str) -> CheckinView | None:
        """The client's latest check-in that is in_progress or paused, if any."""
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        return self._first_checkin(
            select(checkin_table)
            .where(checkin_table.c.client_id == client_id, checkin_table.c.status.in_(OPEN_STATUSES))
            .order_by(checkin_table.c.started_at.desc(), checkin_table.c.id.desc())
        )

    def last_completed(self, client_id: str) -> CheckinView | None:
        """The client's most recently completed check-in, if any."""
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        return self._first_checkin(
            select(checkin_table)
            .where(checkin_table.c.client_id == client_id, checkin_table.c.status == COMPLETED)
            .order_by(checkin_table.c.completed_at.desc(), checkin_table.c.id.desc())
        )

    def answers(self, checkin_id: int) -> dict[str, AnswerView]:
        """The answers of one check-in by dimension, in DIMENSIONS order."""
        checkin_id = check_checkin_id(checkin_id)
        with self._transaction() as session:
            rows = session.execute(select(answer_table).where(answer_table.c.checkin_id == checkin_id))
            return self._ordered({row.dimension: self._answer_view(row) for row in rows})

    def checkins(
        self,
        client_id: str | None = None,
        *,
        since: datetime | None = None,
        include_text: bool = True,
        client_ids: Collection[str] | None = None,
    ) -> list[CheckinView]:
        """Every check-in (or one client's; or only those started at or after `since`), oldest
        first, with answers, summary and events. Four queries, however many check-ins.
        `client_ids`: only these clients' (a clinician's caseload).

        Decrypting is most of the cost (~120,000 texts for 20,000 check-ins): for scores and
        statuses only, pass include_text=False and every text, follow-up and summary is left
        empty ("" / None) instead of decrypted.
       """
        if client_id is not None:
            check_identifier("client_id", client_id, CLIENT_ID_MAX)
        conditions = []
        if client_id is not None:
            conditions.append(checkin_table.c.client_id == client_id)
        if since is not None:
            conditions.append(checkin_table.c.started_at >= since)
        if client_ids is not None:
            conditions.append(checkin_table.c.client_id.in_(list(client_ids)))

        def scoped(query: Any, checkin_column: Column) -> Any:
            if not conditions:
                return query
            return query.join(checkin_table, checkin_table.c.id == checkin_column).where(*conditions)

        with self._transaction() as session:
            rows = session.execute(
                select(checkin_table)
                .where(*conditions)
                .order_by(checkin_table.c.started_at, checkin_table.c.id)
            ).all()

            answers: dict[int, dict[str, AnswerView]] = {}
            for a in session.execute(scoped(select(answer_table), answer_table.c.checkin_id)):
                answers.setdefault(a.checkin_id, {})[a.dimension] = self._answer_view(a, include_text)

            summaries: dict[int, str | None] = {}
            if include_text:
                for s in session.execute(scoped(select(summary_table), summary_table.c.checkin_id)):
                    summaries[s.checkin_id] = self._decrypt(s.text)

            events: dict[int, list[EventView]] = {}
            event_query = scoped(select(event_table), event_table.c.checkin_id).where(
                event_table.c.checkin_id.is_not(None)
            )
            for e in session.execute(event_query.order_by(event_table.c.created_at, event_table.c.id)):
                events.setdefault(e.checkin_id, []).append(self._event_view(e))

        return [
            self._checkin_view(
                row, answers.get(row.id, {}), summaries.get(row.id), tuple(events.get(row.id, ()))
            )
            for row in rows
        ]

    def events(self, client_id: str | None = None) -> list[EventView]:
        """Every event (or one client's), oldest first, including those outside a check-in."""
        if client_id is not None:
            check_identifier("client_id", client_id, CLIENT_ID_MAX)
        query = select(event_table).order_by(event_table.c.created_at, event_table.c.id)
        if client_id is not None:
            query = query.where(event_table.c.client_id == client_id)
        with self._transaction() as session:
            return [self._event_view(e) for e in session.execute(query)]

    def clients(self) -> list[ClientView]:
        """Every client with their check-in count and latest check-in, newest activity first."""
        return self._clients(None)

    def client(self, client_id: str) -> ClientView | None:
        """One client, or None."""
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        found = self._clients(client_id)
        return found[0] if found else None

    def _clients(self, client_id: str | None) -> list[ClientView]:
        # Each client's latest check-in through the (client_id, started_at) index, and the
        # counts in one GROUP BY: a window over every check-in took ~0.3 s for 20,000 on SQLite.
        latest = (
            select(checkin_table.c.id)
            .where(checkin_table.c.client_id == client_table.c.id)
            .order_by(checkin_table.c.started_at.desc(), checkin_table.c.id.desc())
            .limit(1)
            .correlate(client_table)
            .scalar_subquery()
        )
        heads = select(client_table, latest.label("last_id"))
        counts = select(checkin_table.c.client_id, func.count().label("total")).group_by(checkin_table.c.client_id)
        if client_id is not None:
            heads = heads.where(client_table.c.id == client_id)
            counts = counts.where(checkin_table.c.client_id == client_id)
        heads_q, counts_q = heads.subquery(), counts.subquery()
        last = checkin_table.alias("last_checkin")
        query = select(
            heads_q,
            last.c.started_at.label("last_at"),
            last.c.status.label("last_status"),
            last.c.shared.label("last_shared"),
            counts_q.c.total,
        ).select_from(
            heads_q.outerjoin(last, last.c.id == heads_q.c.last_id).outerjoin(
                counts_q, counts_q.c.client_id == heads_q.c.id
            )
        )
        with self._transaction() as session:
            rows = session.execute(query).all()
        views = [
            ClientView(
                id=row.id,
                label=self._decrypt(row.label),
                # SQLite hands back subquery datetimes as text: read them through as_utc.
                created_at=as_utc(row.created_at),
                checkin_count=int(row.total or 0),
                last_checkin_id=row.last_id,
                last_checkin_at=as_utc(row.last_at),
                last_status=row.last_status,
                last_shared=None if row.last_shared is None else bool(row.last_shared),
                clinician_id=row.clinician_id,
                external_id=self._decrypt(row.external_id),
                preferred_channel=row.preferred_channel,
                timezone=row.timezone,
                enrolled_at=as_utc(row.enrolled_at),
                stopped_at=as_utc(row.stopped_at),
            )
            for row in rows
        ]
        oldest = datetime.min.replace(tzinfo=timezone.utc)
        views.sort(key=lambda v: (v.last_checkin_at or v.created_at or oldest, v.id), reverse=True)
        return views

    # ------------------------------------------------------------------ reads for the review page
    # The client list needs, for every client, the scores of their two latest completed, shared
    # check-ins (for the alert rules) and their crisis events. `checkins()` would decrypt every
    # stored word to get there; these read scores only, in a few round trips however many
    # clients there are.

    def _rows(self, query: Any) -> list[Any]:
        with self._transaction() as session:
            return session.execute(query).all()

    @staticmethod
    def _nth_latest_shared(n: int) -> Any:
        """Correlated subquery: the id of a client's n-th latest completed, shared check-in
        (0-based). Walks only that client's check-ins (index on client_id)."""
        return (
            select(checkin_table.c.id)
            .where(
                checkin_table.c.client_id == client_table.c.id,
                checkin_table.c.status == COMPLETED,
                checkin_table.c.shared == true(),
            )
            .order_by(checkin_table.c.completed_at.desc(), checkin_table.c.id.desc())
            .limit(1)
            .offset(n)
            .correlate(client_table)
            .scalar_subquery()
        )

    def latest_score_cards(
        self, client_ids: Collection[str] | None = None, per_client: int = 2
    ) -> dict[str, list[ScoreCard]]:
        """Each client's (or only these clients') `per_client` latest completed, shared
        check-ins, oldest first, scores only (nothing is decrypted)."""
        picks = select(*(self._nth_latest_shared(n) for n in range(per_client)))
        if client_ids is None:
            rows = self._rows(picks.select_from(client_table))
        else:
            wanted = sorted(set(client_ids))
            rows = []
            for start in range(0, len(wanted), _ID_CHUNK):
                rows += self._rows(picks.where(client_table.c.id.in_(wanted[start : start + _ID_CHUNK])))
        ids = sorted({checkin_id for row in rows for checkin_id in row if checkin_id is not None})
        heads: list[Any] = []
        answers: dict[int, dict[str, ScoreOnlyAnswer]] = {}
        for start in range(0, len(ids), _ID_CHUNK):
            chunk = ids[start : start + _ID_CHUNK]
            heads += self._rows(
                select(
                    checkin_table.c.id, checkin_table.c.client_id, checkin_table.c.started_at, checkin_table.c.completed_at
                ).where(checkin_table.c.id.in_(chunk))
            )
            score_rows = self._rows(
                select(
                    answer_table.c.checkin_id, answer_table.c.dimension, answer_table.c.score, answer_table.c.skipped
                ).where(answer_table.c.checkin_id.in_(chunk))
            )
            for checkin_id, dimension, score, skipped in score_rows:
                answers.setdefault(checkin_id, {})[dimension] = ScoreOnlyAnswer(dimension, score, bool(skipped))
        result: dict[str, list[ScoreCard]] = {}
        for checkin_id, owner, started_at, completed_at in heads:
            result.setdefault(owner, []).append(
                ScoreCard(checkin_id, owner, as_utc(started_at), as_utc(completed_at), answers.get(checkin_id, {}))
            )
        for client_cards in result.values():
            client_cards.sort(key=lambda c: (c.completed_at or c.started_at, c.id))
        return result

    def events_of_kinds(self, kinds: Collection[str], client_id: str | None = None) -> list[EventView]:
        """Events of these kinds (every client's, or one's), newest first."""
        if client_id is not None:
            check_identifier("client_id", client_id, CLIENT_ID_MAX)
        query = (
            select(event_table)
            .where(event_table.c.kind.in_(list(kinds)))
            .order_by(event_table.c.created_at.desc(), event_table.c.id.desc())
        )
        if client_id is not None:
            query = query.where(event_table.c.client_id == client_id)
        return [self._event_view(row) for row in self._rows(query)]

    def checkin_fingerprint(self) -> tuple[int, int | None, datetime | None]:
        """How many check-ins there are, the highest id and the latest updated_at: what changes
        whenever a check-in, its answers or its summary is written (every write touches
        updated_at, and new check-ins get higher ids)."""
        # Three queries, not one: alone, max() of an indexed column is a single index lookup.
        queries = (
            select(func.count()).select_from(checkin_table),
            select(func.max(checkin_table.c.id)),
            select(func.max(checkin_table.c.updated_at)),
        )
        with self._transaction() as session:
            count, max_id, max_updated = (session.execute(q).scalar() for q in queries)
        return int(count or 0), max_id, as_utc(max_updated)

    def clients_changed_since(self, updated_at: datetime | None, above_id: int | None) -> set[str]:
        """Clients with a check-in updated at or after `updated_at`, or with an id above `above_id`."""
        conditions = []
        if updated_at is not None:
            conditions.append(checkin_table.c.updated_at >= updated_at)
        if above_id is not None:
            conditions.append(checkin_table.c.id > above_id)
        query = select(checkin_table.c.client_id).distinct()
        if conditions:
            query = query.where(or_(*conditions))
        return {row[0] for row in self._rows(query)}
