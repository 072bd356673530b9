"""Every Prometheus metric of Rapport: the one place that owns their names (docs/operations.md).

Each process (Rasa server, action server, review page) imports this module and exposes its own
counters at GET /metrics (`exposition()`); Prometheus scrapes every process and sums in the query.
Labels are small fixed sets (channel names, event kinds, outcomes): never an id or a client's words.
"""
from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest

TURNS = Counter(
    "rapport_turns", "Client messages handled by the Rasa server.", ["channel", "outcome"]
)
TURN_SECONDS = Histogram(
    "rapport_turn_seconds",
    "Seconds from a client message reaching Rasa to its replies (waiting for the conversation's lock included).",
    ["channel"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
CHECKINS_STARTED = Counter("rapport_checkins_started", "Check-ins started.")
CHECKINS_COMPLETED = Counter("rapport_checkins_completed", "Check-ins completed (a retried submit counts once).")
CHECKINS_ABANDONED = Counter(
    "rapport_checkins_abandoned", "Unfinished check-ins given up (a newer one started, or stale)."
)
CRISIS_EVENTS = Counter("rapport_crisis_events", "Crisis events recorded.", ["kind"])
ALERTS_DELIVERED = Counter("rapport_alerts_delivered", "Practice alerts the webhook accepted (2xx).", ["kind"])
ALERTS_FAILED = Counter(
    "rapport_alerts_failed", "Practice alerts given up (not an http(s) URL, a 4xx, or every retry failed).", ["kind"]
)
SCHEDULED_SENDS = Counter(
    "rapport_scheduled_sends", "Scheduled messages sent to clients (the scheduler comes later).", ["outcome"]
)

ALL = (
    TURNS, TURN_SECONDS, CHECKINS_STARTED, CHECKINS_COMPLETED, CHECKINS_ABANDONED,
    CRISIS_EVENTS, ALERTS_DELIVERED, ALERTS_FAILED, SCHEDULED_SENDS,
)
CONTENT_TYPE = CONTENT_TYPE_LATEST


def names() -> set[str]:
    """Every series name a query may use: counters' `_total`, histograms' `_bucket`/`_sum`/`_count`."""
    found: set[str] = set()
    for metric in ALL:
        for family in metric.describe():
            if family.type == "counter":
                found.add(family.name + "_total")
            elif family.type == "histogram":
                found.update(family.name + suffix for suffix in ("_bucket", "_sum", "_count"))
            else:  # pragma: no cover - only counters and histograms are declared
                found.add(family.name)
    return found


def exposition() -> bytes:
    """This process's metrics in the Prometheus text format."""
    return generate_latest(REGISTRY)
