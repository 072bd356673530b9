"""The five rapport dimensions and the 1-5 answer levels.

The keys are stable names used in slots, the database and exports.
"""
from __future__ import annotations

from typing import Final

DIMENSIONS: Final[tuple[str, ...]] = ("team", "heard", "warmth", "worth", "understood")

QUESTIONS: Final[dict[str, str]] = {
    "team": "Does my therapist seem to be on my team and advocate for me?",
    "heard": "Do I feel heard by my therapist?",
    "warmth": "Does my therapist treat me in a warm, supportive manner?",
    "worth": "Does my therapist treat me as a person of worth?",
    "understood": "Does my therapist understand who I am, how I tick, or why I'm here?",
}

# How the review page titles each dimension ("Feels heard").
TITLES: Final[dict[str, str]] = {
    "team": "On their team",
    "heard": "Feels heard",
    "warmth": "Warmth",
    "worth": "Treated with worth",
    "understood": "Understood",
}

# How each dimension is named inside a sentence ("Feeling heard scored 2 of 5 ...").
SHORT_NAMES: Final[dict[str, str]] = {
    "team": "therapist on their team",
    "heard": "feeling heard",
    "warmth": "warmth and support",
    "worth": "treated as a person of worth",
    "understood": "feeling understood",
}

LEVELS: Final[dict[int, str]] = {
    1: "not at all",
    2: "a little",
    3: "somewhat",
    4: "mostly",
    5: "completely",
}

# A score of 1-2 is negative, 3 mixed, 4-5 positive.
NEGATIVE, MIXED, POSITIVE = "negative", "mixed", "positive"


def band(score: int) -> str:
    """Group a 1-5 score into negative / mixed / positive."""
    if score not in LEVELS:
        raise ValueError(f"score must be 1-5, got {score!r}")
    if score <= 2:
        return NEGATIVE
    if score == 3:
        return MIXED
    return POSITIVE


def next_dimension(dimension: str) -> str | None:
    """The dimension asked after this one, or None after the last."""
    i = DIMENSIONS.index(dimension)
    return DIMENSIONS[i + 1] if i + 1 < len(DIMENSIONS) else None


def is_very_low(scores: dict[str, int | None]) -> bool:
    """A check-in worth alerting the practice about at once: the answered items average 2 or less
    (at least three answered)."""
    answered = [s for s in scores.values() if s is not None]
    return len(answered) >= 3 and sum(answered) / len(answered) <= 2
