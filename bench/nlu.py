"""Intent accuracy of a trained Rapport model on the held-out NLU set.

Run from the repository root:

    .venv/bin/python -m bench.nlu                      # newest model in models/
    .venv/bin/python -m bench.nlu --model models/x.tar.gz --data tests/data/nlu_heldout.yml

Prints intent accuracy, macro F1, the accuracy of the "digression vs answer" split the
check-in form relies on, the list of mistakes and parse latency p50/p95. It reports, it does not
judge: the exit code is always 0.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import yaml  # noqa: E402  (after the environment is set)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = PROJECT_ROOT / "tests" / "data" / "nlu_heldout.yml"
DEFAULT_MODELS = PROJECT_ROOT / "models"

# While the check-in form is active, a message with one of these intents is a digression;
# any other intent (including affirm, deny and nlu_fallback) is taken as the client's answer.
DIGRESSION_INTENTS: frozenset[str] = frozenset(
    {
        "ask_why",
        "ask_privacy",
        "skip_question",
        "go_back",
        "pause",
        "bot_challenge",
        "out_of_scope",
        "crisis",
        "crisis_unclear",
        "delete_data",
        "ask_more",
    }
)
FALLBACK_INTENT = "nlu_fallback"


@dataclass(frozen=True)
class Parsed:
    text: str
    expected: str
    predicted: str
    confidence: float
    best_real_intent: str  # top of the ranking, ignoring nlu_fallback
    seconds: float


def load_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs from a Rasa 3 NLU YAML file."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs: list[tuple[str, str]] = []
    for block in document.get("nlu", []):
        intent = block.get("intent")
        if not intent:
            continue
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                pairs.append((line[2:].strip(), intent))
    return pairs


def newest_model(models_dir: Path) -> Path | None:
    candidates = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return candidates[-1] if candidates else None


def is_digression(intent: str) -> bool:
    return intent in DIGRESSION_INTENTS


def macro_f1(pairs: list[tuple[str, str]]) -> float:
    """Macro-averaged F1 over the expected intents, from (expected, predicted) pairs."""
    labels = sorted({expected for expected, _ in pairs})
    scores = []
    for label in labels:
        tp = sum(1 for e, p in pairs if e == label and p == label)
        fp = sum(1 for e, p in pairs if e != label and p == label)
        fn = sum(1 for e, p in pairs if e == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


async def parse_all(model: Path, examples: list[tuple[str, str]]) -> list[Parsed]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    await agent.parse_message("hello")  # warm-up: the first parse builds the TF graph
    results: list[Parsed] = []
    for text, expected in examples:
        started = time.perf_counter()
        parsed = await agent.parse_message(text)
        elapsed = time.perf_counter() - started
        intent = parsed.get("intent") or {}
        ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
        results.append(
            Parsed(
                text=text,
                expected=expected,
                predicted=intent.get("name") or "",
                confidence=float(intent.get("confidence") or 0.0),
                best_real_intent=ranking[0]["name"] if ranking else (intent.get("name") or ""),
                seconds=elapsed,
            )
        )
    return results


def report(results: list[Parsed], model: Path, data: Path) -> None:
    n = len(results)
    pairs = [(r.expected, r.predicted) for r in results]
    correct = sum(1 for e, p in pairs if e == p)
    real_correct = sum(1 for r in results if r.best_real_intent == r.expected)
    split_correct = sum(1 for e, p in pairs if is_digression(e) == is_digression(p))
    fallbacks = sum(1 for r in results if r.predicted == FALLBACK_INTENT)
    answers = [r for r in results if not is_digression(r.expected)]
    digressions = [r for r in results if is_digression(r.expected)]
    answer_as_digression = [r for r in answers if is_digression(r.predicted)]
    digression_as_answer = [r for r in digressions if not is_digression(r.predicted)]
    latencies_ms = [r.seconds * 1000 for r in results]

    print(f"model: {model}")
    print(f"data:  {data} ({n} messages, {len(set(e for e, _ in pairs))} intents)")
    print(f"intent accuracy:             {correct / n:.3f}  ({correct}/{n})")
    print(f"macro F1:                    {macro_f1(pairs):.3f}")
    print(f"accuracy ignoring fallback:  {real_correct / n:.3f}  (top-ranked real intent)")
    print(f"nlu_fallback predictions:    {fallbacks}")
    print(f"digression-vs-answer split:  {split_correct / n:.3f}  ({split_correct}/{n})")
    print(f"  answer-side read as digression: {len(answer_as_digression)}/{len(answers)}")
    print(f"  digression read as answer-side: {len(digression_as_answer)}/{len(digressions)}")
    print(
        f"parse latency: p50 {statistics.median(latencies_ms):.1f} ms, "
        f"p95 {percentile(latencies_ms, 95):.1f} ms"
    )

    mistakes = [r for r in results if r.predicted != r.expected]
    print(f"\nmistakes ({len(mistakes)}):  [* = crosses the digression/answer line]")
    for r in sorted(mistakes, key=lambda r: (r.expected, r.predicted)):
        crosses = "*" if is_digression(r.expected) != is_digression(r.predicted) else " "
        print(f" {crosses} {r.expected:>14} -> {r.predicted:<14} {r.confidence:.2f}  {r.text!r}")

    confusion = Counter((r.expected, r.predicted) for r in mistakes)
    if confusion:
        print("\nconfusion pairs (expected -> predicted: count):")
        for (expected, predicted), count in confusion.most_common():
            print(f"  {expected} -> {predicted}: {count}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model archive (default: newest in models/)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="held-out NLU YAML")
    args = parser.parse_args(argv)

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # otherwise every parse is logged at debug level
    logging.getLogger().setLevel(logging.ERROR)
    model = args.model or newest_model(DEFAULT_MODELS)
    if model is None or not model.exists():
        print(f"no model found ({args.model or DEFAULT_MODELS}); train one first")
        return 0
    examples = load_examples(args.data)
    if not examples:
        print(f"no examples in {args.data}")
        return 0
    if str(PROJECT_ROOT) not in sys.path:  # custom components (bot.nlu_safety) load from here
        sys.path.insert(0, str(PROJECT_ROOT))
    try:
        results = asyncio.run(parse_all(model, examples))
    except Exception as error:  # it reports, it does not judge
        print(f"could not evaluate {model}: {error.__class__.__name__}: {error}")
        return 0
    report(results, model, args.data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
