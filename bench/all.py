"""Every benchmark, one after the other (`make bench`). Each prints its own figures."""
from __future__ import annotations

import importlib
import sys

BENCHES = ["bench.answers", "bench.safety", "bench.nlu", "bench.latency", "bench.review"]


def main() -> None:
    for name in BENCHES:
        print(f"\n=== {name} ===", flush=True)
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            print(f"(not available: {exc})")
            continue
        saved = sys.argv
        sys.argv = [name]
        try:
            module.main()
        except SystemExit as exit_:
            if exit_.code not in (0, None):
                print(f"{name} exited with {exit_.code}")
        finally:
            sys.argv = saved


if __name__ == "__main__":
    main()
