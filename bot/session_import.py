"""Therapy sessions read from a file the practice uploads: CSV, or iCalendar (.ics) through the
`icalendar` library. Plain logic: bytes in, (start as aware UTC, UID or None) out; a file that
cannot be read raises `ImportProblem` with a sentence for the practice (the review page answers 400).

CSV: a header row, then one session per row, with either
  `date` (YYYY-MM-DD) and `time` (HH:MM, 24-hour), in the client's time zone, or
  `start`: an ISO 8601 date and time (`2026-12-07T15:00`, local, or with an offset such as `+01:00`);
and optionally `uid`, a stable id from the practice's own system (importing the same uid again
moves that session instead of adding one).

iCalendar: each VEVENT is a session at its DTSTART (a floating time is the client's local time);
its UID keeps re-imports from adding it twice. Cancelled events and all-day events are left out;
a recurring event counts once, at its first DTSTART (use a weekly schedule for regular sessions).
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from bot.schedule import parse_hhmm

MAX_BYTES = 60_000  # the review app refuses bodies over 64 KiB anyway
MAX_SESSIONS = 1000


class ImportProblem(ValueError):
    """The file cannot be imported; the message says why, for the practice."""


Session = tuple[datetime, "str | None"]


def read_sessions(filename: str, content: bytes, tz: ZoneInfo) -> tuple[list[Session], str]:
    """The sessions in an uploaded file and its kind ("csv" or "ics"), by its name or content."""
    if not content.strip():
        raise ImportProblem("The file is empty.")
    if len(content) > MAX_BYTES:
        raise ImportProblem(f"The file is larger than {MAX_BYTES // 1000} kB; split it into smaller files.")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportProblem("The file is not UTF-8 text: save it as CSV (UTF-8) or as an .ics calendar.") from None
    name = (filename or "").lower()
    if name.endswith(".ics") or text.lstrip().upper().startswith("BEGIN:VCALENDAR"):
        return read_ics(content, tz), "ics"
    if name.endswith(".csv") or name.endswith(".txt") or not name:
        return read_csv(text, tz), "csv"
    raise ImportProblem("Upload a .csv file or an .ics calendar.")


def read_csv(text: str, tz: ZoneInfo) -> list[Session]:
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as error:
        raise ImportProblem(f"The CSV file cannot be read ({error}).") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise ImportProblem("The file is empty.")
    header = [cell.strip().lower() for cell in rows[0]]
    has_start = "start" in header
    if not has_start and not {"date", "time"} <= set(header):
        raise ImportProblem("The first row must name the columns: date and time (or start), and optionally uid.")
    if len(rows) - 1 > MAX_SESSIONS:
        raise ImportProblem(f"At most {MAX_SESSIONS} sessions per file.")
    sessions: list[Session] = []
    for number, row in enumerate(rows[1:], start=2):
        cells = dict(zip(header, (cell.strip() for cell in row)))
        try:
            if has_start:
                starts_at = _local_or_aware(datetime.fromisoformat(cells.get("start", "")), tz)
            else:
                day = date.fromisoformat(cells.get("date", ""))
                starts_at = _local_or_aware(datetime.combine(day, parse_hhmm(cells.get("time", ""))), tz)
        except ValueError:
            raise ImportProblem(
                f"Row {number} has no session time Rapport can read: use a date like 2026-12-07 and a time like 15:00."
            ) from None
        uid = cells.get("uid") or None
        if uid is not None and len(uid) > 255:
            raise ImportProblem(f"Row {number}'s uid is longer than 255 characters.")
        sessions.append((starts_at, uid))
    if not sessions:
        raise ImportProblem("The file has a header row but no sessions.")
    return sessions


def read_ics(content: bytes, tz: ZoneInfo) -> list[Session]:
    import icalendar

    try:
        calendar = icalendar.Calendar.from_ical(content)
    except Exception:  # noqa: BLE001 - the library raises ValueError and others on bad input
        raise ImportProblem("The calendar file cannot be read: export it again as an .ics file.") from None
    sessions: list[Session] = []
    for event in calendar.walk("VEVENT"):
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        start = event.get("DTSTART")
        value = getattr(start, "dt", None)
        if not isinstance(value, datetime):  # all-day (a date) or none at all
            continue
        uid = str(event.get("UID")) if event.get("UID") else None
        if uid is not None and len(uid) > 255:
            uid = uid[:255]
        sessions.append((_local_or_aware(value, tz), uid))
        if len(sessions) > MAX_SESSIONS:
            raise ImportProblem(f"At most {MAX_SESSIONS} sessions per file.")
    if not sessions:
        raise ImportProblem("The calendar has no timed events to import.")
    return sessions


def _local_or_aware(moment: datetime, tz: ZoneInfo) -> datetime:
    """A naive time is the client's local time; any time as aware UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(timezone.utc)


__all__ = ["ImportProblem", "MAX_BYTES", "MAX_SESSIONS", "read_csv", "read_ics", "read_sessions"]
