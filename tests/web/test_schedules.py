"""The schedule page (bot/web/schedules.py), run for real (`python -m bot.web`) on SQLite: set a
client's schedule, add and import sessions, a clear 400 for bad input or a bad file, and the client
page's next check-in and response rate."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

import pytest
import requests

from bot.crypto import TextCipher, generate_key
from bot.store import Store
from bot.vocabulary import WEEKLY
from tests.harness import ReviewServer, csrf_token, login, review_env

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n"
    "BEGIN:VEVENT\r\nUID:s1@example.org\r\nDTSTAMP:20261101T090000Z\r\n"
    "DTSTART;TZID=Europe/London:{start}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


class Page:
    def __init__(self, server: ReviewServer, store: Store, client: str) -> None:
        self.server, self.store, self.client = server, store, client
        self.http = requests.Session()
        assert login(self.http, server.url).status_code == 303
        self.url = f"{server.url}/clients/{client}/schedule"

    def csrf(self) -> str:
        return csrf_token(self.http.get(self.url).text)

    def post(self, path: str, data: dict | None = None, files: dict | None = None) -> requests.Response:
        return self.http.post(f"{self.server.url}/clients/{self.client}{path}", data={"csrf_token": self.csrf(), **(data or {})},
                              files=files, allow_redirects=False)


@pytest.fixture
def page(sqlite_url: str) -> Iterator[Page]:
    key = generate_key()
    store = Store(sqlite_url, TextCipher([key]))
    client = store.enrol_client(name="J. K.", clinician_id=None, timezone="Europe/London")
    with ReviewServer(review_env(sqlite_url, key)) as server:
        yield Page(server, store, client)
    store.dispose()


SCHEDULE = {"kind": "weekly", "weekday": "2", "send_time": "18:30", "quiet_start": "21:00", "quiet_end": "08:00",
            "remind_after_hours": "24", "max_reminders": "2", "window_days": "3", "active": "1"}


def test_setting_a_schedule(page: Page) -> None:
    response = page.post("/schedule", SCHEDULE)
    assert response.status_code == 303 and response.headers["location"].endswith("/schedule?saved=schedule")
    saved = page.store.schedule(page.client)
    assert saved is not None
    assert (saved.kind, saved.weekday, saved.send_time, saved.quiet_start, saved.max_reminders, saved.active) == (
        WEEKLY, 2, "18:30", "21:00", 2, True)
    html = page.http.get(page.server.url + response.headers["location"]).text
    assert "Weekly on Wednesday at 18:30" in html and "Schedule saved." in html


@pytest.mark.parametrize("change, reason", [
    ({"kind": "daily"}, "after each session or weekly"),
    ({"send_time": "25:00"}, "24-hour time"),
    ({"quiet_end": ""}, "both a start and an end"),
    ({"max_reminders": "many"}, "whole number"),
    ({"window_days": "0"}, "days"),
])
def test_a_bad_schedule_is_a_400_with_the_reason(page: Page, change: dict, reason: str) -> None:
    response = page.post("/schedule", {**SCHEDULE, **change})
    assert response.status_code == 400 and reason in response.text
    assert page.store.schedule(page.client) is None


def test_sessions_added_and_imported_and_a_bad_file_refused(page: Page) -> None:
    response = page.post("/sessions", {"date": "2026-12-07", "time": "15:00"})
    assert response.status_code == 303
    assert page.post("/sessions", {"date": "2026-12-07", "time": "15:00"}).status_code == 400  # already there
    assert page.post("/sessions", {"date": "7/12/2026", "time": "3pm"}).status_code == 400
    csv_file = b"date,time,uid\n2026-12-14,15:00,a\n2026-12-07,15:00,\n"
    imported = page.post("/sessions/import", files={"file": ("diary.csv", csv_file, "text/csv")})
    assert imported.status_code == 200 and "1 new" in imported.text and "1 already there" in imported.text
    ics = ICS.format(start="20261221T150000").encode()
    assert "1 new" in page.post("/sessions/import", files={"file": ("cal.ics", ics, "text/calendar")}).text
    moved = page.post("/sessions/import", files={"file": ("cal.ics", ICS.format(start="20261222T090000").encode(), "text/calendar")})
    assert "1 moved" in moved.text
    starts = [s.starts_at for s in page.store.sessions(page.client)]
    assert starts == [datetime(2026, 12, d, h, tzinfo=timezone.utc) for d, h in ((7, 15), (14, 15), (22, 9))]
    bad = page.post("/sessions/import", files={"file": ("diary.csv", b"when,who\nx,y\n", "text/csv")})
    assert bad.status_code == 400 and "first row must name the columns" in bad.text
    assert page.post("/sessions/import", files={"file": ("x.pdf", b"%PDF", "application/pdf")}).status_code == 400
    assert page.post("/sessions/import").status_code == 400  # no file
    too_big = page.post("/sessions/import", files={"file": ("big.csv", b"date,time\n" + b"x" * 61_000, "text/csv")})
    assert too_big.status_code == 400 and "larger than 60 kB" in too_big.text
    first = page.store.sessions(page.client)[0]
    assert page.post(f"/sessions/{first.id}/delete").status_code == 303
    assert len(page.store.sessions(page.client)) == 2
    assert page.post("/sessions/999999/delete").status_code == 404


def test_the_client_page_shows_the_next_check_in_and_the_response_rate(page: Page) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    soon, past = now + timedelta(days=2), now - timedelta(days=14)
    clock = {"now": past}
    backdated = Store(page.store.url, page.store.cipher, clock=lambda: clock["now"])
    backdated.set_schedule(page.client, kind=WEEKLY, weekday=soon.weekday(), send_time="09:00",
                           remind_after_hours=24, max_reminders=1, window_days=1)
    day = timedelta(days=1)
    backdated.plan_checkins(page.client, [(past, past + day), (past + 2 * day, past + 3 * day), (soon, soon + day)])
    for moment in (past, past + 2 * day):
        clock["now"] = moment
        [row] = backdated.claim_due("test", timedelta(minutes=5))
        backdated.mark_sent(row.id, "test", None)
    checkin = backdated.start_checkin(page.client, "test", True)
    clock["now"] = past + 2 * day + timedelta(hours=1)
    backdated.complete_checkin(checkin, "thanks")  # inside the second window only
    backdated.dispose()
    page.store.close_windows()
    html = page.http.get(f"{page.server.url}/clients/{page.client}").text
    local = soon.astimezone(ZoneInfo("Europe/London"))
    assert f"{local.day} {local:%b %Y}, {local:%H:%M} (Europe/London)" in html
    assert "50%" in html and "1 completed of 2 sent" in html
    assert "Schedule and sessions" in html


def test_another_clients_page_is_not_found(page: Page) -> None:
    assert page.http.get(f"{page.server.url}/clients/nobody/schedule").status_code == 404
