"""Load test of the scale-out profile: `python -m bench.load` (make load).

Starts scripts/serve_cluster.sh (two Rasa replicas, one action server, nginx; PostgreSQL, Redis and
RabbitMQ with fresh names), then runs locust (bench/locustfile.py, headless) three times with the
same number of concurrent simulated clients, each going through whole check-ins:

  1. against one replica directly,
  2. against nginx, both replicas,
  3. against nginx, both replicas, killing one (SIGKILL) mid-run.

Prints throughput, p50/p95 latency and errors for each, then checks every simulated check-in
against the store: exactly one check-in for the client, completed and shared, with exactly its 5
answers at the levels it gave, in order (no answer lost, none applied twice). Also counts the
events that reached RabbitMQ. Exit status 1 if any check fails.

Locust lives in its own venv, .venv-load (made here on first use, pinned in
bench/requirements-load.txt): it brings gevent and Flask, which have no place in the bot's venv.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOAD_VENV = ROOT / ".venv-load"
LOAD_REQUIREMENTS = ROOT / "bench" / "requirements-load.txt"
LOCUSTFILE = ROOT / "bench" / "locustfile.py"
DIMENSIONS = ["team", "heard", "warmth", "worth", "understood"]


# --- the locust venv --------------------------------------------------------------------------------

def locust_command() -> list[str]:
    """The locust executable in .venv-load, made (once) from bench/requirements-load.txt."""
    locust = LOAD_VENV / "bin" / "locust"
    stamp = LOAD_VENV / ".requirements"
    wanted = LOAD_REQUIREMENTS.read_text()
    if not locust.exists() or not stamp.exists() or stamp.read_text() != wanted:
        print(f"Making {LOAD_VENV.name} for locust ({LOAD_REQUIREMENTS.relative_to(ROOT)})...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(LOAD_VENV)], check=True)
        subprocess.run([str(LOAD_VENV / "bin" / "pip"), "install", "-q", "-r", str(LOAD_REQUIREMENTS)], check=True)
        stamp.write_text(wanted)
    return [str(locust)]


# --- the cluster ------------------------------------------------------------------------------------

class Cluster:
    """scripts/serve_cluster.sh as a subprocess; `info` is its cluster.json once it is up."""

    def __init__(self, replicas: int, workdir: Path, env_overrides: dict[str, str] | None = None) -> None:
        self.dir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.log = workdir / "serve_cluster.log"
        env = dict(os.environ)
        env.update(
            RAPPORT_REPLICAS=str(replicas), RAPPORT_CLUSTER_DIR=str(workdir),
            RAPPORT_CLUSTER_PORT=str(free_port()), RAPPORT_CLUSTER_ACTIONS_PORT=str(free_port()),
            RAPPORT_REPLICA_BASE_PORT=str(free_block(replicas)),
            RAPPORT_CLUSTER_REVIEW_PORT=str(free_port()), RAPPORT_CLUSTER_REVIEW_BACKEND_PORT=str(free_port()),
            RASA_TELEMETRY_ENABLED="false",
            # A load test is thousands of clients from one address: the flood limits per address
            # (nginx's and the replicas') would measure themselves, not the cluster.
            RAPPORT_NGINX_RATE_PER_MINUTE="6000000", RAPPORT_NGINX_BURST="100000", RAPPORT_NGINX_CONNECTIONS="60000",
            RAPPORT_RATE_PER_ADDRESS="0", RAPPORT_NEW_CONVERSATIONS_PER_ADDRESS="0",
        )
        env.update(env_overrides or {})
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                ["bash", str(ROOT / "scripts" / "serve_cluster.sh")], cwd=ROOT, env=env,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.info: dict = {}

    def wait_until_up(self, timeout: float = 420) -> dict:
        deadline = time.monotonic() + timeout
        state = self.dir / "cluster.json"
        while time.monotonic() < deadline:
            if state.exists():
                self.info = json.loads(state.read_text())
                return self.info
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve_cluster.sh exited:\n{self.log.read_text()[-4000:]}")
            time.sleep(1)
        raise RuntimeError(f"the cluster did not come up in {timeout}s:\n{self.log.read_text()[-4000:]}")

    def kill_replica(self, index: int) -> int:
        pid = self.info["replica_pids"][index]
        os.kill(pid, signal.SIGKILL)
        return pid

    def store_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAPPORT_")}
        env.update(
            RAPPORT_DATABASE_URL=self.info["database_url"], RAPPORT_ID_SECRET=self.info["id_secret"],
            RAPPORT_ENCRYPTION_KEYS=self.info["encryption_keys"], PYTHONPATH=str(ROOT),
            RASA_TELEMETRY_ENABLED="false", SQLALCHEMY_SILENCE_UBER_WARNING="1",
        )
        return env

    def stop(self) -> None:
        """SIGTERM to the script: it stops its processes and drops the run's data."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_block(size: int) -> int:
    """A first port of `size` consecutive free ports."""
    import socket

    for _ in range(50):
        first = free_port()
        try:
            sockets = []
            for port in range(first, first + size):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no block of free ports")


