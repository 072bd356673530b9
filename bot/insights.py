"""Alert rules, trends and talking points for the practice's review.

Pure functions over the store's views (`CheckinView`, or anything with the same fields): no
database, no web, no clock. The review page (`bot.web`) and its API call them.

Which check-ins count: only **completed and shared** ones. A private check-in (shared=False)
never raises an alert, never serves as the "previous" check-in of a drop, and is never part of a
trend or a talking point: any of those would reveal what the client chose to keep private. An
unfinished check-in (in progress, paused, abandoned) raises no alerts either: its total means
nothing and the client may still change their answers.

The rules (each `Alert` names the rule that fired):

- `low_item`   an answered item scored at or below `ITEM_LOW` (2: "a little" or "not at all").
- `low_total`  the total is below the cut-off (RAPPORT_ALERT_TOTAL_BELOW, default 15 of 25).
               Skipped items: the total is taken over the answered items and scaled to 25
               (average x 5), and only when at least `MIN_ANSWERED` (3) of the 5 are answered;
               with fewer answers no total rule runs. The alert says how many were answered.
- `item_drop`  an item fell by `ITEM_DROP` (2) or more since the client's previous completed,
               shared check-in (only items answered in both).
- `total_drop` the total fell by `TOTAL_DROP` (3) or more since then, summed over the items
               answered in both (at least `MIN_ANSWERED` of them).

Crisis events (`CRISIS_KINDS`) are not alerts: the page lists them first, by date, with no words.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, Protocol, Sequence

import yaml

from bot.dimensions import DIMENSIONS, SHORT_NAMES
from bot.vocabulary import COMPLETED, CRISIS_KINDS

ITEM_LOW = 2
ITEM_DROP = 2
TOTAL_DROP = 3
MIN_ANSWERED = 3
DEFAULT_TOTAL_BELOW = 15
MAX_TOTAL = 5 * len(DIMENSIONS)

LOW_ITEM, LOW_TOTAL, ITEM_DROP_RULE, TOTAL_DROP_RULE = "low_item", "low_total", "item_drop", "total_drop"
RULES: tuple[str, ...] = (LOW_ITEM, LOW_TOTAL, ITEM_DROP_RULE, TOTAL_DROP_RULE)

TALKING_POINTS_FILE = Path(__file__).resolve().parent / "talking_points.yml"



# --------------------------------------------------------------------------- inputs


class ScoredAnswer(Protocol):
    @property
    def dimension(self) -> str: ...
    @property
    def score(self) -> int | None: ...
    @property
    def skipped(self) -> bool: ...


class ScoredCheckin(Protocol):
    """What the rules read from a check-in (read-only); `bot.store.CheckinView` is one."""

    @property
    def id(self) -> int: ...
    @property
    def client_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def shared(self) -> bool: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def completed_at(self) -> datetime | None: ...

    @property
    def answers(self) -> Mapping[str, ScoredAnswer]: ...


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Alert:
    client_id: str
    checkin_id: int
    date: str  # YYYY-MM-DD the check-in was completed (or started)
    rule: str  # one of RULES
    message: str
    dimension: str | None = None
    score: float | None = None  # the item's score, or the (scaled) total
    previous: float | None = None  # for drops: the score or total before

    def as_dict(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "checkin_id": self.checkin_id,
            "date": self.date,
            "rule": self.rule,
            "message": self.message,
            "dimension": self.dimension,
            "score": self.score,
            "previous": self.previous,
        }


@dataclass(frozen=True)
class TrendPoint:
    checkin_id: int
    date: str
    scores: Mapping[str, int | None]  # by dimension; None when skipped


@dataclass(frozen=True)
class TalkingPoint:
    dimension: str
    reason: str  # "low" or "dropped"
    text: str


# --------------------------------------------------------------------------- helpers


def counts(checkin: ScoredCheckin) -> bool:
    """Whether a check-in may be used for alerts, trends and talking points."""
    return bool(checkin.shared) and checkin.status == COMPLETED


def day(checkin: ScoredCheckin) -> str:
    """YYYY-MM-DD (UTC) the check-in was completed, or started. (isoformat: strftime is ~6x slower.)"""
    moment = checkin.completed_at or checkin.started_at
    return moment.astimezone(timezone.utc).date().isoformat()


def scores(checkin: ScoredCheckin) -> dict[str, int]:
    """The answered items' scores by dimension (skipped or unscored items left out)."""
    return {
        d: a.score
        for d, a in checkin.answers.items()
        if d in DIMENSIONS and a.score is not None and not a.skipped
    }


