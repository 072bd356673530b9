"""The part of a long answer worth reflecting back in the client's own words.

A long answer ("I've been seeing her for a year. Last week I tried to tell her about my dad and she
checked the clock twice, and I felt like a box to tick.") gets a reply that quotes the part that
carries its meaning ("I felt like a box to tick"), not the story around it. `quote_for` picks,
among the answer's clauses of a quotable length, the one whose own words point the same way as the
whole answer (the lexicon in bot/scoring.py reads each clause), preferring the client's feelings
and the therapist's actions over scene-setting. It returns None when no clause fits; the reply
then does without a quote.
"""
from __future__ import annotations

import re
from typing import Callable, Optional, Sequence

from bot.dimensions import band as band_of
from bot.replies import MIN_QUOTE_WORDS, safe_quote
from bot.scoring import score_answer

LONG_ANSWER_WORDS = 15  # from this length an answer is "long": its reply reflects a part of it
_CLAUSES = re.compile(r"[^.!?;:\n]+")
_JOINS = re.compile(r"\s*,\s*(?:(?:but|and|so|because|though|although|yet|which|when)\s+)?|\s+(?:but|because|although|which)\s+", re.I)
MAX_WORDS = 15  # a reflection may quote a little more than a short answer's quote
_PERSON = re.compile(r"\b(?:she|he|they|her|him|them|my (?:t|therapist|counsel+or)|therapist|counsel+or|dr)\b", re.I)
_FEELING = re.compile(r"\b(?:i (?:feel|felt|am|was|'m)|made me|makes me|i've felt)\b", re.I)


def is_long(text: str) -> bool:
    return len(text.split()) >= LONG_ANSWER_WORDS


def _candidates(text: str) -> list[tuple[str, bool]]:
    """Sentences, their clauses, and pairs of neighbouring clauses, of a quotable length, each
    exactly as the client wrote it; the flag marks a pair."""
    out: dict[str, bool] = {}
    for sentence in _CLAUSES.finditer(text):
        cuts = [sentence.start()] + [j for m in _JOINS.finditer(text, sentence.start(), sentence.end())
                                     for j in (m.start(), m.end())] + [sentence.end()]
        spans = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
        pieces = [(s, e, False) for s, e in spans] + [(a[0], b[1], True) for a, b in zip(spans, spans[1:])]
        pieces.append((sentence.start(), sentence.end(), len(spans) > 1))
        for start, end, pair in pieces:
            clean = " ".join(text[start:end].split()).strip(" ,\"'“”‘’-–—")
            if MIN_QUOTE_WORDS <= len(clean.split()) <= MAX_WORDS and clean not in out:
                out[clean] = pair
    return list(out.items())


BandScorer = Callable[[list[str]], Sequence[dict]]
MAX_SCORED = 8  # clauses read by the model at most (each costs an embedding)


def quote_for(text: str, band: Optional[str], scorer: Optional[BandScorer] = None) -> Optional[str]:
    """A clause of `text` to quote back, agreeing with `band` (negative / mixed / positive).

    `scorer` (the model's band head over clauses) says how much each clause itself reads as
    `band`; without it, the lexicon's reading of each clause stands in.
    """
    if not isinstance(text, str):
        return None
    candidates = [(c, pair) for c, pair in _candidates(text) if safe_quote(c, MAX_WORDS) is not None]
    if not candidates:
        return None
    candidates.sort(key=lambda c: abs(len(c[0].split()) - 9))
    candidates = candidates[:MAX_SCORED]
    clauses = [c for c, _ in candidates]
    probabilities = list(scorer(clauses)) if scorer is not None and band is not None else None
    best, best_score = None, 0.0
    for i, (clause, pair) in enumerate(candidates):
        score = -0.5 if pair else 0.0  # one clause says it more plainly than two
        if probabilities is not None:
            score += 4.0 * float(probabilities[i].get(band, 0.0)) - 2.0
        level = score_answer(clause)
        if level is not None and band is not None:
            score += 1.5 if band_of(level) == band else -1.5
        score += 1.0 if _FEELING.search(clause) else 0.0
        score += 0.5 if _PERSON.search(clause) else 0.0
        score -= abs(len(clause.split()) - 9) * 0.05
        if score > best_score:
            best, best_score = clause, score
    return best
