"""How the review app shows things: names, dates, short ids, alert lines, API records, and the
Jinja2 templates with these as filters and globals. No requests here."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot import insights
from bot.dimensions import DIMENSIONS, LEVELS, QUESTIONS, TITLES
from bot.export import private_note
from bot.store import EventView
from bot.store.triage import ACK_NOTE_MAX
from bot.vocabulary import EVENT_NAMES
from bot.web import data

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
CHART_JS = WEB_DIR / "node_modules" / "chart.js" / "dist" / "chart.umd.js"

SHORT_ID = 10

DIMENSION_NAMES = TITLES
RULE_NAMES = {
    insights.LOW_ITEM: "Low item",
    insights.LOW_TOTAL: "Low total",
    insights.ITEM_DROP_RULE: "Item dropped",
    insights.TOTAL_DROP_RULE: "Total dropped",
}


def short_id(client_id: str) -> str:
    return client_id[:SHORT_ID]


def fmt_date(moment: datetime | None) -> str:
    return moment.astimezone(timezone.utc).date().isoformat() if moment else "–"


def fmt_time(moment: datetime | None) -> str:
    if not moment:
        return "–"
    utc = moment.astimezone(timezone.utc)
    return f"{utc.date().isoformat()} {utc.hour:02d}:{utc.minute:02d} UTC"


def client_url(client_id: str, suffix: str = "") -> str:
    return f"/clients/{quote(client_id, safe='')}{suffix}"


def alert_summary(alerts: list[insights.Alert]) -> list[tuple[str, str]]:
    """Alerts for the client list, one line per rule: ("Low item", "Feels heard, Understood")."""
    lines: list[tuple[str, str]] = []
    for rule in insights.RULES:
        fired = [a for a in alerts if a.rule == rule]
        if not fired:
            continue
        if rule in (insights.LOW_ITEM, insights.ITEM_DROP_RULE):
            detail = ", ".join(DIMENSION_NAMES[a.dimension] for a in fired if a.dimension)
            if rule == insights.ITEM_DROP_RULE:
                detail = ", ".join(
                    f"{DIMENSION_NAMES[a.dimension]} {a.previous:g}→{a.score:g}" for a in fired if a.dimension
                )
        elif rule == insights.LOW_TOTAL:
            detail = f"{fired[0].score:g} of {insights.MAX_TOTAL}"
        else:
            detail = f"{fired[0].previous:g}→{fired[0].score:g}"
        lines.append((RULE_NAMES[rule], detail))
    return lines


def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        short_id=short_id, date=fmt_date, time=fmt_time, client_url=client_url, alert_summary=alert_summary
    )
    env.globals.update(
        DIMENSIONS=DIMENSIONS,
        DIMENSION_NAMES=DIMENSION_NAMES,
        QUESTIONS=QUESTIONS,
        LEVELS=LEVELS,
        EVENT_NAMES=EVENT_NAMES,
        ACK_NOTE_MAX=ACK_NOTE_MAX,
        RULE_NAMES=RULE_NAMES,
        private_note=private_note,
    )
    return env


def event_record(event: EventView) -> dict[str, Any]:
    """A crisis event for the API: who, what kind, when; never any words."""
    return {
        "client_id": event.client_id,
        "kind": event.kind,
        "date": fmt_date(event.created_at),
        "at": event.created_at.isoformat(),
    }


def client_record(row: data.ClientRow) -> dict[str, Any]:
    c = row.client
    return {
        "id": c.id,
        "short_id": short_id(c.id),
        "label": c.label,
        "checkin_count": c.checkin_count,
        "last_checkin_date": fmt_date(c.last_checkin_at) if c.last_checkin_at else None,
        "last_status": ("private" if c.last_shared is False else c.last_status),
        "attention": ("crisis", "alert", "none")[row.attention],
        "alerts": [a.as_dict() for a in row.alerts],
        "crisis_events": [event_record(e) for e in row.crisis_events],
    }
