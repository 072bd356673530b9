"""Per-turn latency over the REST channel for whole check-ins, sequential and concurrent.

Starts its own action server and Rasa server on the trained model (trains nothing), plays
scripted check-ins, and prints p50/p95/p99 per turn, throughput and errors.

    .venv/bin/python -m bench.latency [--checkins 20] [--concurrency 20]
"""
from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests.harness import server_env, start_action_server, start_rasa_server, stop, write_endpoints

CHECKIN = [
    "hi", "yes", "yeah mostly", "not really, she talks over me", "she cuts me off a lot",
    "sometimes?", "/deny", "100%", '/answer{"level":"5"}', "/share_checkin",
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def play(url: str, session: requests.Session) -> tuple[list[float], int]:
    """One whole check-in; returns per-turn latencies (ms) and the number of failed turns."""
    sender, latencies, errors = f"bench-{uuid.uuid4()}", [], 0
    for text in CHECKIN:
        start = time.perf_counter()
        try:
            response = session.post(f"{url}/webhooks/rest/webhook",
                                    json={"sender": sender, "message": text}, timeout=60)
            ok = response.ok and bool(response.json())
        except requests.RequestException:
            ok = False
        latencies.append((time.perf_counter() - start) * 1000)
        errors += not ok
    return latencies, errors


def report(label: str, results: list[tuple[list[float], int]], seconds: float, by_turn: bool = False) -> None:
    latencies = [ms for turn, _ in results for ms in turn]
    errors = sum(e for _, e in results)
    print(f"{label}: {len(results)} check-ins, {len(latencies)} turns in {seconds:.1f} s "
          f"-> {len(latencies) / seconds:.1f} turns/s, errors {errors}")
    print(f"  per-turn latency ms: p50 {percentile(latencies, 50):.0f}  p95 {percentile(latencies, 95):.0f}"
          f"  p99 {percentile(latencies, 99):.0f}  mean {statistics.mean(latencies):.0f}")
    if by_turn:
        for i, text in enumerate(CHECKIN):
            turn = [latencies[i] for latencies, _ in results]
            print(f"    {text[:32]:<32} p50 {percentile(turn, 50):4.0f}  p95 {percentile(turn, 95):4.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkins", type=int, default=20, help="check-ins per run")
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        env = server_env(data)
        actions, action_url = start_action_server(env, data / "actions.log")
        rasa = None
        try:
            endpoints = write_endpoints(data / "endpoints.yml", action_url, data / "tracker.db")
            started = time.perf_counter()
            rasa, url = start_rasa_server(env, endpoints, secrets.token_urlsafe(8), data / "rasa.log")
            print(f"server start: {time.perf_counter() - started:.1f} s")
            with requests.Session() as session:
                play(url, session)  # warm-up
                started = time.perf_counter()
                sequential = [play(url, session) for _ in range(args.checkins)]
                report("sequential", sequential, time.perf_counter() - started, by_turn=True)

            def one(_: int) -> tuple[list[float], int]:
                with requests.Session() as s:
                    return play(url, s)

            started = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                concurrent = list(pool.map(one, range(max(args.checkins, args.concurrency))))
            report(f"{args.concurrency} concurrent clients", concurrent, time.perf_counter() - started)
        finally:
            if rasa:
                stop(rasa)
            stop(actions)


if __name__ == "__main__":
    main()
