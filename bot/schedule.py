"""When a client is asked to check in: plain logic over a schedule, with `now` passed in.

A schedule (one per client, times in the client's own time zone) asks either the day after each
therapy session at `send_time`, or weekly on `weekday` at `send_time`. Nothing is sent in quiet
hours (`quiet_start` to `quiet_end` local, possibly across midnight): a time inside them moves to
their end. A check-in not completed `remind_after_hours` after it was sent gets a reminder, at
most `max_reminders`, and its window closes `window_days` after it was due.

Local times become UTC through `zoneinfo`, so a daylight-saving change keeps the local clock
time: 09:00 in Europe/London is 08:00 UTC in summer and 09:00 UTC in winter. A local time that
does not exist (skipped when the clocks go forward) is read as the same time before the change,
i.e. one hour later on the new clock; one that happens twice is the first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.vocabulary import AFTER_SESSION, SCHEDULE_KINDS, WEEKLY

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_REMINDERS = 10
MAX_WINDOW_DAYS = 30
MAX_REMIND_AFTER_HOURS = 24 * MAX_WINDOW_DAYS


def parse_hhmm(value: str, name: str = "time") -> time:
    """"HH:MM" (24-hour) as a time; ValueError otherwise."""
    match = _HHMM.match((value or "").strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{name} must be a 24-hour time such as 09:30")
    return time(int(match.group(1)), int(match.group(2)))


def zone(name: str | None) -> ZoneInfo:
    """The IANA time zone `name` (UTC when empty); ValueError for an unknown one."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Europe/London") from None


@dataclass(frozen=True)
class Rule:
    """A client's schedule, checked: what `Store.set_schedule` keeps and `due_times` reads."""

    kind: str  # bot.vocabulary.AFTER_SESSION or WEEKLY
    send_time: str  # "HH:MM", local
    weekday: int | None = None  # WEEKLY: 0 Monday .. 6 Sunday
    quiet_start: str | None = None  # "HH:MM", local; both or neither
    quiet_end: str | None = None
    remind_after_hours: int = 24
    max_reminders: int = 1
    window_days: int = 3

    def __post_init__(self) -> None:
        if self.kind not in SCHEDULE_KINDS:
            raise ValueError(f"a schedule is one of {', '.join(SCHEDULE_KINDS)}")
        parse_hhmm(self.send_time, "the check-in time")
        if self.kind == WEEKLY:
            if not isinstance(self.weekday, int) or isinstance(self.weekday, bool) or not 0 <= self.weekday <= 6:
                raise ValueError("a weekly schedule needs a weekday (0 Monday to 6 Sunday)")
        elif self.weekday is not None:
            raise ValueError("only a weekly schedule has a weekday")
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("quiet hours need both a start and an end")
        if self.quiet_start is not None and self.quiet_end is not None:
            if parse_hhmm(self.quiet_start, "quiet hours' start") == parse_hhmm(self.quiet_end, "quiet hours' end"):
                raise ValueError("quiet hours must start and end at different times")
        _check_int(self.remind_after_hours, "hours before a reminder", 1, MAX_REMIND_AFTER_HOURS)
        _check_int(self.max_reminders, "reminders", 0, MAX_REMINDERS)
        _check_int(self.window_days, "days the check-in stays open", 1, MAX_WINDOW_DAYS)

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.window_days)

    def closes_at(self, due_at: datetime) -> datetime:
        return due_at + self.window


def _check_int(value: object, name: str, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}")


def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """`day` at local time `at` in `tz`, as aware UTC (see the module's note on DST)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(timezone.utc)


def in_quiet_hours(moment: datetime, rule: Rule, tz: ZoneInfo) -> bool:
    return quiet_end_after(moment, rule, tz) is not None


def quiet_end_after(moment: datetime, rule: Rule, tz: ZoneInfo) -> datetime | None:
    """When the quiet hours that `moment` falls in end (aware UTC), or None when it is outside them."""
    if rule.quiet_start is None or rule.quiet_end is None:
        return None
    start, end = parse_hhmm(rule.quiet_start), parse_hhmm(rule.quiet_end)
    local = moment.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    today = local.date()
    if start < end:  # e.g. 13:00-14:00
        if start <= clock < end:
            return local_moment(today, end, tz)
        return None
    # across midnight, e.g. 21:00-08:00
    if clock >= start:
        return local_moment(today + timedelta(days=1), end, tz)
    if clock < end:
        return local_moment(today, end, tz)
    return None


def outside_quiet_hours(moment: datetime, rule: Rule, tz: ZoneInfo) -> datetime:
    """`moment`, or the end of the quiet hours it falls in."""
    end = quiet_end_after(moment, rule, tz)
    return moment if end is None else end


def due_times(
    rule: Rule, tz: ZoneInfo, sessions: Iterable[datetime], since: datetime, until: datetime
) -> list[datetime]:
    """The check-ins the schedule asks for that are due from `since` up to `until` (aware UTC,
    sorted, no repeats), each already moved out of quiet hours.

    AFTER_SESSION: the day after each session (its local date + 1) at send_time.
    WEEKLY: every `weekday` at send_time."""
    at = parse_hhmm(rule.send_time)
    found: set[datetime] = set()
    if rule.kind == AFTER_SESSION:
        for starts_at in sessions:
            day = starts_at.astimezone(tz).date() + timedelta(days=1)
            found.add(outside_quiet_hours(local_moment(day, at, tz), rule, tz))
    else:
        assert rule.weekday is not None
        day = since.astimezone(tz).date() - timedelta(days=1)
        day += timedelta(days=(rule.weekday - day.weekday()) % 7)
        last = until.astimezone(tz).date() + timedelta(days=1)
        while day <= last:
            found.add(outside_quiet_hours(local_moment(day, at, tz), rule, tz))
            day += timedelta(days=7)
    return sorted(moment for moment in found if since <= moment <= until)


def next_reminder(rule: Rule, tz: ZoneInfo, after: datetime, reminders_sent: int, closes_at: datetime) -> datetime | None:
    """When to remind next: `remind_after_hours` after `after` (the message or the last
    reminder), out of quiet hours; None when `max_reminders` are spent or the window closes first."""
    if reminders_sent >= rule.max_reminders:
        return None
    moment = outside_quiet_hours(after + timedelta(hours=rule.remind_after_hours), rule, tz)
    return moment if moment < closes_at else None


def describe(rule: Rule) -> str:
    """The schedule in a line, for the review page: "Weekly on Monday at 18:00"."""
    if rule.kind == WEEKLY and rule.weekday is not None:
        return f"Weekly on {WEEKDAYS[rule.weekday]} at {rule.send_time}"
    return f"The day after each session at {rule.send_time}"


__all__ = [
    "MAX_REMINDERS",
    "MAX_WINDOW_DAYS",
    "Rule",
    "WEEKDAYS",
    "describe",
    "due_times",
    "in_quiet_hours",
    "local_moment",
    "next_reminder",
    "outside_quiet_hours",
    "parse_hhmm",
    "quiet_end_after",
    "zone",
]
