"""Readiness checks shared by every process's GET /readyz (docs/operations.md).

A check is a plain function that returns a short detail when its dependency is usable and raises
`NotReady` (or anything else) when it is not. `readiness()` runs the checks off the event loop,
each with a time limit, and gives the HTTP status and body. Details name what failed, never a
URL, a password or a client's data: an unexpected exception is reported by its type only.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Mapping

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from bot.store import Store, StoreError

TIMEOUT_SECONDS = 5.0
Check = Callable[[], str]
# Checks run on threads of their own: a check stuck on a black-holed database host (a TCP connect
# can take minutes) holds one of these, never a thread the app's own blocking work needs.
_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rapport-readyz")


class NotReady(Exception):
    """A dependency is not usable; the message says which and why, without secrets."""


def store_checks(store: Store) -> dict[str, Check]:
    """The check-in store: `database` answers, and `migrations` are at the newest revision."""

    def database() -> str:
        try:
            store.schema_revision()
        except StoreError as exc:
            raise NotReady("the check-in database cannot be reached") from exc
        return "reachable"

    def migrations() -> str:
        try:
            revision = store.schema_revision()
        except StoreError as exc:
            raise NotReady("the check-in database cannot be reached") from exc
        head = store.head_revision()
        if revision is None:
            raise NotReady(f"never migrated; expected revision {head} (python -m bot.review migrate)")
        if revision != head:
            raise NotReady(f"at revision {revision}, expected {head} (python -m bot.review migrate)")
        return f"at head {head}"

    return {"database": database, "migrations": migrations}


def probe_check(probe: Callable[[], Any], what: str, no: str = "does not answer") -> Check:
    """`what` is usable when `probe()` returns something true; it raises or returns false when not.

    A Redis client's `ping`, an event broker's `is_ready`, a SQL query.
    """

    def check() -> str:
        try:
            answer = probe()
        except Exception as exc:  # noqa: BLE001 - any client error means "not usable"
            raise NotReady(f"{what} cannot be reached ({type(exc).__name__})") from exc
        if not answer:
            raise NotReady(f"{what} {no}")
        return "ok"

    return check


def sql_table_check(engine: Engine, table: str, what: str = "the database") -> Check:
    """A SQL database that answers and holds `table` (a database recreated empty has not)."""

    def has_table() -> bool:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            return inspect(connection).has_table(table)

    return probe_check(has_table, what, no=f"has no {table!r} table")


async def _run(check: Check, timeout: float) -> dict[str, Any]:
    try:
        detail = await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(_THREADS, check), timeout)
    except asyncio.TimeoutError:
        return {"ok": False, "detail": f"no answer within {timeout:g} s"}
    except NotReady as exc:
        return {"ok": False, "detail": str(exc)}
    except Exception as exc:  # noqa: BLE001 - a failing check is a "not ready", never a 500
        return {"ok": False, "detail": type(exc).__name__}
    return {"ok": True, "detail": detail}


async def readiness(checks: Mapping[str, Check], timeout: float = TIMEOUT_SECONDS) -> tuple[int, dict[str, Any]]:
    """(200 or 503, {"status": "ready" | "not ready", "checks": {name: {"ok", "detail"}}})."""
    names = list(checks)
    results = await asyncio.gather(*(_run(checks[name], timeout) for name in names))
    body = dict(zip(names, results))
    ready = all(result["ok"] for result in results)
    return (200 if ready else 503), {"status": "ready" if ready else "not ready", "checks": body}


def blueprint(name: str, checks: Callable[[Any], Mapping[str, Check]]) -> Any:
    """A Sanic blueprint with GET /healthz, /readyz (running `checks(app)`) and /metrics.

    Every process mounts it at its root: the Rasa server (channels/ops.py), the action server
    (rasa_sdk_plugins/) and the review page (bot/web/health.py). Sanic is imported here only, so
    the checks above stay usable without it.
    """
    from sanic import Blueprint
    from sanic.response import json, raw

    from bot import metrics

    routes = Blueprint(name)

    @routes.get("/healthz")
    async def healthz(_request: Any) -> Any:
        return json({"status": "alive"})

    @routes.get("/readyz")
    async def readyz(request: Any) -> Any:
        status, body = await readiness(checks(request.app))
        return json(body, status=status)

    @routes.get("/metrics")
    async def metrics_page(_request: Any) -> Any:
        return raw(metrics.exposition(), content_type=metrics.CONTENT_TYPE)

    return routes
