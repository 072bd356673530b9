"""The review page's client list: every client with their current alerts and crisis events,
sorted by what needs attention, from the scores-only reads of `bot.store.Store`.
Nothing here writes.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Collection, Mapping

from bot.insights import Alert, alerts_by_checkin, current_alerts
from bot.store import CheckinView, ClientView, EventView, ScoreCard, Store

CRISIS, ALERT, QUIET = 0, 1, 2  # attention rank: lower comes first


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
    def unacknowledged(self) -> list[EventView]:
        """Crisis events nobody has acknowledged yet (bot/triage.py), newest first."""
        return [e for e in self.crisis_events if not e.acknowledged]

    @property
    def last_crisis_at(self) -> datetime | None:
        return self.crisis_events[0].created_at if self.crisis_events else None


def latest_score_cards(
    store: Store, client_ids: Collection[str] | None = None, per_client: int = 2
) -> dict[str, list[ScoreCard]]:
    """Each client's (or only these clients') `per_client` latest completed, shared check-ins,
    oldest first, scores only."""
    return store.latest_score_cards(client_ids, per_client)


def crisis_events(store: Store, client_id: str | None = None) -> list[EventView]:
    """Crisis events (kind and time: no client words are ever stored with them) with their
    triage (who acknowledged them, when, their note), newest first."""
    return store.crisis_events(client_id)


def sort_rows(rows: list[ClientRow]) -> list[ClientRow]:
    """Crisis events first (unacknowledged ones before acknowledged ones, then the latest first),
    then clients with alerts, then the rest; within each, the most recent check-in first."""
    oldest = datetime.min.replace(tzinfo=timezone.utc)

    def key(row: ClientRow) -> tuple[Any, ...]:
        recent = row.client.last_checkin_at or row.client.created_at or oldest
        crisis = row.last_crisis_at or oldest
        waiting = 0 if row.unacknowledged else 1
        return (row.attention, waiting, -crisis.timestamp() if row.attention == CRISIS else 0, -recent.timestamp(), row.client.id)

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
    (`Store.checkin_fingerprint`), and new check-ins get higher ids. So after the first full pass, only the
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
        return self.store.checkin_fingerprint()

    def _changed_clients(self, since: _Snapshot) -> set[str]:
        return self.store.clients_changed_since(since.max_updated, since.max_id)

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


@dataclass(frozen=True)
class ClientDetail:
    """One client's check-ins (oldest first) with what the rules make of them: what the client
    page and the API both show."""

    client: ClientView
    checkins: list[CheckinView]
    crisis_events: list[EventView]  # newest first
    alerts: list[Alert]  # current alerts
    alerts_by_checkin: Mapping[int, list[Alert]]

    @property
    def row(self) -> ClientRow:
        return ClientRow(self.client, self.alerts, self.crisis_events)


def client_detail(store: Store, client: ClientView, total_below: float) -> ClientDetail:
    checkins = store.checkins(client.id)
    return ClientDetail(
        client=client,
        checkins=checkins,
        crisis_events=crisis_events(store, client.id),
        alerts=current_alerts(checkins, total_below),
        alerts_by_checkin=alerts_by_checkin(checkins, total_below),
    )
