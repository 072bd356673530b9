"""Crisis triage: when a crisis event nobody acknowledged is escalated, and the order staff see them in.

A crisis event is new until a staff member acknowledges it on the review page or through the API
(`Store.acknowledge`). If it is still new RAPPORT_CRISIS_ACK_MINUTES after it happened, the
practice's alert fires once more: `escalate_due` queues an alert of kind `crisis_unacknowledged`
in the durable outbox (bot/outbox.py: signed, retried, no client words; the action server's
delivery worker sends it) and sets the event's `escalated_at` in the same transaction, with a
conditional UPDATE, so however many processes run it at once each event escalates exactly once.
An acknowledged event never escalates.

`run_escalation(settings)` is the scheduler's job: it builds the store and the outbox from the
settings and escalates what is due now. Without an alert webhook there is nobody to tell, and
nothing is escalated.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Iterable

from bot.config import Settings
from bot.outbox import AlertOutbox, OutboxSettings
from bot.store import EventView, Store

logger = logging.getLogger(__name__)

ESCALATION_KIND = "crisis_unacknowledged"
# An event that became overdue longer ago than this is not escalated any more (one recorded before
# triage existed, or while no scheduler ran for days): a burst of stale alerts helps nobody, and
# the review page keeps every unacknowledged event at the top.
ESCALATION_HORIZON = timedelta(days=2)


def escalate_due(
    store: Store, outbox: AlertOutbox, now: datetime, minutes: int, *, horizon: timedelta = ESCALATION_HORIZON
) -> int:
    """Escalates every crisis event created at least `minutes` before `now` that is neither
    acknowledged nor escalated yet: one alert each through `outbox`, recorded with the event's
    `escalated_at = now` in one transaction. Returns how many this call escalated (0 when
    `minutes` is 0 or the outbox has no webhook)."""
    if minutes <= 0 or not outbox.enabled:
        return 0
    due_before = now - timedelta(minutes=minutes)

    def add_alert(session: object, event: EventView) -> None:
        outbox.adder(event.client_id, ESCALATION_KIND, event.checkin_id)(session)

    escalated = sum(
        store.mark_escalated(event_id, now, then=add_alert)
        for event_id in store.escalation_candidates(due_before, due_before - horizon)
    )
    if escalated:
        logger.warning("%d crisis event(s) unacknowledged after %d minutes: the practice's alert fired again",
                       escalated, minutes)
        outbox.wake()
    return escalated


def run_escalation(settings: Settings) -> int:
    """The scheduler's job: escalates what is due now on `settings`' database. Returns how many."""
    store = Store.from_settings(settings)
    try:
        outbox = AlertOutbox(store.engine, OutboxSettings.from_env(settings.extra))
        return escalate_due(store, outbox, datetime.now(timezone.utc), settings.crisis_ack_minutes)
    finally:
        store.dispose()


def in_triage_order(events: Iterable[EventView]) -> list[EventView]:
    """Unacknowledged events first, the longest waiting first; then acknowledged ones, newest first."""
    events = list(events)
    new = sorted((e for e in events if not e.acknowledged), key=lambda e: (e.created_at, e.id))
    done = sorted((e for e in events if e.acknowledged), key=lambda e: (e.created_at, e.id), reverse=True)
    return new + done
