"""One round of the scheduler: plan the check-ins the schedules ask for, complete or close the
ones whose window ended, and open the conversation for each one due (the first message or a
reminder), exactly once however many schedulers run.

`tick(store, sender, worker, now)` is what `python -m deploy.scheduler` runs every
RAPPORT_SCHEDULER_TICK_SECONDS. Rapport opens the conversation itself, in the practice's name,
by triggering an intent in the client's bound conversation through Rasa's HTTP API
(`RasaTrigger`): Rasa answers with the response for that intent through the channel's output,
which sends it to the bound address (channels.common.BoundOutput). The conversation's state is
then real: the client's "1" or "yes" answers the invitation like any other.

Nothing is sent in quiet hours (the claim is given back until they end), to a STOPped address or
to a client who left (`Store.reachable_bindings`), or outside the check-in's window.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import quote, urlencode

from bot import metrics
from bot.schedule import Rule, due_times, next_reminder, quiet_end_after, zone
from bot.store import BindingView, DueCheckinView, ScheduleView, Store

logger = logging.getLogger("bot.schedule_tick")

SCHEDULED_INTENT = "scheduled_checkin"  # domain.yml: the invitation to this check-in
REMINDER_INTENT = "checkin_reminder"  # ... and the reminder
PLAN_AHEAD = timedelta(days=8)  # rows are planned this far ahead (the review page's "next check-in")
LEASE = timedelta(minutes=5)  # a claim's lease: far longer than one send (SEND_TIMEOUT)
RETRY = timedelta(minutes=15)  # nobody to send to yet, or a failed send: try again after this
SEND_TIMEOUT = 30.0

# Which of Rasa's input channels sends to a binding's channel (bot.vocabulary.CLIENT_CHANNELS).
# The web chat has no address to send to while the page is closed: it is never chosen.
OUTPUT_CHANNELS = {"telegram": "telegram", "slack": "slack", "sms": "twilio", "whatsapp": "twilio", "twilio": "twilio"}


class Sender(Protocol):
    def open(self, conversation_id: str, output_channel: str, intent: str) -> None:
        """Open the conversation with `intent`'s message; raise when it was not delivered."""


class SendFailed(Exception):
    pass


class RasaTrigger:
    """POST /conversations/<id>/trigger_intent?output_channel=<channel>&token=... on Rasa's HTTP API.

    `rasa_urls`: one URL, or several separated by commas (the replicas); the next is tried only when
    one cannot be reached at all, so a message Rasa may have handled is never sent twice."""

    def __init__(self, rasa_urls: str, token: str, timeout: float = SEND_TIMEOUT) -> None:
        self.urls = [url.strip().rstrip("/") for url in rasa_urls.split(",") if url.strip()]
        self.token, self.timeout = token, timeout

    def open(self, conversation_id: str, output_channel: str, intent: str) -> None:
        import requests

        query = urlencode({"output_channel": output_channel, "token": self.token})
        path = f"/conversations/{quote(conversation_id, safe='')}/trigger_intent?{query}"
        reply = None
        for url in self.urls:
            try:
                reply = requests.post(url + path, json={"name": intent}, timeout=self.timeout)
                break
            except requests.ConnectionError:
                continue  # not reached: the next replica
            except requests.RequestException as error:
                raise SendFailed(f"Rasa did not answer: {type(error).__name__}") from None
        if reply is None:
            raise SendFailed("no Rasa server could be reached")
        if reply.status_code != 200:
            raise SendFailed(f"Rasa answered HTTP {reply.status_code}")
        try:
            body = reply.json()
        except ValueError:
            raise SendFailed("Rasa's answer was not JSON") from None
        if isinstance(body, dict) and "messages" in body:  # no such output channel: collected, not sent
            raise SendFailed(f"Rasa has no {output_channel!r} channel to send through")


@dataclass
class TickResult:
    planned: int = 0
    completed: int = 0
    closed: int = 0
    sent: int = 0
    reminded: int = 0
    postponed: int = 0  # quiet hours, or nobody to send to yet
    failed: int = 0
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)


