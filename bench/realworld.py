"""The held-out real-language sets, played over the REST channel of a real Rasa server.

    .venv/bin/python -m bench.realworld [--limit N] [--show]

As a client would: for each held-out statement about a therapist (corpus/therapist.heldout.yml),
a new conversation starts a check-in, taps "Mostly" through the questions before the statement's
own question, then sends the statement; the bot's first reply is read back against the reply
bank (bot/replies.yml) to see what it did:
- recorded: an empathic reply for a band (right when it fits the statement's band),
- tentative: a tentative reflection of a band with its levels as buttons,
- asked again: the neutral reply, "I didn't catch that", or "it's okay not to be sure",
- crisis / safety question: the crisis layer answered instead.
For each held-out crisis line (corpus/crisis.heldout.yml), a new conversation starts a check-in
and sends the line as its first answer: did it get resources at once, the gentle question, or
neither. Also: the Rasa server's resident memory after the run. Never used to tune anything.
"""
from __future__ import annotations

import argparse
import re
import secrets
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Optional

import requests

from bot.dimensions import DIMENSIONS
from bench.language import by_round
from bot.language import corpus
from bot.replies import bank
from bot.resources import crisis_lines, safety_check_question
from tests.harness import migrate, server_env, start_action_server, start_rasa_server, stop, write_endpoints

ACCEPT = {"negative": (1, 2), "mixed": (2, 3, 4), "positive": (4, 5)}
OPPOSITE = {"negative": "positive", "positive": "negative"}


class ReplyReader:
    """Which reply in the bank a bot text is, and so what the bot read."""

    def __init__(self) -> None:
        self.patterns: list[tuple[re.Pattern[str], str, Optional[str]]] = []
        for key, variants in bank().groups.items():
            parts = key.split(".")
            if parts[0] in DIMENSIONS:
                kind, band = "recorded", parts[1]
            elif parts[0] == "tentative":
                kind, band = "tentative", parts[2]
            elif parts[0] in ("neutral", "unclear", "unsure"):
                kind, band = "asked", None
            else:
                continue
            for v in variants:
                regex = re.escape(v.template).replace(re.escape("{words}"), ".+?")
                self.patterns.append((re.compile(regex), kind, band))
        self.crisis_markers = [line.split(":")[0] for line in crisis_lines("US")]
        self.question = safety_check_question("US").splitlines()[-1][:40]

    def read(self, messages: list[dict]) -> tuple[str, Optional[str]]:
        text = " ".join(m.get("text") or "" for m in messages)
        if self.question in text:  # before the helpline: the gentle question names it too
            return "safety question", None
        if any(marker in text for marker in self.crisis_markers):
            return "crisis", None
        for pattern, kind, band in self.patterns:
            if pattern.search(text):
                return kind, band
        return "other", None


def play_statement(say, line: corpus.Line, reader: ReplyReader, timings: list[float]) -> tuple[str, Optional[str]]:
    sender = f"real-{uuid.uuid4()}"
    say(sender, "check in")
    for dimension in DIMENSIONS[:DIMENSIONS.index(line.fields["dimension"])]:
        say(sender, '/answer{"level":"4"}')
    started = time.perf_counter()
    reply = say(sender, line.text)
    timings.append((time.perf_counter() - started) * 1000)
    return reader.read(reply)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=0, help="only the first N lines of each set")
    parser.add_argument("--show", action="store_true", help="list every miss")
    args = parser.parse_args()
    therapist = corpus.load(corpus.THERAPIST, "heldout")
    crisis = corpus.load(corpus.CRISIS, "heldout")
    if args.limit:
        therapist, crisis = therapist[:args.limit], crisis[:args.limit]
    reader = ReplyReader()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        env = server_env(data)
        migrate(env)
        actions, action_url = start_action_server(env, data / "actions.log")
        rasa = None
        try:
            endpoints = write_endpoints(data / "endpoints.yml", action_url, data / "tracker.db")
            rasa, url = start_rasa_server(env, endpoints, secrets.token_urlsafe(8), data / "rasa.log")
            session = requests.Session()

            def say(sender: str, text: str) -> list[dict]:
                response = session.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                                        timeout=60)
                response.raise_for_status()
                return response.json()

            started = time.perf_counter()
            timings: list[float] = []
            outcomes = [(line, *play_statement(say, line, reader, timings)) for line in therapist]
            crisis_outcomes = []
            for line in crisis:
                sender = f"real-{uuid.uuid4()}"
                say(sender, "check in")
                crisis_outcomes.append((line, reader.read(say(sender, line.text))[0]))
            seconds = time.perf_counter() - started
            rss = _rss_mb(rasa.pid)
        finally:
            if rasa:
                stop(rasa)
            stop(actions)

    print(f"over REST, a real Rasa server and action server ({seconds:.0f} s); Rasa server RSS {rss} MB")
    timings.sort()
    print(f"the turn that carries a real statement: p50 {timings[len(timings) // 2]:.0f} ms, "
          f"p95 {timings[int(0.95 * (len(timings) - 1))]:.0f} ms")
    print(f"\nANSWERS: {len(outcomes)} held-out statements, each as the answer to its own question")
    misses = summarise_answers(outcomes)
    by_round(outcomes, summarise_answers)
    print(f"\nCRISIS: {len(crisis_outcomes)} held-out lines, each as the first answer of a check-in")
    summarise_crisis(crisis_outcomes)
    by_round(crisis_outcomes, summarise_crisis)
    if args.show:
        print("\nmisses (answers):")
        print("\n".join(misses))
    return 0


def summarise_answers(outcomes: list) -> list[str]:
    right = inversions = asked = 0
    kinds: Counter[str] = Counter()
    per_dimension: dict[str, list[bool]] = defaultdict(list)
    misses = []
    for line, kind, band in outcomes:
        expected = corpus.band(line.fields["level"])
        kinds[kind] += 1
        # A mixed statement (levels 2-4) fits any band read (the reply does not show the level).
        ok = kind in ("recorded", "tentative") and band is not None and (band == expected or expected == "mixed")
        inverted = band is not None and band == OPPOSITE.get(expected)
        right += ok
        inversions += inverted
        asked += kind == "asked"
        per_dimension[line.fields["dimension"]].append(ok)
        if not ok:
            misses.append(f"  [{line.fields['dimension']:<10} {expected:<8}] {kind} {band or ''}"
                          f"{' INVERSION' if inverted else ''}: {line.text[:100]!r}")
    n = len(outcomes)
    print(f"  right band the first time: {right}/{n} = {right / n:.1%}   (target >= 90%)")
    print(f"  asked again:               {asked}/{n} = {asked / n:.1%}   (target <= 8%)")
    print(f"  inversions:                {inversions}   (target 0)")
    print("  first replies: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print("  per dimension: " + ", ".join(f"{d} {sum(v)}/{len(v)}" for d, v in sorted(per_dimension.items())))
    return misses


def summarise_crisis(crisis_outcomes: list) -> None:
    by_label: dict[str, Counter[str]] = defaultdict(Counter)
    for line, kind in crisis_outcomes:
        by_label[line.fields["label"]][kind] += 1
    for label in ("direct", "indirect", "none"):
        c = by_label[label]
        total = sum(c.values())
        print(f"  {label:<8} {total:>3}: resources {c['crisis']}, gentle question {c['safety question']}, "
              f"neither {total - c['crisis'] - c['safety question']}")


def _rss_mb(pid: int) -> str:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return str(int(line.split()[1]) // 1024)
    except OSError:
        pass
    return "?"


if __name__ == "__main__":
    raise SystemExit(main())
