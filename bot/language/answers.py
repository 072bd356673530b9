"""Reading a client's answer: a level 1-5 when it is clear, a band to reflect when only that is.

`read_answer(text)` returns a `Reading`:

- `level` set: record it (a number, a plain "mostly", or words the model reads with confidence);
- `level` None and `band` set: the meaning is clear and the level is not. Reflect the band
  tentatively and let the client choose between `choices` ("not at all, or a little?"). The
  band's sureness is how far the words lean one way: P(positive) against P(negative);
- both None: nothing clear. Validate neutrally and ask them to place it on the scale (or, for
  "I don't know", help them pick: `unsure`).

Two layers. The hand-written lexicon (bot/scoring.py) is a floor for what it reads reliably:
ratings written as numbers, short answers in the scale's own words ("mostly", "not really",
"yes totally"), and answers that open with them ("a little, she checks her phone a lot").
Everything else rests on the model's reading of the meaning (bot/language/model.py, whose band
and level heads read the embedding beside the lexicon's own reading). Thresholds:
bot/language/decisions.yml.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from bot.dimensions import band as band_of
from bot.language.decisions import decisions
from bot.language.model import Analysis
from bot.scoring import is_unsure, leading_answer, numeric_rating, score_answer

BAND_LEVELS: dict[str, tuple[int, ...]] = {"negative": (1, 2), "mixed": (2, 3, 4), "positive": (4, 5)}
SHORT_ANSWER_WORDS = 6  # up to this many words, the lexicon's reading of scale words is trusted
_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class Reading:
    level: Optional[int] = None
    band: Optional[str] = None
    choices: tuple[int, ...] = ()
    confidence: float = 0.0
    how: str = "none"  # "lexicon", "model", "unsure" or "none"
    probabilities: dict[str, float] = field(default_factory=dict)
    quote: Optional[str] = None  # for a long answer, the part of it to reflect (understand.py)

    def as_dict(self) -> dict:
        return {"level": self.level, "band": self.band, "choices": list(self.choices),
                "confidence": round(self.confidence, 3), "how": self.how, "quote": self.quote}

    @classmethod
    def from_dict(cls, data: object) -> Optional["Reading"]:
        if not isinstance(data, dict):
            return None
        level = data.get("level")
        band = data.get("band")
        choices = tuple(int(c) for c in data.get("choices") or () if str(c).isdigit() and 1 <= int(c) <= 5)
        if level is not None and (not isinstance(level, int) or not 1 <= level <= 5):
            return None
        if band not in (None, "negative", "mixed", "positive"):
            return None
        quote = data.get("quote")
        return cls(level, band, choices, float(data.get("confidence") or 0.0), str(data.get("how") or "none"),
                   quote=str(quote) if isinstance(quote, str) and quote.strip() else None)


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def read_answer(text: str, analysis: Optional[Analysis] = None) -> Reading:
    """Reads one answer. `analysis` is the model's reading of the same text (None: lexicon only)."""
    if not isinstance(text, str) or not text.strip():
        return Reading()
    rating = numeric_rating(text)
    if rating is not None:
        return Reading(rating, band_of(rating), (), 1.0, "lexicon")
    lexicon = score_answer(text)
    if lexicon is not None and _words(text) <= SHORT_ANSWER_WORDS:
        return Reading(lexicon, band_of(lexicon), (), 1.0, "lexicon")
    lead = leading_answer(text)
    if lead is not None:
        return Reading(lead, band_of(lead), (), 1.0, "lexicon")
    if is_unsure(text):
        return Reading(how="unsure")
    if analysis is None:
        if lexicon is not None:
            return Reading(lexicon, band_of(lexicon), (), 0.5, "lexicon")
        return Reading()
    t = decisions().answers
    probabilities = dict(analysis.band)
    if analysis.relevance.get("other", 0.0) >= t.not_an_answer and lexicon is None:
        return Reading(probabilities=probabilities)
    band, confidence = polarity(probabilities)
    if band is not None and confidence >= t.band_sure:
        level = _level_in_band(band, analysis, t.level_sure)
        if level is not None:
            return Reading(level, band, (), confidence, "model", probabilities)
        return Reading(None, band, BAND_LEVELS[band], confidence, "model", probabilities)
    if band is not None and confidence >= t.band_tentative:
        return Reading(None, band, BAND_LEVELS[band], confidence, "model", probabilities)
    if max(probabilities, key=probabilities.__getitem__) == "mixed":
        return Reading(None, "mixed", BAND_LEVELS["mixed"], probabilities["mixed"], "model", probabilities)
    return Reading(None, None, (), confidence, "model", probabilities)


def polarity(probabilities: dict[str, float]) -> tuple[Optional[str], float]:
    """Which way the words lean, negative or positive, and how surely: P(positive) against
    P(negative), leaving "mixed" aside (a mixed answer leans neither way)."""
    positive, negative = probabilities.get("positive", 0.0), probabilities.get("negative", 0.0)
    if positive + negative <= 0:
        return None, 0.0
    lean = positive / (positive + negative)
    return ("positive", lean) if lean >= 0.5 else ("negative", 1.0 - lean)


def _level_in_band(band: str, analysis: Analysis, sure: float) -> Optional[int]:
    """The level within `band` (negative or positive) when the level head is sure enough."""
    levels = BAND_LEVELS[band]
    weights = {level: analysis.level.get(str(level), 0.0) for level in levels}
    total = sum(weights.values())
    if total <= 0:
        return None
    level = max(weights, key=weights.__getitem__)
    return level if weights[level] / total >= sure else None