def rule_of(schedule: ScheduleView) -> Rule:
    return Rule(
        kind=schedule.kind, send_time=schedule.send_time, weekday=schedule.weekday,
        quiet_start=schedule.quiet_start, quiet_end=schedule.quiet_end,
        remind_after_hours=schedule.remind_after_hours, max_reminders=schedule.max_reminders,
        window_days=schedule.window_days,
    )


def plan(store: Store, now: datetime, default_timezone: str = "UTC") -> int:
    """Plan the check-ins of every active schedule due from when it was set (and no further back
    than its window) up to PLAN_AHEAD from now. Returns how many rows are new."""
    schedules = store.active_schedules()
    if not schedules:
        return 0
    longest = max(timedelta(days=s.window_days) for s in schedules)
    sessions = store.session_times([s.client_id for s in schedules], now - longest - timedelta(days=2))
    added = 0
    for schedule in schedules:
        try:
            rule, tz = rule_of(schedule), zone(schedule.timezone or default_timezone)
        except ValueError as error:
            logger.warning("a schedule cannot be read (%s); nothing planned for it", error)
            continue
        since = max(schedule.updated_at, now - rule.window)
        due = due_times(rule, tz, sessions.get(schedule.client_id, []), since, now + PLAN_AHEAD)
        windows = [(at, rule.closes_at(at)) for at in due if rule.closes_at(at) > now]
        if windows:
            added += store.plan_checkins(schedule.client_id, windows)
    return added


def tick(store: Store, sender: Sender, worker: str, now: datetime, default_timezone: str = "UTC") -> TickResult:
    """One round (see the module's docstring). `now` must be the store's clock's now."""
    result = TickResult(planned=plan(store, now, default_timezone))
    result.completed, result.closed = store.close_windows()
    for due in store.claim_due(worker, LEASE):
        outcome = _send_one(store, sender, worker, now, due, default_timezone)
        setattr(result, outcome, getattr(result, outcome) + 1)
        if outcome in ("sent", "reminded", "failed"):
            metrics.SCHEDULED_SENDS.labels(outcome=outcome).inc()
    return result


def _send_one(store: Store, sender: Sender, worker: str, now: datetime, due: DueCheckinView, default_timezone: str) -> str:
    schedule = store.schedule(due.client_id)
    if schedule is None or not schedule.active or schedule.client_stopped_at is not None:
        store.cancel_due(due.id, worker)
        return "cancelled"
    try:
        rule, tz = rule_of(schedule), zone(schedule.timezone or default_timezone)
    except ValueError:
        store.cancel_due(due.id, worker)
        return "cancelled"
    quiet_until = quiet_end_after(now, rule, tz)
    if quiet_until is not None:
        store.release(due.id, worker, quiet_until)
        return "postponed"
    binding = _sendable(store.reachable_bindings(due.client_id))
    if binding is None:
        store.release(due.id, worker, now + RETRY)
        return "postponed"
    intent = REMINDER_INTENT if due.is_reminder else SCHEDULED_INTENT
    try:
        sender.open(binding.conversation_id, OUTPUT_CHANNELS[binding.channel], intent)
    except Exception as error:  # noqa: BLE001 - one failed send must not stop the others
        logger.warning("a scheduled message was not sent (%s); trying again later", error)
        store.release(due.id, worker, now + RETRY)
        return "failed"
    if due.is_reminder:
        store.mark_reminded(due.id, worker, next_reminder(rule, tz, now, due.reminders_sent + 1, due.closes_at))
        return "reminded"
    store.mark_sent(due.id, worker, next_reminder(rule, tz, now, 0, due.closes_at))
    return "sent"


def _sendable(bindings: list[BindingView]) -> BindingView | None:
    """The most recently bound conversation Rapport can write to first."""
    return next((b for b in bindings if b.channel in OUTPUT_CHANNELS and b.address), None)


__all__ = [
    "LEASE",
    "OUTPUT_CHANNELS",
    "PLAN_AHEAD",
    "REMINDER_INTENT",
    "RETRY",
    "RasaTrigger",
    "SCHEDULED_INTENT",
    "SendFailed",
    "Sender",
    "TickResult",
    "plan",
    "rule_of",
    "tick",
]
