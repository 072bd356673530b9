"""Read queries for the review page that `bot.store.Store` does not offer, on its engine and tables.

The client list needs, for every client, the scores of their two latest completed, shared
check-ins (for the alert rules) and their crisis events. `Store.checkins()` would decrypt every
stored word to get there; these queries read scores only, in two round trips however many
clients there are. Nothing here writes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from sqlalchemy import func, select, true

from bot.insights import CRISIS_KINDS, COMPLETED, Alert, current_alerts
from bot.store import (
    ClientView,
    EventView,
    Store,
    StoreError,
    answer_table,
    checkin_table,
    event_table,
)

CRISIS, ALERT, QUIET = 0, 1, 2  # attention rank: lower comes first


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


def _utc(value: Any) -> datetime | None:
    """A timestamp read through a subquery (SQLite may hand back text) as aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _read(store: Store, query: Any) -> list[Any]:
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with store.engine.connect() as connection:
            return connection.execute(query).all()
    except SQLAlchemyError as exc:
        raise StoreError(f"database error ({type(exc).__name__})") from exc


def latest_score_cards(store: Store, client_id: str | None = None, per_client: int = 2) -> dict[str, list[ScoreCard]]:
    """Each client's `per_client` latest completed, shared check-ins (oldest first), scores only."""
    ranked_query = select(
        checkin_table.c.id,
        checkin_table.c.client_id,
        checkin_table.c.started_at,
        checkin_table.c.completed_at,
        func.row_number()
        .over(
            partition_by=checkin_table.c.client_id,
            order_by=(checkin_table.c.completed_at.desc(), checkin_table.c.id.desc()),
        )
        .label("position"),
    ).where(checkin_table.c.status == COMPLETED, checkin_table.c.shared == true())
    if client_id is not None:
        ranked_query = ranked_query.where(checkin_table.c.client_id == client_id)
    ranked = ranked_query.subquery()
    query = (
        select(
            ranked.c.id,
            ranked.c.client_id,
            ranked.c.started_at,
            ranked.c.completed_at,
            answer_table.c.dimension,
            answer_table.c.score,
            answer_table.c.skipped,
        )
        .select_from(ranked.outerjoin(answer_table, answer_table.c.checkin_id == ranked.c.id))
        .where(ranked.c.position <= per_client)
    )
    cards: dict[int, tuple[Any, dict[str, ScoreOnlyAnswer]]] = {}
    for row in _read(store, query):
        head, answers = cards.setdefault(row.id, (row, {}))
        if row.dimension is not None:
            answers[row.dimension] = ScoreOnlyAnswer(row.dimension, row.score, bool(row.skipped))
    result: dict[str, list[ScoreCard]] = {}
    for head, answers in cards.values():
        result.setdefault(head.client_id, []).append(
            ScoreCard(head.id, head.client_id, _utc(head.started_at), _utc(head.completed_at), answers)
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
        EventView(id=r.id, client_id=r.client_id, checkin_id=r.checkin_id, kind=r.kind, created_at=_utc(r.created_at))
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


def overview(store: Store, total_below: float) -> list[ClientRow]:
    """Every client with their current alerts and crisis events, sorted by what needs attention."""
    clients = store.clients()
    cards = latest_score_cards(store)
    crises: dict[str, list[EventView]] = {}
    for event in crisis_events(store):
        crises.setdefault(event.client_id, []).append(event)
    rows = [
        ClientRow(c, current_alerts(cards.get(c.id, []), total_below), crises.get(c.id, []))
        for c in clients
    ]
    return sort_rows(rows)
