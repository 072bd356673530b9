"""The periodic jobs, for a deployment without a cron (deploy/compose.yaml's `scheduler` service).

    python -m deploy.scheduler [--once]

Runs each job now and then every RAPPORT_SCHEDULER_INTERVAL_SECONDS (default 86400, once a day)
until SIGTERM or SIGINT. The jobs today: the retention purge (`bot.review purge`: check-ins idle
longer than RAPPORT_RETENTION_DAYS). A job that fails is logged and tried again next round. On
Kubernetes the same job is a CronJob running `purge` (deploy/helm/rapport), not this loop.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from typing import Callable

logger = logging.getLogger("deploy.scheduler")


def purge() -> int:
    from bot.review import main as review

    return review(["purge"])


JOBS: dict[str, Callable[[], int]] = {"purge": purge}


def run_once() -> int:
    failures = 0
    for name, job in JOBS.items():
        try:
            status = job()
        except Exception:  # noqa: BLE001 - one failing job must not stop the others
            logger.exception("job %s failed", name)
            status = 1
        failures += status != 0
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.scheduler")
    parser.add_argument("--once", action="store_true", help="run each job once and exit (1 if one failed)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.once:
        return 1 if run_once() else 0
    raw = os.environ.get("RAPPORT_SCHEDULER_INTERVAL_SECONDS") or "86400"
    try:
        interval = float(raw)
        assert interval >= 1
    except (ValueError, AssertionError):
        print(f"RAPPORT_SCHEDULER_INTERVAL_SECONDS must be a number of seconds >= 1 (got {raw!r})", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.is_set():
        run_once()
        stop.wait(interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