def total(checkin: ScoredCheckin) -> tuple[float, int] | None:
    """(total out of 25, answered items), scaled to 25 when items were skipped; None with
    fewer than MIN_ANSWERED answers."""
    answered = scores(checkin)
    if len(answered) < MIN_ANSWERED:
        return None
    raw = sum(answered.values())
    if len(answered) == len(DIMENSIONS):
        return float(raw), len(answered)
    return round(raw * len(DIMENSIONS) / len(answered), 1), len(answered)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _ordered(checkins: Iterable[ScoredCheckin]) -> list[ScoredCheckin]:
    """Completed, shared check-ins, oldest first (by completion time, then id)."""
    usable = [c for c in checkins if counts(c)]
    return sorted(usable, key=lambda c: (c.completed_at or c.started_at, c.id))


# --------------------------------------------------------------------------- rules


def checkin_alerts(
    checkin: ScoredCheckin,
    previous: ScoredCheckin | None = None,
    total_below: float = DEFAULT_TOTAL_BELOW,
) -> list[Alert]:
    """Every rule that fires for `checkin`, compared with the client's `previous` completed,
    shared check-in (if any). Empty for a private or unfinished check-in."""
    if not counts(checkin):
        return []
    if previous is not None and not counts(previous):
        previous = None
    when = day(checkin)
    alerts: list[Alert] = []

    def alert(rule: str, message: str, **fields: Any) -> None:
        alerts.append(Alert(checkin.client_id, checkin.id, when, rule, message, **fields))

    now = scores(checkin)
    for dimension in DIMENSIONS:
        score = now.get(dimension)
        if score is not None and score <= ITEM_LOW:
            alert(
                LOW_ITEM,
                f"{_cap(SHORT_NAMES[dimension])} scored {score} of 5 (at or below {ITEM_LOW}).",
                dimension=dimension,
                score=score,
            )

    current_total = total(checkin)
    if current_total is not None and current_total[0] < total_below:
        value, answered = current_total
        if answered == len(DIMENSIONS):
            message = f"Total {_fmt(value)} of {MAX_TOTAL}, below {_fmt(total_below)}."
        else:
            message = (
                f"Total {_fmt(value)} of {MAX_TOTAL} (scaled from {answered} of "
                f"{len(DIMENSIONS)} answered items), below {_fmt(total_below)}."
            )
        alert(LOW_TOTAL, message, score=value)

    if previous is not None:
        before = scores(previous)
        common = [d for d in DIMENSIONS if d in now and d in before]
        for dimension in common:
            fall = before[dimension] - now[dimension]
            if fall >= ITEM_DROP:
                alert(
                    ITEM_DROP_RULE,
                    f"{_cap(SHORT_NAMES[dimension])} fell {fall} points, from {before[dimension]} "
                    f"to {now[dimension]}, since {day(previous)}.",
                    dimension=dimension,
                    score=now[dimension],
                    previous=before[dimension],
                )
        if len(common) >= MIN_ANSWERED:
            then_sum = sum(before[d] for d in common)
            now_sum = sum(now[d] for d in common)
            if then_sum - now_sum >= TOTAL_DROP:
                scope = "" if len(common) == len(DIMENSIONS) else f" (over the {len(common)} items answered both times)"
                alert(
                    TOTAL_DROP_RULE,
                    f"The total fell {then_sum - now_sum} points, from {then_sum} to "
                    f"{now_sum}{scope}, since {day(previous)}.",
                    score=now_sum,
                    previous=then_sum,
                )
    return alerts


