"""The scheduler process: Rapport's periodic jobs, on APScheduler 3 (deploy/compose.yaml's and the
Helm chart's `scheduler`; `make serve` and `make serve-cluster` start it too).

    python -m deploy.scheduler [--once] [--now ISO-8601] [--skip JOB ...]

Jobs (JOBS below), each an APScheduler interval job run at start and then every so often:
- `tick`, every RAPPORT_SCHEDULER_TICK_SECONDS (60): the scheduled check-ins (bot/schedule_tick.py):
  plan, complete or close windows, and open the conversation of each one due (or remind).
- `escalation`, as often: crisis events unacknowledged for RAPPORT_CRISIS_ACK_MINUTES alert the
  practice once more (bot/triage.py).
- `purge`, every RAPPORT_SCHEDULER_INTERVAL_SECONDS (86400, daily): the retention purge
  (`bot.review purge`: check-ins idle longer than RAPPORT_RETENTION_DAYS). On Kubernetes a CronJob
  runs it instead (`--skip purge` there).

Several scheduler processes may run at once (two for availability, say): every scheduled message
is claimed in the database before it is sent (Store.claim_due), so each is sent exactly once.
That is why the per-client schedule lives in Rapport's own tables and not in APScheduler's
SQLAlchemy job store: APScheduler 3 must not share a job store between schedulers
(https://apscheduler.readthedocs.io/en/3.x/userguide.html, "Job stores must never be shared between
schedulers"), so it only runs the few fixed jobs here, in memory, in each process.

`--once` runs each job once and exits (1 if one failed); `--now` sets the clock for that run (the
tests' injected clock). SIGTERM or SIGINT stops the loop after the job that is running.

With RAPPORT_SCHEDULER_PORT set, the loop also answers GET /healthz, /readyz (the database and its
migrations, bot/health.py) and /metrics (rapport_scheduled_sends_total is counted here) on
RAPPORT_SCHEDULER_HOST (127.0.0.1; 0.0.0.0 in a container) at that port, like every other process.
"""
from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import socket
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

logger = logging.getLogger("deploy.scheduler")


@dataclass
class Context:
    """What the jobs share in one process: settings, the store, how to send, who this worker is."""

    settings: Any
    now: Callable[[], datetime]
    worker: str
    _store: Any = None

    @property
    def store(self) -> Any:
        if self._store is None:
            from bot.store import Store

            self._store = Store.from_settings(self.settings, clock=self.now)
        return self._store


def tick(ctx: Context) -> int:
    from bot.schedule_tick import RasaTrigger, tick as run_tick

    sender = RasaTrigger(ctx.settings.rasa_url, ctx.settings.rasa_token)
    result = run_tick(ctx.store, sender, ctx.worker, ctx.now(), ctx.settings.default_timezone)
    if result.sent or result.reminded or result.failed or result.planned or result.closed or result.completed:
        logger.info(
            "scheduled check-ins: %d planned, %d sent, %d reminded, %d failed, %d postponed, %d completed, %d closed",
            result.planned, result.sent, result.reminded, result.failed, result.postponed, result.completed, result.closed,
        )
    return 0


def escalation(ctx: Context) -> int:
    """Crisis events left unacknowledged for RAPPORT_CRISIS_ACK_MINUTES alert the practice once more
    (bot/triage.py; exactly once however many schedulers run). It runs on the real clock."""
    from bot.triage import run_escalation

    escalated = run_escalation(ctx.settings)
    if escalated:
        logger.info("escalated %d unacknowledged crisis event(s)", escalated)
    return 0


def purge(ctx: Context) -> int:
    from bot.review import main as review

    return review(["purge"])


@dataclass(frozen=True)
class Job:
    run: Callable[[Context], int]
    every: Callable[[Any], float]  # seconds between runs, from the settings (checked by load_settings)


JOBS: dict[str, Job] = {
    "tick": Job(tick, lambda settings: settings.scheduler_tick_seconds),
    # Crisis triage: unacknowledged crisis events escalated, as often as the tick.
    "escalation": Job(escalation, lambda settings: settings.scheduler_tick_seconds),
    "purge": Job(purge, lambda settings: settings.scheduler_interval_seconds),
}


def run_job(name: str, ctx: Context) -> int:
    """One job; a failure is logged (and tried again next time), never raised."""
    try:
        return JOBS[name].run(ctx)
    except Exception:  # noqa: BLE001 - one failing job must not stop the others
        logger.exception("job %s failed", name)
        return 1


def run_once(ctx: Context, names: list[str]) -> int:
    return sum(run_job(name, ctx) != 0 for name in names)


def worker_id() -> str:
    """This process's name in the scheduled check-ins' claims."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(3)}"


def parse_now(raw: str) -> datetime:
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.scheduler")
    parser.add_argument("--once", action="store_true", help="run each job once and exit (1 if one failed)")
    parser.add_argument("--now", help="with --once: the time to run at (ISO 8601; UTC unless it says otherwise)")
    parser.add_argument("--skip", action="append", default=[], choices=sorted(JOBS), help="a job not to run here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from bot.config import load_settings

    names = [name for name in JOBS if name not in args.skip]
    if args.now and not args.once:
        print("--now goes with --once", file=sys.stderr)
        return 2
    try:
        settings = load_settings()  # a bad setting (RAPPORT_SCHEDULER_TICK_SECONDS=0, say) is refused here
        fixed = parse_now(args.now) if args.now else None
        intervals = {name: JOBS[name].every(settings) for name in names}
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    ctx = Context(settings, (lambda: fixed) if fixed else (lambda: datetime.now(timezone.utc)), worker_id())  # type: ignore[return-value, misc]
    if args.once:
        return 1 if run_once(ctx, names) else 0
    return serve(ctx, intervals)


def serve_health(ctx: Context, host: str, port: int) -> Any:
    """/healthz, /readyz and /metrics on a thread of their own (docs/operations.md)."""
    import asyncio
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from bot import health, metrics

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            kind = "application/json"
            if self.path == "/healthz":
                status, body = 200, json.dumps({"status": "alive"}).encode()
            elif self.path == "/readyz":
                status, report = asyncio.run(health.readiness(health.store_checks(ctx.store)))
                body = json.dumps(report).encode()
            elif self.path == "/metrics":
                status, body, kind = 200, metrics.exposition(), metrics.CONTENT_TYPE
            else:
                status, body = 404, b'{"error": "not_found"}'
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="scheduler-health", daemon=True).start()
    return server


def serve(ctx: Context, intervals: dict[str, float]) -> int:
    from apscheduler.schedulers.blocking import BlockingScheduler

    port = ctx.settings.extra.get("RAPPORT_SCHEDULER_PORT")
    if port:
        serve_health(ctx, ctx.settings.extra.get("RAPPORT_SCHEDULER_HOST") or "127.0.0.1", int(port))

    scheduler = BlockingScheduler(timezone=timezone.utc)
    start = datetime.now(timezone.utc)
    for name, seconds in intervals.items():
        # max_instances=1 and coalesce: a slow round is never run twice at once nor caught up on.
        scheduler.add_job(run_job, "interval", args=(name, ctx), seconds=seconds, id=name, next_run_time=start,
                          max_instances=1, coalesce=True, misfire_grace_time=None)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: scheduler.shutdown(wait=False))
    logger.info("scheduler %s running: %s", ctx.worker, ", ".join(f"{n} every {s:g}s" for n, s in intervals.items()))
    scheduler.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
