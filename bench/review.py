"""Speed of the review page at practice scale: 1,000 clients, 20,000 check-ins.

    .venv/bin/python -m bench.review [--clients 1000] [--checkins 20000] [--requests 20] [--no-pg]

Seeds a temp SQLite database (and a throwaway PostgreSQL one when a server answers at
RAPPORT_TEST_PG_ADMIN_URL, default postgresql://postgres@127.0.0.1:5432/postgres) with bulk
inserts through the store's engine and tables (every text encrypted as the store would), starts
the real review server (`python -m bot.web`), logs in, and times the client list page and client
pages: p50 / p95 over N requests each, after two warm-up requests. Target: < 300 ms each.
The list page keeps every client's alerts between requests (bot.web.data.OverviewCache),
recomputing only the clients whose check-ins changed. "after a change" times it with a
check-in touched before every request. The full pass over every client runs once, in the
background, when the server starts; its time is printed too.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

import requests  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.crypto import TextCipher, generate_key  # noqa: E402
from bot.dimensions import DIMENSIONS  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.schema import (  # noqa: E402
    answer_table,
    checkin_table,
    client_table,
    event_table,
    summary_table,
)
from bot.insights import DEFAULT_TOTAL_BELOW  # noqa: E402
from bot.web.data import current_alerts_by_client  # noqa: E402
from tests.harness import ReviewServer, login, review_env  # noqa: E402

TARGET_MS = 300.0
PG_ADMIN_URL = os.environ.get("RAPPORT_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
_BATCH = 5_000


def seed(store: Store, clients: int, checkins: int, rng: random.Random) -> list[str]:
    """Bulk-insert clients, check-ins (about 8% private, 5% abandoned), answers with words and
    follow-ups, summaries and a few crisis events. Returns the client ids."""
    cipher = store.cipher
    words = [cipher.encrypt(f"sample answer words number {i}, a sentence or two long") for i in range(64)]
    followups = [cipher.encrypt(f"a follow-up, said a little later ({i})") for i in range(16)]
    summaries = [cipher.encrypt(f"Here's a short summary of what you shared ({i}).") for i in range(32)]
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    ids = [uuid.uuid4().hex + uuid.uuid4().hex for _ in range(clients)]
    per_client = checkins // clients
    client_rows, checkin_rows, answer_rows, summary_rows, event_rows = [], [], [], [], []
    checkin_id = 0
    for client_id in ids:
        client_rows.append({"id": client_id, "label": None, "created_at": start})
        base = rng.randint(3, 5)
        for n in range(per_client):
            checkin_id += 1
            began = start + timedelta(days=n * 7, hours=rng.randint(0, 72))
            status = "abandoned" if rng.random() < 0.05 else "completed"
            checkin_rows.append(
                {
                    "id": checkin_id, "client_id": client_id, "channel": "bench", "status": status,
                    "shared": rng.random() >= 0.08, "started_at": began, "updated_at": began,
                    "completed_at": began + timedelta(minutes=4) if status == "completed" else None,
                }
            )
            for dimension in DIMENSIONS:
                skipped = rng.random() < 0.03
                score = None if skipped else max(1, min(5, base + rng.randint(-2, 1)))
                answer_rows.append(
                    {
                        "checkin_id": checkin_id, "dimension": dimension, "score": score, "skipped": skipped,
                        "text": rng.choice(words),
                        "followup": rng.choice(followups) if score is not None and score <= 3 else None,
                        "created_at": began, "updated_at": began,
                    }
                )
            if status == "completed":
                summary_rows.append({"checkin_id": checkin_id, "text": rng.choice(summaries), "created_at": began})
            if rng.random() < 0.002:
                event_rows.append(
                    {"client_id": client_id, "checkin_id": checkin_id, "kind": "crisis", "created_at": began}
                )
    with store.engine.begin() as connection:
        for table, rows in (
            (client_table, client_rows), (checkin_table, checkin_rows), (answer_table, answer_rows),
            (summary_table, summary_rows), (event_table, event_rows),
        ):
            for i in range(0, len(rows), _BATCH):
                connection.execute(table.insert(), rows[i : i + _BATCH])
        if store.engine.dialect.name == "postgresql":
            connection.execute(text("SELECT setval('checkin_id_seq', (SELECT max(id) FROM checkin))"))
            connection.execute(text("ANALYZE"))
    return ids


def _timed(http: requests.Session, url: str) -> float:
    started = time.perf_counter()
    response = http.get(url, allow_redirects=False)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return elapsed


def _figures(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    verdict = "ok" if p95 < TARGET_MS else f"OVER the {TARGET_MS:.0f} ms target"
    return f"p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   ({len(samples)} requests; {verdict})"


def run(database_url: str, label: str, args: argparse.Namespace) -> None:
    key = generate_key()
    store = Store(database_url, TextCipher([key]))
    store.migrate()
    rng = random.Random(7)
    began = time.perf_counter()
    ids = seed(store, args.clients, args.checkins, rng)
    seeded = time.perf_counter() - began
    print(f"\n{label}: seeded {args.clients} clients, {args.checkins} check-ins in {seeded:.1f} s")
    passes = []
    for _ in range(3):
        started = time.perf_counter()
        alerts = current_alerts_by_client(store, DEFAULT_TOTAL_BELOW)
        passes.append((time.perf_counter() - started) * 1000)
    store.dispose()
    print(
        f"  every client's alerts, one full pass (in process; the server does it at start): "
        f"{min(passes):.0f} ms best of 3; {len(alerts)} clients have alerts"
    )
    with ReviewServer(review_env(database_url, key)) as server:
        http = requests.Session()
        if login(http, server.url).status_code != 303:
            raise RuntimeError("could not log in")
        for _ in range(2):
            _timed(http, f"{server.url}/")
        listing = [_timed(http, f"{server.url}/") for _ in range(args.requests)]
        # Cold: a check-in changes before every request, so the alerts are recomputed each time.
        engine = create_engine(database_url, future=True)
        cold = []
        for i in range(args.requests):
            with engine.begin() as connection:
                connection.execute(
                    checkin_table.update()
                    .where(checkin_table.c.id == 1 + i)
                    .values(updated_at=datetime.now(timezone.utc) + timedelta(seconds=i))
                )
            cold.append(_timed(http, f"{server.url}/"))
        engine.dispose()
        picks = rng.sample(ids, args.requests)
        for client_id in picks[:2]:
            _timed(http, f"{server.url}/clients/{client_id}")
        pages = [_timed(http, f"{server.url}/clients/{client_id}") for client_id in picks]
        api = [_timed(http, f"{server.url}/api/clients") for _ in range(max(5, args.requests // 4))]
    print(f"  client list page   {_figures(listing)}")
    print(f"  ... after a change {_figures(cold)}")
    print(f"  client page        {_figures(pages)}")
    print(f"  /api/clients       {_figures(api)}")


def _pg_database() -> tuple[Any, str] | None:
    admin = create_engine(PG_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as connection:
            name = f"rapport_bench_{uuid.uuid4().hex[:10]}"
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no server: say so and go on
        print(f"\nPostgreSQL: skipped, not reachable at {make_url(PG_ADMIN_URL).render_as_string(hide_password=True)} "
              f"({type(exc).__name__})")
        admin.dispose()
        return None
    return admin, make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.review", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--checkins", type=int, default=20000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args()
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(prefix="rapport-bench-", dir=shm if shm.is_dir() else None) as tmp:
        run(f"sqlite:///{Path(tmp) / 'rapport.db'}", "SQLite", args)
    if not args.no_pg:
        found = _pg_database()
        if found is not None:
            admin, url = found
            try:
                run(url, "PostgreSQL", args)
            finally:
                with admin.connect() as connection:
                    name = make_url(url).database
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
