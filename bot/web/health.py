"""The review page's GET /healthz, /readyz and /metrics (docs/operations.md).

Ready when the check-in database (`app.ctx.store`) answers and is migrated to the newest revision
(bot/health.py).
"""
from __future__ import annotations

from sanic import Blueprint

from bot import health


def blueprint() -> Blueprint:
    return health.blueprint("rapport_review_health", lambda app: health.store_checks(app.ctx.store))
