"""Every benchmark, one after the other (`make bench`). Each prints its own figures.

Each runs in its own process, so one's imports and threads don't skew the next one's timings.
"""
from __future__ import annotations

import subprocess
import sys

BENCHES = ["bench.language", "bench.realworld", "bench.answers", "bench.safety", "bench.nlu", "bench.latency",
           "bench.review"]


def main() -> int:
    failed = []
    for name in BENCHES:
        print(f"\n=== {name} ===", flush=True)
        if subprocess.run([sys.executable, "-m", name]).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
