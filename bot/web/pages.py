"""The `pages` blueprint (login required): the client list, one client's page, its printable
report (bot.report), and setting a client's label."""
from __future__ import annotations

from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, redirect

from bot import insights, report
from bot.store import ClientView
from bot.vocabulary import AUDIT_VIEW_CLIENT, AUDIT_VIEW_REPORT
from bot.web import accounts, data
from bot.web.access import visible_rows
from bot.web.http import audit, blocking, form_value, render, with_client, with_client_detail
from bot.web.present import client_url
from bot.web.session import page

LABEL_MAX = 80
PAGE_SIZE = 200  # clients per list page; those needing attention come first


def client_page_data(detail: data.ClientDetail) -> dict[str, Any]:
    """What the client page shows besides the detail itself: trend, talking points, summary."""
    checkins = detail.checkins
    points = insights.trend(checkins)
    return {
        "checkins": list(reversed(checkins)),
        "crisis_events": detail.crisis_events,
        "alerts": detail.alerts,
        "alerts_by_checkin": detail.alerts_by_checkin,
        "talking_points": insights.talking_points(checkins),
        "trend": points,
        "chart": insights.chart_data(points),
        "latest_summary": report.latest_summary(checkins),
    }


def blueprint() -> Blueprint:
    bp = Blueprint("pages")

    @bp.get("/")
    @page
    async def client_list(request: Request) -> HTTPResponse:
        rows = visible_rows(request.ctx.viewer, await blocking(request.app.ctx.attention.rows))
        crisis_rows = [r for r in rows if r.crisis_events]
        alert_count = sum(1 for r in rows if r.alerts)
        query = (request.args.get("q") or "").strip()[:LABEL_MAX]
        if query:
            needle = query.casefold()
            rows = [r for r in rows if r.client.id.startswith(query) or needle in (r.client.label or "").casefold()]
        pages = max(1, -(-len(rows) // PAGE_SIZE))
        try:
            number = min(max(1, int(request.args.get("page") or 1)), pages)
        except ValueError:
            number = 1
        shown = rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        store = request.app.ctx.store
        staff = await blocking(store.staff)
        schedules = await blocking(store.schedule_summaries, [r.client.id for r in shown])
        return render(
            request,
            "clients.html",
            rows=shown,
            clinicians={member.id: member.display_name for member in staff},
            schedules=schedules,
            total=len(rows),
            crisis_rows=crisis_rows,
            alert_count=alert_count,
            query=query,
            page=number,
            pages=pages,
        )

    @bp.get("/clients/<client_id:str>")
    @page
    @with_client_detail
    async def client_page(request: Request, detail: data.ClientDetail) -> HTTPResponse:
        await audit(request, AUDIT_VIEW_CLIENT, detail.client.id)
        return render(
            request,
            "client.html",
            client=detail.client,
            saved=request.args.get("saved") == "1",
            label_max=LABEL_MAX,
            **client_page_data(detail),
            **await accounts.client_extras(request, detail.client),
        )

    @bp.get("/clients/<client_id:str>/report")  # one client's printable report (bot.report)
    @page
    @with_client
    async def client_report(request: Request, client: ClientView) -> HTTPResponse:
        await audit(request, AUDIT_VIEW_REPORT, client.id)
        settings = request.app.ctx.settings
        details = await blocking(report.build, request.app.ctx.store, client, settings.total_below)
        return render(request, "report.html", client=client, **details)

    @bp.post("/clients/<client_id:str>/label")
    @page
    @with_client
    async def set_label(request: Request, client: ClientView) -> HTTPResponse:
        label = " ".join((form_value(request, "label") or "").split())
        if len(label) > LABEL_MAX:
            message = f"A label can be at most {LABEL_MAX} characters."
            return render(request, "error.html", status=400, title="Label too long", message=message)
        await blocking(request.app.ctx.store.set_label, client.id, label or None)
        return redirect(client_url(client.id, "?saved=1"), status=303)

    return bp
