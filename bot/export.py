"""Export records of stored check-ins, and their CSV and JSON writers: one place for the
privacy rule. Used by `python -m bot.review show / export` and by the review web app's exports
and JSON API.

Privacy: a check-in the client chose not to share (shared = false) is shown and exported only as
"a private check-in on <date>": no answers, words or summary. Its crisis events (which never
hold words) are still shown, as on the review page: the practice must see them.
`include_private=True` includes them in full; only for a client's own copy of their data.

Export formats: JSON is an exact copy (a list of check-ins, each with its answers). CSV has one
row per answer (a check-in without answers gets one row); since spreadsheets run cells that start
with = + - @ as formulas, such client text is prefixed with an apostrophe, and NUL characters
(which CSV cannot hold) become U+FFFD. Use JSON when you need the words exactly.
"""
from __future__ import annotations

import csv
import json
from datetime import datetime
from typing import Any, Iterable, TextIO

from bot.store import CheckinView

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS = (
    "checkin_id",
    "client_id",
    "channel",
    "status",
    "shared",
    "date",
    "note",
    "started_at",
    "completed_at",
    "summary",
    "events",
    "dimension",
    "score",
    "level",
    "text",
    "followup",
    "skipped",
)


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def private_note(checkin: CheckinView) -> str:
    return f"a private check-in on {_day(checkin.started_at)}"


def hidden(checkin: CheckinView, include_private: bool) -> bool:
    return not checkin.shared and not include_private


def _event_records(checkin: CheckinView) -> list[dict[str, str]]:
    return [{"kind": e.kind, "created_at": e.created_at.isoformat()} for e in checkin.events]


def checkin_record(checkin: CheckinView, include_private: bool = False) -> dict[str, Any]:
    """One check-in as plain JSON-ready values; a private one reduced to its date and events."""
    if hidden(checkin, include_private):
        return {
            "checkin_id": checkin.id,
            "client_id": checkin.client_id,
            "channel": None,
            "status": None,
            "shared": False,
            "private": True,
            "date": _day(checkin.started_at),
            "note": private_note(checkin),
            "started_at": None,
            "completed_at": None,
            "summary": None,
            "events": _event_records(checkin),
            "answers": [],
        }
    return {
        "checkin_id": checkin.id,
        "client_id": checkin.client_id,
        "channel": checkin.channel,
        "status": checkin.status,
        "shared": checkin.shared,
        "private": False,
        "date": _day(checkin.started_at),
        "note": None,
        "started_at": checkin.started_at.isoformat(),
        "completed_at": checkin.completed_at.isoformat() if checkin.completed_at else None,
        "summary": checkin.summary,
        "events": _event_records(checkin),
        "answers": [
            {
                "dimension": a.dimension,
                "score": a.score,
                "level": a.level,
                "text": a.text,
                "followup": a.followup,
                "skipped": a.skipped,
            }
            for a in checkin.answers.values()
        ],
    }


def _csv_cell(value: Any) -> Any:
    if not isinstance(value, str):
        return "" if value is None else value
    value = value.replace("\x00", "\ufffd")
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_rows(records: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for record in records:
        base = {key: record[key] for key in CSV_COLUMNS if key in record and key != "events"}
        base["events"] = ";".join(e["kind"] for e in record["events"])
        answers = record["answers"] or [{}]
        for answer in answers:
            row = dict(base)
            for key in ("dimension", "score", "level", "text", "followup", "skipped"):
                row[key] = answer.get(key)
            yield {key: _csv_cell(row.get(key)) for key in CSV_COLUMNS}


def write_json(records: list[dict[str, Any]] | dict[str, Any], out: TextIO) -> None:
    json.dump(records, out, ensure_ascii=False, indent=2)
    out.write("\n")


def write_csv(records: list[dict[str, Any]], out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(records))
