"""Accuracy of bot.scoring.score_answer on the held-out set (tests/data/answers_heldout.yml).

Run: .venv/bin/python -m bench.answers [--all]   (--all also lists the correct lines)

Prints band accuracy (negative 1-2 / mixed 3 / positive 4-5 / none), exact-score agreement where the
set gives a score, none-detection (recall and precision), per-dimension accuracy, the time per
answer, and every misclassified line.
"""
from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import yaml

from bot.dimensions import band
from bot.scoring import is_unsure, score_answer

HELDOUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "answers_heldout.yml"


def predicted_band(score: int | None) -> str:
    return "none" if score is None else band(score)


def main(argv: list[str]) -> int:
    items = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))["items"]
    show_all = "--all" in argv
    correct = 0
    exact_total = exact_ok = 0
    none_expected = none_caught = none_predicted = 0
    per_dimension: Counter[str] = Counter()
    per_dimension_ok: Counter[str] = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    wrong: list[str] = []

    start = time.perf_counter()
    results = [(item, score_answer(str(item["text"]))) for item in items]
    elapsed = time.perf_counter() - start

    for item, score in results:
        expected, got = item["band"], predicted_band(score)
        per_dimension[item["dimension"]] += 1
        confusion[(expected, got)] += 1
        if expected == "none":
            none_expected += 1
            none_caught += got == "none"
        none_predicted += got == "none"
        if "score" in item:
            exact_total += 1
            exact_ok += score == item["score"]
        line = (f"  [{item['dimension']:<10}] expected {expected:<8} got {got:<8} "
                f"(score {score}{', unsure' if is_unsure(str(item['text'])) else ''}"
                f"{', labelled ' + str(item['score']) if 'score' in item else ''})  {item['text']!r}")
        if got == expected:
            correct += 1
            per_dimension_ok[item["dimension"]] += 1
            if show_all:
                print("ok" + line)
        else:
            wrong.append(line)

    n = len(items)
    print(f"held-out answers: {n}  ({HELDOUT.relative_to(HELDOUT.parents[2])})")
    print(f"band accuracy:          {correct}/{n} = {correct / n:.1%}   (target >= 90%)")
    if exact_total:
        print(f"exact-score agreement:  {exact_ok}/{exact_total} = {exact_ok / exact_total:.1%}"
              "   (lines with a labelled score)")
    if none_expected:
        print(f"none detection:         {none_caught}/{none_expected} = "
              f"{none_caught / none_expected:.1%} of non-answers caught; "
              f"{none_predicted - none_caught} real answers wrongly given None")
    print("per dimension:          " + ", ".join(
        f"{d} {per_dimension_ok[d]}/{per_dimension[d]}" for d in sorted(per_dimension)))
    bands = ["negative", "mixed", "positive", "none"]
    print("confusion (rows expected, columns got):")
    print("            " + "".join(f"{b:>10}" for b in bands))
    for e in bands:
        print(f"  {e:<10}" + "".join(f"{confusion[(e, g)]:>10}" for g in bands))
    print(f"time: {elapsed / n * 1e6:.0f} µs per answer")
    print(f"misclassified ({len(wrong)}):")
    for line in wrong:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
