"""The `schedules` blueprint (login required): a client's check-in schedule and therapy sessions.

GET  /clients/<id>/schedule                      the schedule page (templates/schedules.html)
POST /clients/<id>/schedule                      set the schedule
POST /clients/<id>/sessions                      add a session (date and time, the client's local time)
POST /clients/<id>/sessions/import               import sessions from a CSV or .ics file
POST /clients/<id>/sessions/<session_id>/delete  remove a session

The client page shows the next scheduled check-in and the response rate (templates/_schedule_card.html,
through the `schedule_overview` template global set up here). Bad input gets the page again with
the reason and status 400; every route finds the client through `with_client` (404 for no such
client, 403 for another clinician's).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, redirect

from bot.schedule import WEEKDAYS, Rule, describe, parse_hhmm, zone
from bot.session_import import ImportProblem, read_sessions
from bot.store import ClientView, ScheduleSummary, ScheduleView, Store, TherapySessionView
from bot.vocabulary import AFTER_SESSION, SCHEDULE_KINDS, WEEKLY
from bot.web.http import blocking, form_value, not_found, render, with_client
from bot.web.present import client_url
from bot.web.session import page

DEFAULTS = {"kind": AFTER_SESSION, "send_time": "10:00", "weekday": None, "quiet_start": "21:00", "quiet_end": "08:00",
            "remind_after_hours": 24, "max_reminders": 1, "window_days": 3, "active": True}
SESSIONS_SHOWN = 30  # recent and upcoming sessions listed on the page
NOTICES = {"schedule": "Schedule saved.", "session": "Session added.", "deleted": "Session removed."}


@dataclass(frozen=True)
class Overview:
    """What the client page shows of the schedule."""

    schedule: str | None  # "Weekly on Monday at 18:00", or None when there is none
    active: bool
    next_due: str | None  # the next check-in, in the client's time
    sent: int
    completed: int
    response_rate: str | None  # "67%"


def client_zone(client: ClientView | None, default: str) -> ZoneInfo:
    try:
        return zone((client.timezone if client else None) or default)
    except ValueError:
        return zone("UTC")


def local(moment: datetime | None, tz: ZoneInfo) -> str:
    """A time as the client's local time: "Mon 7 Dec 2026, 15:00 (Europe/London)"."""
    if moment is None:
        return "–"
    here = moment.astimezone(tz)
    return f"{here:%a} {here.day} {here:%b %Y}, {here:%H:%M} ({tz.key})"


def overview(store: Store, default_timezone: str, client: ClientView) -> Overview:
    schedule = store.schedule(client.id)
    summary = store.schedule_summaries([client.id]).get(client.id) or ScheduleSummary(None, 0, 0)
    tz = client_zone(client, default_timezone)
    rate = summary.response_rate
    return Overview(
        schedule=describe(_rule(schedule)) if schedule else None,
        active=bool(schedule and schedule.active),
        next_due=local(summary.next_due_at, tz) if summary.next_due_at else None,
        sent=summary.sent,
        completed=summary.completed,
        response_rate=None if rate is None else f"{round(rate * 100)}%",
    )


def _rule(schedule: ScheduleView) -> Rule:
    return Rule(
        kind=schedule.kind, send_time=schedule.send_time, weekday=schedule.weekday, quiet_start=schedule.quiet_start,
        quiet_end=schedule.quiet_end, remind_after_hours=schedule.remind_after_hours,
        max_reminders=schedule.max_reminders, window_days=schedule.window_days,
    )


def rule_from_form(request: Request) -> tuple[Rule, bool]:
    """The schedule the form asks for (ValueError with the reason when it is not one)."""
    kind = form_value(request, "kind") or ""
    if kind not in SCHEDULE_KINDS:
        raise ValueError("Choose after each session or weekly.")
    weekday_raw = form_value(request, "weekday") or ""
    weekday = int(weekday_raw) if kind == WEEKLY and weekday_raw.isdigit() else None
    quiet_start = (form_value(request, "quiet_start") or "").strip() or None
    quiet_end = (form_value(request, "quiet_end") or "").strip() or None
    rule = Rule(
        kind=kind, send_time=(form_value(request, "send_time") or "").strip(), weekday=weekday,
        quiet_start=quiet_start, quiet_end=quiet_end,
        remind_after_hours=_whole(form_value(request, "remind_after_hours"), "Hours before a reminder"),
        max_reminders=_whole(form_value(request, "max_reminders"), "Reminders"),
        window_days=_whole(form_value(request, "window_days"), "Days the check-in stays open"),
    )
    return rule, form_value(request, "active") == "1"


def _whole(raw: str | None, name: str) -> int:
    try:
        return int((raw or "").strip())
    except ValueError:
        raise ValueError(f"{name}: a whole number, please.") from None


