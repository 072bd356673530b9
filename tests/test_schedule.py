"""bot/schedule.py: due times, quiet hours, reminders and windows, across daylight-saving changes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.schedule import (
    Rule,
    describe,
    due_times,
    in_quiet_hours,
    local_moment,
    next_reminder,
    outside_quiet_hours,
    parse_hhmm,
    zone,
)
from bot.vocabulary import AFTER_SESSION, WEEKLY

UTC = timezone.utc
LONDON = zone("Europe/London")
NEW_YORK = zone("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_after_session_is_the_next_local_day_at_the_chosen_time():
    rule = Rule(kind=AFTER_SESSION, send_time="10:00")
    # a session at 23:30 New York time on 5 May is 03:30 UTC on 6 May: the day after is 6 May local
    session = utc(2026, 5, 6, 3, 30)
    due = due_times(rule, NEW_YORK, [session], utc(2026, 5, 1), utc(2026, 6, 1))
    assert due == [utc(2026, 5, 6, 14, 0)]  # 10:00 EDT


def test_weekly_keeps_the_local_time_across_the_london_clock_change():
    rule = Rule(kind=WEEKLY, send_time="09:00", weekday=0)  # Mondays
    due = due_times(rule, LONDON, [], utc(2026, 3, 20), utc(2026, 4, 7))
    # 23 March is GMT (09:00 UTC); the clocks go forward on 29 March: 30 March and 6 April are BST
    assert due == [utc(2026, 3, 23, 9), utc(2026, 3, 30, 8), utc(2026, 4, 6, 8)]
    assert all(moment.astimezone(LONDON).strftime("%a %H:%M") == "Mon 09:00" for moment in due)


def test_weekly_across_new_york_fall_back():
    rule = Rule(kind=WEEKLY, send_time="18:30", weekday=6)  # Sundays; DST ends Sunday 1 November 2026
    due = due_times(rule, NEW_YORK, [], utc(2026, 10, 24), utc(2026, 11, 9))
    assert due == [utc(2026, 10, 25, 22, 30), utc(2026, 11, 1, 23, 30), utc(2026, 11, 8, 23, 30)]


def test_a_time_skipped_by_the_clocks_going_forward_is_sent_an_hour_later_on_the_new_clock():
    rule = Rule(kind=AFTER_SESSION, send_time="01:30")
    due = due_times(rule, LONDON, [utc(2026, 3, 28, 12)], utc(2026, 3, 1), utc(2026, 4, 1))
    assert due == [utc(2026, 3, 29, 1, 30)]
    assert due[0].astimezone(LONDON).strftime("%H:%M") == "02:30"


def test_weekly_due_times_stay_inside_the_asked_range():
    rule = Rule(kind=WEEKLY, send_time="09:00", weekday=2)
    since = utc(2026, 5, 6, 8, 0)  # a Wednesday, exactly at the time (09:00 BST)
    assert due_times(rule, LONDON, [], since, since + timedelta(days=6)) == [since]
    assert due_times(rule, LONDON, [], since + timedelta(seconds=1), since + timedelta(days=6)) == []


def test_quiet_hours_across_midnight_move_a_time_to_their_end():
    rule = Rule(kind=AFTER_SESSION, send_time="22:00", quiet_start="21:00", quiet_end="08:00")
    due = due_times(rule, LONDON, [utc(2026, 7, 1, 10)], utc(2026, 7, 1), utc(2026, 7, 10))
    assert due == [utc(2026, 7, 3, 7, 0)]  # 08:00 BST the morning after the 22:00 that was quiet
    early = local_moment(datetime(2026, 7, 3).date(), parse_hhmm("06:15"), LONDON)
    assert in_quiet_hours(early, rule, LONDON)
    assert outside_quiet_hours(early, rule, LONDON) == utc(2026, 7, 3, 7, 0)
    noon = utc(2026, 7, 3, 11)
    assert not in_quiet_hours(noon, rule, LONDON)
    assert outside_quiet_hours(noon, rule, LONDON) == noon


def test_quiet_hours_within_a_day():
    rule = Rule(kind=WEEKLY, send_time="12:30", weekday=4, quiet_start="12:00", quiet_end="14:00")
    due = due_times(rule, NEW_YORK, [], utc(2026, 1, 1), utc(2026, 1, 3))
    assert due == [utc(2026, 1, 2, 19, 0)]  # Friday 14:00 EST
    assert not in_quiet_hours(utc(2026, 1, 2, 19, 0), rule, NEW_YORK)  # the end itself is not quiet


def test_reminders_until_the_limit_or_the_window():
    rule = Rule(kind=AFTER_SESSION, send_time="09:00", remind_after_hours=24, max_reminders=2, window_days=3)
    sent = utc(2026, 6, 2, 8)
    closes = rule.closes_at(sent)
    first = next_reminder(rule, LONDON, sent, 0, closes)
    assert first == sent + timedelta(hours=24)
    assert next_reminder(rule, LONDON, first, 1, closes) == sent + timedelta(hours=48)
    assert next_reminder(rule, LONDON, sent + timedelta(hours=48), 2, closes) is None  # two is the most
    late = Rule(kind=AFTER_SESSION, send_time="09:00", remind_after_hours=72, max_reminders=3, window_days=3)
    assert next_reminder(late, LONDON, sent, 0, late.closes_at(sent)) is None  # the window closes first


def test_a_reminder_due_in_quiet_hours_waits_for_their_end():
    rule = Rule(kind=AFTER_SESSION, send_time="20:00", quiet_start="21:00", quiet_end="07:30",
                remind_after_hours=3, max_reminders=1, window_days=2)
    sent = utc(2026, 12, 1, 20)  # 20:00 GMT
    assert next_reminder(rule, LONDON, sent, 0, rule.closes_at(sent)) == utc(2026, 12, 2, 7, 30)


@pytest.mark.parametrize(
    "values, message",
    [
        ({"kind": "daily", "send_time": "09:00"}, "a schedule is one of"),
        ({"kind": WEEKLY, "send_time": "09:00"}, "needs a weekday"),
        ({"kind": WEEKLY, "send_time": "09:00", "weekday": 7}, "needs a weekday"),
        ({"kind": AFTER_SESSION, "send_time": "09:00", "weekday": 1}, "only a weekly"),
        ({"kind": AFTER_SESSION, "send_time": "9am"}, "24-hour time"),
        ({"kind": AFTER_SESSION, "send_time": "24:00"}, "24-hour time"),
        ({"kind": AFTER_SESSION, "send_time": "09:00", "quiet_start": "21:00"}, "both a start and an end"),
        ({"kind": AFTER_SESSION, "send_time": "09:00", "quiet_start": "21:00", "quiet_end": "21:00"}, "different"),
        ({"kind": AFTER_SESSION, "send_time": "09:00", "max_reminders": -1}, "reminders"),
        ({"kind": AFTER_SESSION, "send_time": "09:00", "window_days": 0}, "days"),
        ({"kind": AFTER_SESSION, "send_time": "09:00", "remind_after_hours": True}, "hours"),
    ],
)
def test_a_bad_schedule_is_refused_with_a_reason(values, message):
    with pytest.raises(ValueError, match=message):
        Rule(**values)


def test_unknown_time_zone_is_refused():
    with pytest.raises(ValueError, match="IANA"):
        zone("Mars/Olympus")
    assert zone(None) == zone("UTC")


def test_describe():
    assert describe(Rule(kind=WEEKLY, send_time="18:00", weekday=0)) == "Weekly on Monday at 18:00"
    assert describe(Rule(kind=AFTER_SESSION, send_time="10:00")) == "The day after each session at 10:00"
