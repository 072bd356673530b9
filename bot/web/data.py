"""Read queries for the review page that `bot.store.Store` does not offer, on its engine and tables.

The client list needs, for every client, the scores of their two latest completed, shared
check-ins (for the alert rules) and their crisis events. `Store.checkins()` would decrypt every
stored word to get there; these queries read scores only, in a few round trips however many
clients there are.
Nothing here writes.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Collection, Mapping

from sqlalchemy import func, or_, select, true
from sqlalchemy.exc import SQLAlchemyError

from bot.insights import CRISIS_KINDS, COMPLETED, Alert, current_alerts
from bot.store import (
    ClientView,
    EventView,
    Store,
    StoreError,
    answer_table,
    as_utc,
    checkin_table,
    client_table,
    event_table,
)

CRISIS, ALERT, QUIET = 0, 1, 2  # attention rank: lower comes first
_ID_CHUNK = 900  # ids per IN (...) list, well under SQLite's parameter limit


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
class ClientRow:
    client: ClientView
    alerts: list[Alert]
    crisis_events: list[EventView]  # newest first

    @property
    def attention(self) -> int:
        if self.crisis_events:
            return CRISIS
        return ALERT if self.alerts else QUIET

    @property
    def last_crisis_at(self) -> datetime | None:
        return self.crisis_events[0].created_at if self.crisis_events else None


def _read(store: Store, query: Any) -> list[Any]:
    try:
        with store.engine.connect() as connection:
            return connection.execute(query).all()
    except SQLAlchemyError as exc:
        raise StoreError(f"database error ({type(exc).__name__})") from exc


def _nth_latest_shared(n: int) -> Any:
    """Correlated subquery: the id of a client's n-th latest completed, shared check-in (0-based).
    Walks only that client's check-ins (index on client_id), however many clients there are."""
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
    store: Store, client_ids: Collection[str] | None = None, per_client: int = 2
) -> dict[str, list[ScoreCard]]:
    """Each client's (or only these clients') `per_client` latest completed, shared check-ins,
    oldest first, scores only."""
    if client_ids is None:
        rows = _read(store, select(*(_nth_latest_shared(n) for n in range(per_client))).select_from(client_table))
    else:
        wanted = sorted(set(client_ids))
        rows = []
        for start in range(0, len(wanted), _ID_CHUNK):
            picks = select(*(_nth_latest_shared(n) for n in range(per_client))).where(
                client_table.c.id.in_(wanted[start : start + _ID_CHUNK])
            )
            rows += _read(store, picks)
    ids = sorted({checkin_id for row in rows for checkin_id in row if checkin_id is not None})
    heads: list[Any] = []
    answers: dict[int, dict[str, ScoreOnlyAnswer]] = {}
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = ids[start : start + _ID_CHUNK]
        heads += _read(
            store,
            select(
                checkin_table.c.id, checkin_table.c.client_id, checkin_table.c.started_at, checkin_table.c.completed_at
            ).where(checkin_table.c.id.in_(chunk)),
        )
        score_rows = _read(
            store,
            select(
                answer_table.c.checkin_id, answer_table.c.dimension, answer_table.c.score, answer_table.c.skipped
            ).where(answer_table.c.checkin_id.in_(chunk)),
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


def crisis_events(store: Store, client_id: str | None = None) -> list[EventView]:
    """Crisis events (kind and time only: no words are ever stored with them), newest first."""
    query = (
        select(event_table)
        .where(event_table.c.kind.in_(CRISIS_KINDS))
        .order_by(event_table.c.created_at.desc(), event_table.c.id.desc())
    )
    if client_id is not None:
        query = query.where(event_table.c.client_id == client_id)
    return [
        EventView(id=r.id, client_id=r.client_id, checkin_id=r.checkin_id, kind=r.kind, created_at=as_utc(r.created_at))
        for r in _read(store, query)
    ]


def sort_rows(rows: list[ClientRow]) -> list[ClientRow]:
    """Crisis events first (latest first), then clients with alerts, then the rest; within each,
    the most recent check-in first."""
    oldest = datetime.min.replace(tzinfo=timezone.utc)

    def key(row: ClientRow) -> tuple[Any, ...]:
        recent = row.client.last_checkin_at or row.client.created_at or oldest
        crisis = row.last_crisis_at or oldest
        return (row.attention, -crisis.timestamp() if row.attention == CRISIS else 0, -recent.timestamp(), row.client.id)

    return sorted(rows, key=key)


def current_alerts_by_client(
    store: Store, total_below: float, client_ids: Collection[str] | None = None
) -> dict[str, list[Alert]]:
    """The current alerts of every client (or of these), leaving out clients with none."""
    cards = latest_score_cards(store, client_ids)
    alerts = {client_id: current_alerts(client_cards, total_below) for client_id, client_cards in cards.items()}
    return {client_id: found for client_id, found in alerts.items() if found}


def crisis_events_by_client(store: Store) -> dict[str, list[EventView]]:
    crises: dict[str, list[EventView]] = {}
    for event in crisis_events(store):
        crises.setdefault(event.client_id, []).append(event)
    return crises


def overview(store: Store, total_below: float) -> list[ClientRow]:
    """Every client with their current alerts and crisis events, sorted by what needs attention."""
    return _rows(store.clients(), current_alerts_by_client(store, total_below), crisis_events_by_client(store))


def _rows(
    everyone: list[ClientView], alerts: Mapping[str, list[Alert]], crises: Mapping[str, list[EventView]]
) -> list[ClientRow]:
    return sort_rows([ClientRow(c, alerts.get(c.id, []), crises.get(c.id, [])) for c in everyone])


@dataclass(frozen=True)
class _Snapshot:
    count: int
    max_id: int | None
    max_updated: datetime | None
    alerts: Mapping[str, list[Alert]]
    at: float


class OverviewCache:
    """`overview()` that keeps every client's alerts between requests and recomputes only what
    changed, so the client list stays fast at 1,000 clients.

    Every write to a check-in, its answers or its summary touches the check-in's updated_at
    (`Store._touch`), and new check-ins get higher ids. So after the first full pass, only the
    clients with a check-in updated at or after the newest updated_at seen, or newer than the
    highest id seen, are recomputed. A smaller count (a purge, a deleted client), a newest
    updated_at earlier than before (a clock set back) or a snapshot older than `max_age` seconds
    means a full pass. Clients, labels and crisis events are cheap and read fresh every time.
    """

    def __init__(
        self,
        store: Store,
        total_below: float,
        max_age: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.total_below = total_below
        self.max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
        self.full_passes = 0  # for tests and the bench

    def _fingerprint(self) -> tuple[int, int | None, datetime | None]:
        # Three queries, not one: alone, max() of an indexed column is a single index lookup.
        queries = (
            select(func.count()).select_from(checkin_table),
            select(func.max(checkin_table.c.id)),
            select(func.max(checkin_table.c.updated_at)),
        )
        try:
            with self.store.engine.connect() as connection:
                count, max_id, max_updated = (connection.execute(q).scalar() for q in queries)
        except SQLAlchemyError as exc:
            raise StoreError(f"database error ({type(exc).__name__})") from exc
        return int(count or 0), max_id, as_utc(max_updated)

    def _changed_clients(self, since: _Snapshot) -> set[str]:
        conditions = []
        if since.max_updated is not None:
            conditions.append(checkin_table.c.updated_at >= since.max_updated)
        if since.max_id is not None:
            conditions.append(checkin_table.c.id > since.max_id)
        query = select(checkin_table.c.client_id).distinct()
        if conditions:
            query = query.where(or_(*conditions))
        return {row[0] for row in _read(self.store, query)}

    def alerts(self) -> Mapping[str, list[Alert]]:
        count, max_id, max_updated = self._fingerprint()
        with self._lock:
            last = self._snapshot
        now = self._clock()
        if last is not None and now - last.at < self.max_age:
            if (count, max_id, max_updated) == (last.count, last.max_id, last.max_updated):
                return last.alerts
            went_back = max_updated is not None and last.max_updated is not None and max_updated < last.max_updated
            if count >= last.count and not went_back:
                changed = self._changed_clients(last)
                alerts = {k: v for k, v in last.alerts.items() if k not in changed}
                alerts.update(current_alerts_by_client(self.store, self.total_below, changed))
                self._keep(_Snapshot(count, max_id, max_updated, alerts, last.at))
                return alerts
        alerts = current_alerts_by_client(self.store, self.total_below)
        self.full_passes += 1
        self._keep(_Snapshot(count, max_id, max_updated, alerts, now))
        return alerts

    def _keep(self, snapshot: _Snapshot) -> None:
        with self._lock:
            self._snapshot = snapshot

    def rows(self) -> list[ClientRow]:
        alerts = self.alerts()
        return _rows(self.store.clients(), alerts, crisis_events_by_client(self.store))
