"""A printable report on one client for the practice: trend chart, current alerts, talking
points, the latest summary, crisis events. The review app serves it at /clients/<id>/report
(bot/web/templates/report.html, with bot/web/static/report.css) behind the same login as the
client page; the browser's Print (or "Save as PDF") makes the paper or PDF copy.

The chart is an SVG drawn here, on the server, not the review page's Chart.js canvas: it needs no
JavaScript (so nothing has to finish drawing before the browser prints), prints as sharp vector
lines at any size, and works under the app's strict Content-Security-Policy. `chart()` returns
only numbers and names; the template writes the SVG, so Jinja escapes every text in it.

Privacy as on the client page: trend, alerts, talking points and summary come from completed,
shared check-ins only; private check-ins are only counted. Crisis events are listed by kind and
date (no words are stored with them), whichever check-in they were in.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

from bot import insights
from bot.dimensions import DIMENSIONS, LEVELS
from bot.store import CheckinView, ClientView, EventView, Store
from bot.vocabulary import CRISIS_KINDS

# The SVG's coordinate box (viewBox); it scales to the page's width.
WIDTH, HEIGHT = 720, 250
LEFT, RIGHT, TOP, BOTTOM = 118, 40, 14, 34  # room for level names and dates
MAX_DATE_LABELS = 8
# The review page's colours (bot/web/static/review.js), with a dash pattern and a marker shape
# for each line, so the chart reads on a black-and-white printer and where lines coincide.
STYLES = {
    "team": ("#2d6a8f", "", "circle"),
    "heard": ("#c0582a", "6 3", "square"),
    "warmth": ("#2f8a57", "2 2", "triangle"),
    "worth": ("#7a4fa0", "8 3 2 3", "diamond"),
    "understood": ("#b08a00", "12 4", "cross"),
}


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    score: int
    date: str


@dataclass(frozen=True)
class Series:
    dimension: str
    colour: str
    dash: str
    shape: str
    path: str  # SVG path data through the answered points (skipped ones spanned, as on the page)
    markers: tuple[Marker, ...]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    y_ticks: tuple[tuple[float, int, str], ...]  # (y, score, level name)
    x_ticks: tuple[tuple[float, str], ...]  # (x, date)
    series: tuple[Series, ...]


def _x(index: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return round(LEFT + span / 2, 1) if count == 1 else round(LEFT + span * index / (count - 1), 1)


def _y(score: float) -> float:
    return round(TOP + (HEIGHT - TOP - BOTTOM) * (5 - score) / 4, 1)


def chart(points: Sequence[insights.TrendPoint]) -> Chart:
    """The trend as SVG geometry: one line per dimension over the completed, shared check-ins."""
    count = len(points)
    step = max(1, -(-count // MAX_DATE_LABELS))
    x_ticks = tuple((_x(i, count), p.date) for i, p in enumerate(points) if i % step == 0 or i == count - 1)
    series = []
    for dimension in DIMENSIONS:
        colour, dash, shape = STYLES[dimension]
        markers = tuple(
            Marker(_x(i, count), _y(score), score, p.date)
            for i, p in enumerate(points)
            if (score := p.scores.get(dimension)) is not None
        )
        path = " ".join(f"{'M' if i == 0 else 'L'}{m.x} {m.y}" for i, m in enumerate(markers))
        series.append(Series(dimension, colour, dash, shape, path, markers))
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        bottom=HEIGHT - BOTTOM,
        y_ticks=tuple((_y(score), score, LEVELS[score]) for score in sorted(LEVELS)),
        x_ticks=x_ticks,
        series=tuple(series),
    )


def latest_summary(checkins: Iterable[CheckinView]) -> CheckinView | None:
    """The latest completed, shared check-in that has a summary."""
    usable = sorted((c for c in checkins if insights.counts(c)), key=lambda c: (c.completed_at or c.started_at, c.id))
    return next((c for c in reversed(usable) if c.summary), None)


def build(store: Store, client: ClientView, total_below: float, now: datetime | None = None) -> dict[str, Any]:
    """Everything report.html shows about `client`."""
    checkins = store.checkins(client.id)
    usable = [c for c in checkins if insights.counts(c)]
    points = insights.trend(checkins)
    crisis: list[EventView] = store.events_of_kinds(CRISIS_KINDS, client.id)  # newest first
    return {
        "generated_at": now or datetime.now(timezone.utc),
        "shared_count": len(usable),
        "private_count": sum(1 for c in checkins if not c.shared),
        "first_date": points[0].date if points else None,
        "last_date": points[-1].date if points else None,
        "trend": points,
        "chart": chart(points),
        "alerts": insights.current_alerts(checkins, total_below),
        "talking_points": insights.talking_points(checkins),
        "latest_summary": latest_summary(checkins),
        "crisis_events": crisis,
    }


__all__ = ["Chart", "Marker", "Series", "build", "chart", "latest_summary"]
