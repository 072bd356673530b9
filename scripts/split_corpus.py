"""Adds collected real-language lines to the corpus, each on the side of the split its source is on.

    .venv/bin/python scripts/split_corpus.py therapist NEW_LINES.yml [...]
    .venv/bin/python scripts/split_corpus.py crisis NEW_LINES.yml [...]
    .venv/bin/python scripts/split_corpus.py --check

Input files are YAML lists of lines (text, url, and the set's labels: dimension and level for
`therapist`, label direct / indirect / none and a category for `crisis`); a line with
`audit: drop` is left out. Lines already in the corpus (same text, ignoring case and punctuation)
are skipped. The side of each line comes from bot.language.corpus.is_heldout(url): by source,
never by line, and blind to the content. --check verifies that every line is on its side and that
no source is on both.
"""
from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.language.corpus import CORPUS_DIR, CRISIS, THERAPIST, is_heldout, load, path, source_key  # noqa: E402

HEADERS = {
    THERAPIST: """# Real-language corpus: what clients wrote publicly about their own therapist ({side}).
#
# Each line was copied word for word from the public page at its `url` (forum posts, personal
# blogs, first-person essays, letters to advice columns), never written or reworded here; long
# posts were trimmed to the one to three sentences that answer a question. `dimension` is the
# question it answers best (team, heard, warmth, worth, understood) and `level` the answer it gives
# (1 not at all ... 5 completely), as one annotator read the line alone and a second checked it
# (`audit: changed` with `was` where the second changed it). `round: 5` marks the lines of the fifth
# collection round (lines without it come from rounds 1-4), so the bench can report both.
#
# Split by source, not by line (bot/language/corpus.py): the source is the page on a multi-author
# site and the whole site otherwise; a source is held out when SHA-256("rapport-split:" + source)
# falls in the lowest 40% of the range. No source is on both sides (tests/language/test_corpus.py).
# {rule}
""",
    CRISIS: """# Real-language corpus: warning-sign language and the lines that only look like it ({side}).
#
# Each line was copied word for word from the public page at its `url` (crisis organisations'
# warning-sign pages, first-person posts and blogs, forum threads; hyperbole, jokes and idioms from
# posts and reviews), never written or reworded here. `label`:
#   direct   - intent, a plan, means or preparation, danger now, a current self-harm act:
#              crisis resources at once
#   indirect - farewell, burden, hopelessness, wishing not to exist, a past crisis not said to be over:
#              crisis resources or the gentle safety question
#   none     - hyperbole, idiom, joke, other people, physical pain, a resolved past, a topic:
#              never the full crisis response
# `category` says which kind. One annotator labelled each line, a second checked it (`audit`).
# `round: 5` marks the lines of the fifth collection round (lines without it come from rounds 1-4).
#
# Split by source, not by line (bot/language/corpus.py): the source is the page on a multi-author
# site and the whole site otherwise; a source is held out when SHA-256("rapport-split:" + source)
# falls in the lowest 40% of the range. No source is on both sides (tests/language/test_corpus.py).
# {rule}
""",
}
RULES = {
    "train": "Training side: the models learn from these lines (with corpus/authored/, our own).",
    "heldout": ("Held-out side: never used to train or tune anything; `make bench` reports on it. A line\n"
                "# that informed a change must move to the training side (and the change says so)."),
}
KEEP = {
    THERAPIST: ("text", "url", "dimension", "level", "audit", "round", "was", "reason", "crisis_language", "note", "via"),
    CRISIS: ("text", "url", "label", "category", "audit", "round", "was", "reason", "note", "via"),
}


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _existing(name: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {"train": [], "heldout": []}
    for side in out:
        file = path(name, side)
        if file.exists():
            out[side] = list((yaml.safe_load(file.read_text(encoding="utf-8")) or {}).get("items") or [])
    return out


def write(name: str, sides: dict[str, list[dict]]) -> None:
    for side, items in sides.items():
        body = yaml.safe_dump({"items": items}, allow_unicode=True, sort_keys=False, width=120)
        header = HEADERS[name].format(side="training side" if side == "train" else "held-out side",
                                      rule=RULES[side])
        path(name, side).write_text(header + body, encoding="utf-8")


def add(name: str, files: list[str]) -> None:
    sides = _existing(name)
    seen = {_key(i["text"]) for items in sides.values() for i in items}
    added: Counter[str] = Counter()
    for file in files:
        for item in yaml.safe_load(Path(file).read_text(encoding="utf-8")) or []:
            if item.get("audit") == "drop" or _key(item["text"]) in seen:
                continue
            seen.add(_key(item["text"]))
            clean = {k: item[k] for k in KEEP[name] if item.get(k) not in (None, "")}
            side = "heldout" if is_heldout(item["url"]) else "train"
            sides[side].append(clean)
            added[side] += 1
    write(name, sides)
    print(f"{name}: added {added['train']} to train, {added['heldout']} held out; "
          f"now {len(sides['train'])} / {len(sides['heldout'])}")


def check() -> int:
    problems = 0
    for name in (THERAPIST, CRISIS):
        train, heldout = load(name, "train"), load(name, "heldout")
        both = {line.source for line in train} & {line.source for line in heldout}
        if both:
            problems += 1
            print(f"{name}: sources on both sides: {sorted(both)[:5]}")
        print(f"{name}: {len(train)} train ({len({l.source for l in train})} sources), "
              f"{len(heldout)} held out ({len({l.source for l in heldout})} sources)")
    return 1 if problems else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--check"]:
        raise SystemExit(check())
    add(sys.argv[1], sys.argv[2:])
