"""Checks on what callers hand the store, before anything is written."""
from __future__ import annotations

from bot.dimensions import DIMENSIONS, LEVELS
from bot.store.views import FinalAnswer


def check_identifier(name: str, value: object, max_len: int) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    if len(value) > max_len or "\x00" in value:
        raise ValueError(f"{name} must be at most {max_len} characters, without NUL")
    return value


def check_dimension(dimension: object) -> str:
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}; expected one of {', '.join(DIMENSIONS)}")
    return dimension


def check_score(score: object) -> int | None:
    if score is None:
        return None
    if isinstance(score, bool) or not isinstance(score, int) or score not in LEVELS:
        raise ValueError(f"score must be an int from 1 to 5 or None, got {score!r}")
    return score


def check_checkin_id(value: object) -> int:
    """A check-in id as int; ints stored in slots often come back as "12" or 12.0."""
    if isinstance(value, bool):
        raise TypeError("checkin_id must be an int, not a bool")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ValueError(f"checkin_id must be an integer, got {value!r}")


def check_shared(value: object) -> bool:
    # Strict on purpose: bool("false") is True, and sharing is a privacy decision.
    if not isinstance(value, bool):
        raise TypeError(f"shared must be True or False, got {value!r}")
    return value


def check_text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be str, got {type(value).__name__}")
    return value


def check_answer(answer: FinalAnswer) -> None:
    check_dimension(answer.dimension)
    check_score(answer.score)
    check_text("text", answer.text)
    if answer.followup is not None:
        check_text("followup", answer.followup)
    if answer.skipped and answer.score is not None:
        raise ValueError("a skipped answer has no score")