# --- one locust run ---------------------------------------------------------------------------------

@dataclass
class Figures:
    label: str
    requests: int
    failures: int
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    checkins_completed: int
    checkins_failed: int
    seconds: float

    def line(self) -> str:
        return (f"{self.label:<34} {self.requests:>6} req  {self.requests_per_s:>6.1f} req/s  "
                f"p50 {self.p50_ms:>6.0f} ms  p95 {self.p95_ms:>6.0f} ms  errors {self.failures:>3}  "
                f"check-ins {self.checkins_completed:>4} done / {self.checkins_failed} failed "
                f"({self.checkins_completed / self.seconds * 60:.1f}/min)")


def run_locust(label: str, url: str, app_token: str, users: int, seconds: int, workdir: Path,
               during: tuple[float, callable] | None = None) -> tuple[Figures, list[dict]]:
    """Runs the scenario; `during` = (after_seconds, action) runs the action mid-run."""
    results = workdir / f"{label.split()[0]}-results.jsonl"
    prefix = workdir / label.split()[0]
    env = dict(os.environ, RAPPORT_LOAD_RESULTS=str(results), RAPPORT_APP_TOKEN=app_token)
    command = locust_command() + [
        "-f", str(LOCUSTFILE), "--headless", "-u", str(users), "-r", str(max(1, users // 5)),
        "-t", f"{seconds}s", "--stop-timeout", "180", "-H", url, "--csv", str(prefix),
        "--only-summary", "--loglevel", "WARNING",
    ]
    started = time.monotonic()
    with (workdir / f"{prefix.name}-locust.log").open("w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        if during:
            time.sleep(during[0])
            during[1]()
        proc.wait(timeout=seconds + 400)
    elapsed = time.monotonic() - started
    row = aggregated_row(Path(f"{prefix}_stats.csv"))
    records = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    figures = Figures(
        label=label, requests=int(row["Request Count"]), failures=int(row["Failure Count"]),
        requests_per_s=float(row["Request Count"]) / elapsed, p50_ms=float(row["50%"]), p95_ms=float(row["95%"]),
        checkins_completed=sum(r["completed"] for r in records),
        checkins_failed=sum(not r["completed"] for r in records), seconds=elapsed,
    )
    return figures, records


def aggregated_row(stats_csv: Path) -> dict[str, str]:
    with stats_csv.open() as f:
        for row in csv.DictReader(f):
            if row["Name"] == "Aggregated":
                return row
    raise RuntimeError(f"no Aggregated row in {stats_csv}")


# --- checks against the store ---------------------------------------------------------------------

def export(env: dict[str, str]) -> list[dict]:
    result = subprocess.run([sys.executable, "-m", "bot.review", "export", "--format", "json"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout)


def check_store(records: list[dict], checkins: list[dict], id_secret: str, channel: str = "app") -> list[str]:
    """Problems found: one stored check-in per simulated one; each simulated client that finished
    must have exactly one completed check-in with exactly its 5 answers at its levels, in order; no
    client may have more answers than it gave."""
    sys.path.insert(0, str(ROOT))
    from bot.identity import client_id

    by_client: dict[str, list[dict]] = {}
    for checkin in checkins:
        by_client.setdefault(checkin["client_id"], []).append(checkin)
    problems = []
    if len(checkins) != len(records):
        problems.append(f"{len(checkins)} check-ins stored for {len(records)} simulated check-ins")
    for record in records:
        mine = by_client.get(client_id(channel, record["sender"], id_secret), [])
        answers = [a for c in mine for a in c.get("answers", [])]
        if record["completed"]:
            if len(mine) != 1:
                problems.append(f"{record['sender'][:8]}: {len(mine)} check-ins instead of 1")
                continue
            [checkin] = mine
            got = [(a["dimension"], a["score"]) for a in checkin.get("answers", [])]
            want = list(zip(DIMENSIONS, record["levels"]))
            if checkin["status"] != "completed" or got != want:
                problems.append(f"{record['sender'][:8]}: status {checkin['status']}, answers {got}, expected {want}")
        else:
            dimensions = Counter(a["dimension"] for a in answers)
            if len(mine) > 1 or any(n > 1 for n in dimensions.values()):
                problems.append(f"{record['sender'][:8]} (unfinished): {len(mine)} check-ins, answers {dict(dimensions)}")
    return problems


# --- main -------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent simulated clients (default 50)")
    parser.add_argument("--seconds", type=int, default=90, help="length of each run (default 90)")
    parser.add_argument("--kill-after", type=float, default=30, help="seconds into run 3 to kill a replica")
    parser.add_argument("--keep", action="store_true", help="keep the run's databases and queue afterwards")
    args = parser.parse_args(argv)

    locust_command()  # make the venv before the clock starts
    workdir = Path(tempfile.mkdtemp(prefix="rapport-load-"))
    print(f"Work folder: {workdir}", flush=True)
    cluster = Cluster(2, workdir / "cluster", {"RAPPORT_CLUSTER_KEEP": "1" if args.keep else "0"})
    failed = False
    try:
        info = cluster.wait_until_up()
        print(f"Cluster up: nginx {info['url']}, replicas {', '.join(info['replica_urls'])}", flush=True)
        runs: list[tuple[Figures, list[dict]]] = []
        runs.append(run_locust("1-replica (direct)", info["replica_urls"][0], info["app_token"], args.users, args.seconds, workdir))
        print(runs[-1][0].line(), flush=True)
        runs.append(run_locust("2-replicas (nginx)", info["url"], info["app_token"], args.users, args.seconds, workdir))
        print(runs[-1][0].line(), flush=True)
        killed: list[int] = []
        runs.append(run_locust(
            "3-failover (nginx, 1 of 2 killed)", info["url"], info["app_token"], args.users, args.seconds, workdir,
            during=(args.kill_after, lambda: killed.append(cluster.kill_replica(1))),
        ))
        print(runs[-1][0].line() + f"  [replica pid {killed[0] if killed else '?'} killed at {args.kill_after:.0f} s]",
              flush=True)

        checkins = export(cluster.store_env())
        records = [r for _, rs in runs for r in rs]
        problems = check_store(records, checkins, info["id_secret"])
        finished = sum(r["completed"] for r in records)
        retyped = sum(r["retyped"] for r in records)
        print(f"\nStore check: {finished} finished check-ins, {len(records) - finished} unfinished, "
              f"{len(checkins)} check-ins stored; answers re-sent as a button after a word was not understood: {retyped}")
        sys.path.insert(0, str(ROOT))
        from deploy.services import Services, queued_events

        events = queued_events(Services.from_env(os.environ), info["queue"], info["encryption_keys"])
        kinds = Counter(e.get("event") for e in events)
        print(f"RabbitMQ: {len(events)} events in {info['queue']} "
              f"({kinds.get('user', 0)} user, {kinds.get('bot', 0)} bot, {kinds.get('action', 0)} action)")
        for label_errors in [r for _, rs in runs for r in rs if r["error"]][:10]:
            print(f"  unfinished: {label_errors['error']}")
        if problems:
            failed = True
            print(f"{len(problems)} PROBLEMS (lost or duplicated answers):")
            for problem in problems[:30]:
                print("  " + problem)
        else:
            print("No lost or duplicated answers: every finished check-in has exactly its 5 answers.")
        if any(not r["completed"] for _, rs in runs for r in rs):
            failed = True
    finally:
        cluster.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
