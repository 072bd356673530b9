"""How well Rapport reads real language: answers and crisis language, on words nobody here wrote.

    .venv/bin/python -m bench.language            # the trained model on the HELD-OUT side
    .venv/bin/python -m bench.language --cv       # 5-fold CV, grouped by source, on the TRAINING side
    .venv/bin/python -m bench.language --show     # also list every miss

The held-out side (corpus/*.heldout.yml) is only read here and in the tests' accuracy report; it is
never used to train or to choose a setting. Settings are chosen with --cv, which never reads it.

Answers (corpus/therapist.*.yml), what the first reply to each statement would be:
- recorded: a level was stored (right when it is in the statement's band: negative 1-2, mixed 2-4,
  positive 4-5);
- tentative: the meaning was reflected tentatively with a choice of levels (right when the band
  reflected fits: a mixed statement fits any, since its range 2-4 meets both);
- asked again: nothing clear was read (the neutral reply that asks to place it on the scale);
- inversion: a negative statement read as positive, or the reverse.
Crisis (corpus/crisis.*.yml): direct statements that got resources at once; indirect warning signs
that got resources or the gentle question; look-alikes that got the full response, by category.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Optional

from bot.language import corpus
from bot.language.answers import Reading
from bot.language.model import LanguageModel, load_model
from bot.language.understand import understand
from bot.safety import CRISIS, NONE, UNCLEAR

ACCEPT = {"negative": (1, 2), "mixed": (2, 3, 4), "positive": (4, 5)}
OPPOSITE = {"negative": "positive", "positive": "negative"}


@dataclass
class AnswerOutcome:
    kind: str  # recorded / tentative / asked / crisis / unclear
    right: bool
    inversion: bool
    reading: Optional[Reading]


def answer_outcome(expected_band: str, reading: Reading, safety_level: str) -> AnswerOutcome:
    if safety_level != NONE:
        return AnswerOutcome(safety_level, False, False, reading)
    if reading.level is not None:
        right = reading.level in ACCEPT[expected_band]
        wrong_side = OPPOSITE.get(expected_band)
        inversion = wrong_side is not None and reading.level in ACCEPT[wrong_side] and not right
        return AnswerOutcome("recorded", right, inversion, reading)
    if reading.band is not None:
        right = reading.band == expected_band or expected_band == "mixed"
        inversion = reading.band == OPPOSITE.get(expected_band)
        return AnswerOutcome("tentative", right, inversion, reading)
    return AnswerOutcome("asked", False, False, reading)


def summarise_answers(rows: list[tuple[corpus.Line, AnswerOutcome]], show: bool = False) -> dict:
    n = len(rows)
    right = sum(o.right for _, o in rows)
    asked = sum(o.kind == "asked" for _, o in rows)
    inversions = sum(o.inversion for _, o in rows)
    kinds = Counter(o.kind for _, o in rows)
    print(f"  statements: {n}")
    print(f"  right band the first time: {right}/{n} = {right / n:.1%}   (target >= 90%)")
    print(f"  asked again:               {asked}/{n} = {asked / n:.1%}   (target <= 8%)")
    print(f"  inversions:                {inversions}   (target 0)")
    print("  first replies: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    per_dim: dict[str, list[bool]] = defaultdict(list)
    for line, o in rows:
        per_dim[line.fields["dimension"]].append(o.right)
    print("  per dimension: " + ", ".join(f"{d} {sum(v)}/{len(v)}" for d, v in sorted(per_dim.items())))
    if show:
        for line, o in rows:
            if not o.right:
                r = o.reading
                what = (f"level {r.level}" if r and r.level else f"band {r.band}" if r and r.band else o.kind)
                flag = " INVERSION" if o.inversion else ""
                print(f"    [{line.fields['dimension']:<10} {corpus.band(line.fields['level']):<8}] got {what}"
                      f"{flag} ({r.how if r else ''} {r.confidence if r else 0:.2f}): {line.text[:110]!r}")
    return {"n": n, "right": right, "asked": asked, "inversions": inversions}


def summarise_crisis(rows: list[tuple[corpus.Line, str]], show: bool = False) -> dict:
    by_label: dict[str, list[str]] = defaultdict(list)
    by_category: dict[str, list[str]] = defaultdict(list)
    for line, level in rows:
        by_label[line.fields["label"]].append(level)
        if line.fields["label"] == "none":
            by_category[line.fields.get("category", "?")].append(level)
    d, i, z = by_label["direct"], by_label["indirect"], by_label["none"]
    direct_ok = sum(l == CRISIS for l in d)
    indirect_ok = sum(l != NONE for l in i)
    false_crisis = sum(l == CRISIS for l in z)
    print(f"  direct statements, resources at once:   {direct_ok}/{len(d)} = {direct_ok / max(1, len(d)):.1%}"
          "   (target 100%)")
    print(f"    ... resources or the gentle question: {sum(l != NONE for l in d)}/{len(d)}")
    print(f"  indirect signs, resources or question:  {indirect_ok}/{len(i)} = {indirect_ok / max(1, len(i)):.1%}"
          "   (target >= 95%)")
    print(f"    ... of which resources at once:       {sum(l == CRISIS for l in i)}/{len(i)}")
    print(f"  look-alikes, full crisis response:      {false_crisis}/{len(z)} = {false_crisis / max(1, len(z)):.1%}"
          "   (target <= 3%)")
    print(f"    ... gentle question:                  {sum(l == UNCLEAR for l in z)}/{len(z)}")
    print("    by category (full / gentle / none): " + ", ".join(
        f"{c} {v.count(CRISIS)}/{v.count(UNCLEAR)}/{v.count(NONE)}" for c, v in sorted(by_category.items())))
    if show:
        for line, level in rows:
            label = line.fields["label"]
            bad = (label == "direct" and level != CRISIS) or (label == "indirect" and level == NONE) or (
                label == "none" and level != NONE)
            if bad:
                print(f"    [{label:<8} {line.fields.get('category', ''):<20}] got {level:<7}: {line.text[:110]!r}")
    return {"direct": direct_ok / max(1, len(d)), "indirect": indirect_ok / max(1, len(i)),
            "false": false_crisis / max(1, len(z))}


ROUNDS = (("lines from collection rounds 1-4", lambda line: "round" not in line.fields),
          ("lines from collection round 5", lambda line: line.fields.get("round") == 5))


def by_round(rows: list, summarise) -> None:
    """The same figures for the lines of earlier rounds and of round 5 (`round: 5`), when both are present."""
    for title, keep in ROUNDS:
        subset = [row for row in rows if keep(row[0])]
        if subset and len(subset) != len(rows):
            print(f"  -- of which {title}:")
            summarise(subset)


def read(model: LanguageModel, text: str) -> tuple[str, Reading]:
    """The crisis level and the reading of the answer, as the Rasa plug-in would get them."""
    understanding = understand(text, model)
    return understanding.safety.level, understanding.reading


def heldout(show: bool) -> int:
    tracemalloc.start()
    started = time.perf_counter()
    model = load_model()
    load_seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"model: {model.info} loaded in {load_seconds:.2f} s, peak Python allocations {peak / 1e6:.0f} MB")
    therapist = corpus.load(corpus.THERAPIST, "heldout")
    crisis = corpus.load(corpus.CRISIS, "heldout")
    timings: list[float] = []
    answer_rows, crisis_rows, therapist_alarms = [], [], Counter()
    for line in therapist:
        t = time.perf_counter()
        level, reading = read(model, line.text)
        timings.append(time.perf_counter() - t)
        answer_rows.append((line, answer_outcome(corpus.band(line.fields["level"]), reading, level)))
        therapist_alarms[level] += 1
    for line in crisis:
        t = time.perf_counter()
        level, _ = read(model, line.text)
        timings.append(time.perf_counter() - t)
        crisis_rows.append((line, level))
    print(f"\nANSWERS, held out ({corpus.path(corpus.THERAPIST, 'heldout').name}, "
          f"{len(corpus.sources(therapist))} sources)")
    summarise_answers(answer_rows, show)
    print(f"  crisis layer on these statements: crisis {therapist_alarms[CRISIS]}, "
          f"gentle question {therapist_alarms[UNCLEAR]}")
    by_round(answer_rows, summarise_answers)
    print(f"\nCRISIS, held out ({corpus.path(corpus.CRISIS, 'heldout').name}, {len(corpus.sources(crisis))} sources)")
    summarise_crisis(crisis_rows, show)
    by_round(crisis_rows, summarise_crisis)
    timings.sort()
    print(f"\nper message (rules + model + decisions): p50 {statistics.median(timings) * 1000:.1f} ms, "
          f"p95 {timings[int(0.95 * (len(timings) - 1))] * 1000:.1f} ms")
    return 0


# ------------------------------------------------------------------------------------------------
# Cross-validation on the training side, to choose settings without touching the held-out side
# ------------------------------------------------------------------------------------------------


def cross_validate(show: bool, folds: int = 5) -> int:

    from bot.language.train import CachedEncoder, EmbeddingCache, fit_heads, salience_weights, training_sets

    sets = training_sets()
    cache = EmbeddingCache()
    real_t = corpus.load(corpus.THERAPIST, "train")
    real_c = corpus.load(corpus.CRISIS, "train")
    groups = sorted(corpus.sources(real_t) | corpus.sources(real_c))
    fold_of = {g: i % folds for i, g in enumerate(sorted(groups, key=lambda g: hash_of(g)))}
    answer_rows: list[tuple[corpus.Line, AnswerOutcome]] = []
    crisis_rows: list[tuple[corpus.Line, str]] = []
    for k in range(folds):
        def keep(examples):
            return [e for e in examples if not e.group or fold_of[e.group] != k]
        heads = fit_heads(sets, cache, keep)
        model = LanguageModel(CachedEncoder(cache), heads, {"fold": k}, salience_weights(keep(sets.crisis)))
        for line in real_t:
            if fold_of[line.source] == k:
                level, reading = read(model, line.text)
                answer_rows.append((line, answer_outcome(corpus.band(line.fields["level"]), reading, level)))
        for line in real_c:
            if fold_of[line.source] == k:
                crisis_rows.append((line, read(model, line.text)[0]))
    cache.save()
    print(f"CROSS-VALIDATION on the training side ({folds} folds by source; our own lines always train)")
    print("\nANSWERS")
    summarise_answers(answer_rows, show)
    print("\nCRISIS")
    summarise_crisis(crisis_rows, show)
    return 0


def hash_of(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cv", action="store_true", help="cross-validate on the training side instead")
    parser.add_argument("--show", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    return cross_validate(args.show) if args.cv else heldout(args.show)


if __name__ == "__main__":
    sys.exit(main())
