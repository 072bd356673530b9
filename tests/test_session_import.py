"""bot/session_import.py: sessions from CSV and iCalendar files, and a clear reason for a bad file."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.schedule import zone
from bot.session_import import MAX_BYTES, ImportProblem, read_sessions

LONDON = zone("Europe/London")
UTC = timezone.utc

ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Example Practice//Diary//EN\r
BEGIN:VEVENT\r
UID:session-1@example.org\r
DTSTAMP:20261101T090000Z\r
DTSTART;TZID=Europe/London:20261207T150000\r
DTEND;TZID=Europe/London:20261207T155000\r
SUMMARY:Session\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:session-2@example.org\r
DTSTAMP:20261101T090000Z\r
DTSTART:20260615T140000Z\r
SUMMARY:Session\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:floating@example.org\r
DTSTAMP:20261101T090000Z\r
DTSTART:20260616T100000\r
SUMMARY:Session\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:cancelled@example.org\r
DTSTAMP:20261101T090000Z\r
DTSTART:20260617T100000Z\r
STATUS:CANCELLED\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:holiday@example.org\r
DTSTAMP:20261101T090000Z\r
DTSTART;VALUE=DATE:20261225\r
SUMMARY:Closed\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_an_ics_calendar_gives_each_timed_event_with_its_uid() -> None:
    sessions, kind = read_sessions("diary.ics", ICS, LONDON)
    assert kind == "ics"
    assert sessions == [
        (datetime(2026, 12, 7, 15, 0, tzinfo=UTC), "session-1@example.org"),  # GMT in December
        (datetime(2026, 6, 15, 14, 0, tzinfo=UTC), "session-2@example.org"),
        (datetime(2026, 6, 16, 9, 0, tzinfo=UTC), "floating@example.org"),  # 10:00 BST, the client's time
    ]


def test_a_csv_with_date_and_time_in_the_clients_time_zone() -> None:
    content = "\ufeffDate,Time,UID\n2026-07-01,09:30,a1\n\n2026-12-01,09:30,\n".encode()
    sessions, kind = read_sessions("sessions.csv", content, LONDON)
    assert kind == "csv"
    assert sessions == [
        (datetime(2026, 7, 1, 8, 30, tzinfo=UTC), "a1"),
        (datetime(2026, 12, 1, 9, 30, tzinfo=UTC), None),
    ]


def test_a_csv_with_iso_starts() -> None:
    content = b"start\n2026-07-01T09:30\n2026-07-02T09:30-04:00\n"
    sessions, _ = read_sessions("x.csv", content, LONDON)
    assert [s for s, _ in sessions] == [datetime(2026, 7, 1, 8, 30, tzinfo=UTC), datetime(2026, 7, 2, 13, 30, tzinfo=UTC)]


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("a.csv", b"", "empty"),
        ("a.csv", b"when,who\n2026-01-01,x\n", "first row must name the columns"),
        ("a.csv", b"date,time\n2026-13-01,09:00\n", "Row 2"),
        ("a.csv", b"date,time\n2026-01-01,9am\n", "Row 2"),
        ("a.csv", b"date,time\n", "no sessions"),
        ("a.csv", b"\xff\xfe\x00d\x00a", "not UTF-8"),
        ("a.pdf", b"%PDF-1.4 something", "Upload a .csv"),
        ("a.ics", b"BEGIN:VCALENDAR\r\nthis is not ical\r\n", "cannot be read"),
        ("a.ics", b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n", "no timed events"),
        ("a.csv", b"date,time\n" + b"2026-01-01,09:00\n" * (MAX_BYTES // 17 + 1), "larger than"),
    ],
)
def test_a_bad_file_gets_a_reason(name: str, content: bytes, reason: str) -> None:
    with pytest.raises(ImportProblem, match=reason):
        read_sessions(name, content, LONDON)
