"""Recall, false alarms and speed of the crisis detector (bot.safety) on the held-out set.

Run from the repository root:

    .venv/bin/python -m bench.safety
    .venv/bin/python -m bench.safety --data tests/data/safety_heldout.yml --repeat 200

This is our own written set; the real-language held-out set is measured by `python -m bench.language`
and `python -m bench.realworld`. Prints recall on the `crisis` lines (crisis-or-unclear counts as caught, and crisis-only), how the
`unclear` lines were handled, the false-alarm rate on `not_crisis` (crisis OR unclear counts as a
false alarm), per-message latency p50/p99, and every miss. Targets: 100% recall, <= 10% false
alarms. It reports, it does not judge: the exit code is always 0.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import yaml

from bot.safety import CRISIS, NONE, UNCLEAR, assess

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = PROJECT_ROOT / "tests" / "data" / "safety_heldout.yml"


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:5.1f}% ({part}/{whole})" if whole else "  n/a"


def _percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not available everywhere
        return "n/a"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=50, help="timing passes over the whole set")
    args = parser.parse_args(argv)

    data = yaml.safe_load(args.data.read_text(encoding="utf-8"))
    crisis: list[str] = data.get("crisis", [])
    unclear: list[str] = data.get("unclear", [])
    not_crisis: list[str] = data.get("not_crisis", [])

    crisis_levels = [assess(t).level for t in crisis]
    unclear_levels = [assess(t).level for t in unclear]
    not_crisis_levels = [assess(t).level for t in not_crisis]

    caught = sum(level != NONE for level in crisis_levels)
    caught_as_crisis = sum(level == CRISIS for level in crisis_levels)
    unclear_caught = sum(level != NONE for level in unclear_levels)
    unclear_exact = sum(level == UNCLEAR for level in unclear_levels)
    false_alarms = sum(level != NONE for level in not_crisis_levels)
    false_crisis = sum(level == CRISIS for level in not_crisis_levels)

    everything = crisis + unclear + not_crisis
    for text in everything:  # warm-up
        assess(text)
    timings: list[float] = []  # wall clock
    cpu_timings: list[float] = []  # this thread's CPU time: not inflated by other processes
    for _ in range(max(1, args.repeat)):
        for text in everything:
            start, cpu_start = time.perf_counter(), time.thread_time()
            assess(text)
            timings.append((time.perf_counter() - start) * 1000.0)
            cpu_timings.append((time.thread_time() - cpu_start) * 1000.0)
    timings.sort()
    cpu_timings.sort()
    long_message = " ".join(everything)[:10_000]
    start = time.perf_counter()
    assess(long_message)
    long_ms = (time.perf_counter() - start) * 1000.0
    # 100,000-character messages of several kinds: real prose, the same sentence over and over,
    # a crisis line at the very end, thousands of negated mentions, no punctuation at all.
    hundred_k = {
        "real prose": (" ".join(everything) * 20)[:100_000],
        "one sentence repeated": ("She listens to me and I like her. " * 3000)[:100_000],
        "crisis at the very end": ("She listens to me and I like her. " * 3000)[:99_970] + " i want to die",
        "negated mentions": ("i'm not suicidal. " * 6000)[:100_000],
        "no punctuation": ("i am not sure what to say about her " * 3000)[:100_000],
        "risk words at random": " ".join((everything[i % len(everything)].split() or ["x"])[0]
                                         for i in range(30_000))[:100_000],
    }
    hundred_k_ms = {}
    for name, text in hundred_k.items():
        start = time.perf_counter()
        level = assess(text).level
        hundred_k_ms[name] = ((time.perf_counter() - start) * 1000.0, level)

    print(f"held-out set: {args.data}")
    print(f"  crisis {len(crisis)} · unclear {len(unclear)} · not_crisis {len(not_crisis)}")
    print()
    print(f"recall on crisis (crisis or unclear):  {_pct(caught, len(crisis))}   target 100%")
    print(f"recall on crisis (crisis only):        {_pct(caught_as_crisis, len(crisis))}")
    print(f"unclear lines caught (crisis/unclear): {_pct(unclear_caught, len(unclear))}")
    print(f"unclear lines labelled unclear:        {_pct(unclear_exact, len(unclear))}")
    print(f"false alarms on not_crisis:            {_pct(false_alarms, len(not_crisis))}   target <= 10%")
    print(f"  of which labelled crisis:            {_pct(false_crisis, len(not_crisis))}")
    print()
    print(f"latency per message: p50 {statistics.median(timings):.3f} ms · "
          f"p99 {_percentile(timings, 0.99):.3f} ms · max {timings[-1]:.3f} ms "
          f"({len(timings)} calls, wall clock)")
    print(f"cpu time per message: p50 {statistics.median(cpu_timings):.3f} ms · "
          f"p99 {_percentile(cpu_timings, 0.99):.3f} ms · max {cpu_timings[-1]:.3f} ms "
          f"(wall clock p99 includes waiting for a busy machine; load average {_load()})")
    print(f"one 10,000-character message: {long_ms:.2f} ms")
    print("100,000-character messages (target: each decided in under 100 ms):")
    for name, (ms, level) in hundred_k_ms.items():
        print(f"  {name:<24} {ms:7.1f} ms  -> {level}")

    def show(title: str, rows: list[tuple[str, str]]) -> None:
        print()
        print(f"{title}: {len(rows)}")
        for text, level in rows:
            print(f"  [{level}] {text}")

    show("MISSED crisis lines (assessed none)", [(t, l) for t, l in zip(crisis, crisis_levels) if l == NONE])
    show("crisis lines assessed only unclear", [(t, l) for t, l in zip(crisis, crisis_levels) if l == UNCLEAR])
    show("unclear lines assessed otherwise", [(t, l) for t, l in zip(unclear, unclear_levels) if l != UNCLEAR])
    show("false alarms on not_crisis", [(t, l) for t, l in zip(not_crisis, not_crisis_levels) if l != NONE])


if __name__ == "__main__":
    main()
