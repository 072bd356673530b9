"""GET /healthz, /readyz and /metrics on the Rasa server, and the turn metrics (docs/operations.md).

Rasa 3.6 has no hook for extra routes, but it mounts every input channel's blueprint at
`/webhooks/` joined with the channel's `url_prefix()`: this channel's prefix is "/", so its
routes are at the server's root. It receives no messages. credentials.yml lists it.

Turns are counted and timed around `Agent.handle_message`, the one call every channel's messages
go through (rasa.core.channels.channel.register), waiting for the conversation's lock included.
"""
from __future__ import annotations

import functools
import time
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.agent import Agent
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.lock_store import RedisLockStore
from sanic import Blueprint

from bot import health, metrics


def _innermost(tracker_store: Any) -> Any:
    """The tracker store behind Rasa's wrappers (AwaitableTrackerStore, FailSafeTrackerStore)."""
    while hasattr(tracker_store, "_tracker_store"):
        tracker_store = tracker_store._tracker_store
    return tracker_store


def rasa_checks(app: Any) -> Dict[str, health.Check]:
    """Model loaded; tracker store database; Redis lock store and event broker when configured."""
    agent: Optional[Agent] = getattr(app.ctx, "agent", None)

    def model() -> str:
        if agent is None or not agent.is_ready():
            raise health.NotReady("no model loaded yet")
        return "loaded"

    checks: Dict[str, health.Check] = {"model": model}
    if agent is None:
        return checks
    tracker_store = _innermost(agent.tracker_store)
    engine = getattr(tracker_store, "engine", None)
    if engine is not None:
        checks["tracker_store"] = health.sql_table_check(
            engine, tracker_store.SQLEvent.__tablename__, "the tracker store's database"
        )
    if isinstance(agent.lock_store, RedisLockStore):
        checks["lock_store"] = health.probe_check(agent.lock_store.red.ping, "Redis")
    broker = getattr(tracker_store, "event_broker", None)
    if broker is not None:
        checks["event_broker"] = health.probe_check(broker.is_ready, "the event broker", no="is not connected")
    return checks


def install_turn_metrics() -> None:
    """Counts and times every message handled (bot.metrics TURNS, TURN_SECONDS); once per process."""
    original = Agent.handle_message
    if getattr(original, "rapport_counted", False):
        return

    @functools.wraps(original)
    async def handle_message(self: Agent, message: UserMessage) -> Any:
        channel = message.input_channel or "unknown"
        started, outcome = time.perf_counter(), "error"
        try:
            result = await original(self, message)
            outcome = "ok"
            return result
        finally:
            metrics.TURN_SECONDS.labels(channel).observe(time.perf_counter() - started)
            metrics.TURNS.labels(channel, outcome).inc()

    handle_message.rapport_counted = True  # type: ignore[attr-defined]
    Agent.handle_message = handle_message  # type: ignore[method-assign]


class OpsInput(InputChannel):
    """credentials.yml key: none. Health, readiness and metrics routes; no messages."""

    @classmethod
    def name(cls) -> Text:
        return "ops"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()

    def url_prefix(self) -> Text:
        return "/"  # urljoin("/webhooks/", "/") is "/": the routes are at the server's root

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        install_turn_metrics()
        return health.blueprint("rapport_ops", rasa_checks)