def blueprint() -> Blueprint:
    bp = Blueprint("schedules")

    @bp.listener("before_server_start")
    async def template_global(app: Any, _: Any) -> None:
        default = app.ctx.settings.base.default_timezone
        app.ctx.templates.globals["schedule_overview"] = lambda client: overview(app.ctx.store, default, client)

    async def show(request: Request, client: ClientView, status: int = 200, error: str = "", notice: str = "") -> HTTPResponse:
        store: Store = request.app.ctx.store
        default = request.app.ctx.settings.base.default_timezone
        tz = client_zone(client, default)
        schedule = await blocking(store.schedule, client.id)
        sessions: list[TherapySessionView] = await blocking(store.sessions, client.id, datetime.now(timezone.utc) - timedelta(days=60))
        due = await blocking(store.scheduled_checkins, client.id)
        values = dict(DEFAULTS)
        if schedule is not None:
            values.update({k: getattr(schedule, k) for k in DEFAULTS})
        return render(
            request, "schedules.html", status=status, client=client, tz=tz.key, error=error,
            notice=notice or NOTICES.get(request.args.get("saved") or "", ""),
            overview=await blocking(overview, store, default, client), values=values, weekdays=WEEKDAYS,
            sessions=[(s, local(s.starts_at, tz)) for s in sessions[:SESSIONS_SHOWN]],
            due=[(d, local(d.due_at, tz)) for d in due[-10:]],
            today=datetime.now(tz).date().isoformat(),
        )

    @bp.get("/clients/<client_id:str>/schedule")
    @page
    @with_client
    async def schedule_page(request: Request, client: ClientView) -> HTTPResponse:
        return await show(request, client)

    @bp.post("/clients/<client_id:str>/schedule")
    @page
    @with_client
    async def set_schedule(request: Request, client: ClientView) -> HTTPResponse:
        try:
            rule, active = rule_from_form(request)
        except ValueError as error:
            return await show(request, client, 400, str(error))
        await blocking(_save, request.app.ctx.store, client.id, rule, active)
        return redirect(client_url(client.id, "/schedule?saved=schedule"), status=303)

    @bp.post("/clients/<client_id:str>/sessions")
    @page
    @with_client
    async def add_session(request: Request, client: ClientView) -> HTTPResponse:
        tz = client_zone(client, request.app.ctx.settings.base.default_timezone)
        try:
            day = date.fromisoformat((form_value(request, "date") or "").strip())
            at = parse_hhmm(form_value(request, "time") or "", "The session's time")
        except ValueError:
            return await show(request, client, 400, "Give the session's date (YYYY-MM-DD) and time (HH:MM).")
        starts_at = datetime.combine(day, at, tzinfo=tz).astimezone(timezone.utc)
        added = await blocking(request.app.ctx.store.add_session, client.id, starts_at)
        if not added:
            return await show(request, client, 400, "There is already a session at that time.")
        return redirect(client_url(client.id, "/schedule?saved=session"), status=303)

    @bp.post("/clients/<client_id:str>/sessions/import")
    @page
    @with_client
    async def import_sessions(request: Request, client: ClientView) -> HTTPResponse:
        upload = _upload(request)
        if upload is None:
            return await show(request, client, 400, "Choose a .csv or .ics file to import.")
        tz = client_zone(client, request.app.ctx.settings.base.default_timezone)
        try:
            sessions, kind = read_sessions(upload.name or "", upload.body or b"", tz)
        except ImportProblem as problem:
            return await show(request, client, 400, str(problem))
        result = await blocking(request.app.ctx.store.import_sessions, client.id, sessions, kind)
        notice = f"Imported: {result.added} new, {result.moved} moved, {result.unchanged} already there."
        return await show(request, client, notice=notice)

    @bp.post("/clients/<client_id:str>/sessions/<session_id:int>/delete")
    @page
    @with_client
    async def delete_session(request: Request, client: ClientView, session_id: int) -> HTTPResponse:
        if not await blocking(request.app.ctx.store.delete_session, client.id, session_id):
            return not_found(request)
        return redirect(client_url(client.id, "/schedule?saved=deleted"), status=303)

    return bp


def _save(store: Store, client_id: str, rule: Rule, active: bool) -> None:
    store.set_schedule(
        client_id, kind=rule.kind, send_time=rule.send_time, weekday=rule.weekday, quiet_start=rule.quiet_start,
        quiet_end=rule.quiet_end, remind_after_hours=rule.remind_after_hours, max_reminders=rule.max_reminders,
        window_days=rule.window_days, active=active,
    )


def _upload(request: Request) -> Any:
    try:
        files = request.files
    except Exception:  # a malformed multipart body
        return None
    upload = files.get("file") if files else None
    return upload if upload is not None and upload.body else None
