"""The thresholds in decisions.yml, loaded and checked once."""
from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

import yaml

DECISIONS_PATH = Path(__file__).with_name("decisions.yml")


@dataclass(frozen=True)
class CrisisThresholds:
    mention_crisis: float
    mention_none: float
    softened_unclear: float
    learned_unclear: float


@dataclass(frozen=True)
class AnswerThresholds:
    band_sure: float
    level_sure: float
    band_tentative: float
    not_an_answer: float


@dataclass(frozen=True)
class Decisions:
    crisis: CrisisThresholds
    answers: AnswerThresholds


def _section(cls: type, data: object, name: str):
    if not isinstance(data, dict):
        raise ValueError(f"decisions.yml: `{name}` must be a mapping")
    expected = {f.name for f in fields(cls)}
    if set(data) != expected:
        raise ValueError(f"decisions.yml: `{name}` needs exactly {sorted(expected)}, has {sorted(data)}")
    for key, value in data.items():
        if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
            raise ValueError(f"decisions.yml: {name}.{key} must be a probability, got {value!r}")
    return cls(**{k: float(v) for k, v in data.items()})


def load_decisions(path: Path = DECISIONS_PATH) -> Decisions:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    result = Decisions(_section(CrisisThresholds, data.get("crisis"), "crisis"),
                       _section(AnswerThresholds, data.get("answers"), "answers"))
    if result.answers.band_tentative > result.answers.band_sure:
        raise ValueError("decisions.yml: answers.band_tentative must not exceed band_sure")
    return result


@lru_cache(maxsize=1)
def decisions() -> Decisions:
    return load_decisions()