def alerts_by_checkin(
    checkins: Iterable[ScoredCheckin], total_below: float = DEFAULT_TOTAL_BELOW
) -> dict[int, list[Alert]]:
    """One client's check-ins (any order) → alerts of each completed, shared check-in,
    each compared with the one before it."""
    result: dict[int, list[Alert]] = {}
    previous: ScoredCheckin | None = None
    for checkin in _ordered(checkins):
        result[checkin.id] = checkin_alerts(checkin, previous, total_below)
        previous = checkin
    return result


def current_alerts(
    checkins: Iterable[ScoredCheckin], total_below: float = DEFAULT_TOTAL_BELOW
) -> list[Alert]:
    """The alerts of one client's latest completed, shared check-in (against the one before)."""
    ordered = _ordered(checkins)
    if not ordered:
        return []
    latest = ordered[-1]
    previous = ordered[-2] if len(ordered) > 1 else None
    return checkin_alerts(latest, previous, total_below)


def is_crisis(kind: str) -> bool:
    return kind in CRISIS_KINDS


# --------------------------------------------------------------------------- trends


def trend(checkins: Iterable[ScoredCheckin]) -> list[TrendPoint]:
    """The five scores of each completed, shared check-in, oldest first (for the chart)."""
    return [
        TrendPoint(c.id, day(c), {d: scores(c).get(d) for d in DIMENSIONS}) for c in _ordered(checkins)
    ]


def chart_data(points: Sequence[TrendPoint]) -> dict[str, Any]:
    """Trend points for the page's chart: {labels: [date], series: [{dimension, scores}]},
    series in DIMENSIONS order, a skipped item's score None."""
    return {
        "labels": [p.date for p in points],
        "series": [{"dimension": d, "scores": [p.scores.get(d) for p in points]} for d in DIMENSIONS],
    }


# --------------------------------------------------------------------------- talking points


@lru_cache(maxsize=4)
def load_talking_points(path: Path = TALKING_POINTS_FILE) -> dict[str, dict[str, str]]:
    """The talking-point copy: {dimension: {"low": text, "dropped": text}}."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    points = data.get("talking_points") if isinstance(data, dict) else None
    if not isinstance(points, dict):
        raise ValueError(f"{path}: expected a 'talking_points' mapping")
    result: dict[str, dict[str, str]] = {}
    for dimension in DIMENSIONS:
        entry = points.get(dimension)
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: no talking points for {dimension!r}")
        result[dimension] = {}
        for reason in ("low", "dropped"):
            text = entry.get(reason)
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{path}: no {reason!r} talking point for {dimension!r}")
            result[dimension][reason] = " ".join(text.split())
    return result


def talking_points(
    checkins: Iterable[ScoredCheckin],
    copy: Mapping[str, Mapping[str, str]] | None = None,
) -> list[TalkingPoint]:
    """Suggestions for the next session from the latest completed, shared check-in: one per
    item that is low (at or below ITEM_LOW; lowest first), then one per item that dropped by
    ITEM_DROP or more since the check-in before (biggest drop first)."""
    copy = copy if copy is not None else load_talking_points()
    ordered = _ordered(checkins)
    if not ordered:
        return []
    now = scores(ordered[-1])
    before = scores(ordered[-2]) if len(ordered) > 1 else {}
    low = sorted((s, DIMENSIONS.index(d), d) for d, s in now.items() if s <= ITEM_LOW)
    points = [TalkingPoint(d, "low", copy[d]["low"]) for _, _, d in low]
    seen = {p.dimension for p in points}
    drops = sorted(
        (-(before[d] - now[d]), DIMENSIONS.index(d), d)
        for d in now
        if d in before and d not in seen and before[d] - now[d] >= ITEM_DROP
    )
    points += [TalkingPoint(d, "dropped", copy[d]["dropped"]) for _, _, d in drops]
    return points


__all__ = [
    "Alert",
    "CRISIS_KINDS",
    "DEFAULT_TOTAL_BELOW",
    "ITEM_DROP",
    "ITEM_LOW",
    "MIN_ANSWERED",
    "RULES",
    "TOTAL_DROP",
    "TalkingPoint",
    "TrendPoint",
    "alerts_by_checkin",
    "chart_data",
    "checkin_alerts",
    "counts",
    "current_alerts",
    "is_crisis",
    "load_talking_points",
    "scores",
    "talking_points",
    "total",
    "trend",
]
