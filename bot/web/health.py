"""The review page's GET /healthz, /readyz and /metrics (docs/operations.md).

Ready when the check-in database answers and is migrated to the newest revision (bot/health.py).
"""
from __future__ import annotations

from sanic import Blueprint

from bot import health
from bot.store import Store


def blueprint(store: Store) -> Blueprint:
    return health.blueprint("rapport_review_health", lambda _app: health.store_checks(store))
