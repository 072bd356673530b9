"""The `accounts` blueprint (admins only): the practice's accounts, the audit log, the
per-clinician view, and putting a client on a clinician's caseload.

    GET  /staff                              accounts, and a form to add one
    POST /staff                              add an account (admin or clinician)
    POST /staff/<username>/password          set a new password (that account's sessions end)
    POST /staff/<username>/deactivate        it can no longer log in (its sessions end)
    GET  /audit[?client=&actor=&before=]     the audit log, newest first, a page at a time
    GET  /audit.csv[?client=&actor=]         the same as CSV (the export is itself audited)
    GET  /clinicians                         per clinician: clients, response rate, clients with
                                             alerts, unacknowledged crisis events
    POST /clients/<id>/clinician             assign the client's clinician (empty: none)

Every change is written to the audit log by `bot.accounts` or here, as the logged-in user.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, raw, redirect

from bot import accounts
from bot.store import ClientView, NotFoundError, StaffError, StaffView, Store
from bot.vocabulary import AUDIT_ASSIGN, CLINICIAN, ROLES
from bot.web import data
from bot.web.access import Viewer
from bot.web.http import audit, blocking, forbidden, form_value, not_found, render, with_client
from bot.web.present import client_url
from bot.web.session import Handler, page

AUDIT_PAGE = 100
FILTER_MAX = 128


def admin_only(handler: Handler) -> Handler:
    """A page for admins (put under `page`); a clinician gets 403."""

    @wraps(handler)
    async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        if not request.ctx.viewer.is_admin:
            return forbidden(request, "Only the practice's admins can open this page.")
        return await handler(request, *args, **kwargs)

    return wrapped


async def client_extras(request: Request, client: ClientView) -> dict[str, Any]:
    """What the client page shows of accounts: the client's clinician, and for an admin the
    clinicians to choose from (templates/accounts_client.html)."""
    store = request.app.ctx.store
    viewer: Viewer = request.ctx.viewer
    everyone = await blocking(store.staff) if viewer.is_admin or client.clinician_id is not None else []
    clinician = next((s for s in everyone if s.id == client.clinician_id), None)
    choices = [s for s in everyone if s.role == CLINICIAN and s.active] if viewer.is_admin else []
    return {"clinician": clinician, "clinician_choices": choices, "clinician_saved": request.args.get("assigned") == "1"}


@dataclass(frozen=True)
class ClinicianRow:
    staff: StaffView
    clients: int
    sent: int
    completed: int
    clients_with_alerts: int
    unacknowledged: int

    @property
    def response_rate(self) -> float | None:
        return self.completed / self.sent if self.sent else None


def clinician_rows(store: Store, rows: list[data.ClientRow]) -> list[ClinicianRow]:
    """Per clinician (active ones, and any with clients): their caseload at a glance."""
    caseloads: dict[int, list[data.ClientRow]] = {}
    for row in rows:
        if row.client.clinician_id is not None:
            caseloads.setdefault(row.client.clinician_id, []).append(row)
    summaries = store.schedule_summaries([r.client.id for found in caseloads.values() for r in found])
    unacknowledged = store.unacknowledged_crisis_counts()
    result = []
    for staff in store.staff(role=CLINICIAN):
        mine = caseloads.get(staff.id, [])
        if not staff.active and not mine:
            continue
        counts = [summaries[r.client.id] for r in mine if r.client.id in summaries]
        result.append(
            ClinicianRow(
                staff=staff,
                clients=len(mine),
                sent=sum(s.sent for s in counts),
                completed=sum(s.completed for s in counts),
                clients_with_alerts=sum(1 for r in mine if r.alerts),
                unacknowledged=unacknowledged.get(staff.id, 0),
            )
        )
    return result


def _filters(request: Request) -> tuple[str, str]:
    client = (request.args.get("client") or "").strip()[:FILTER_MAX]
    actor = (request.args.get("actor") or "").strip().lower()[:FILTER_MAX]
    return client, actor


def blueprint() -> Blueprint:
    bp = Blueprint("accounts")

    async def staff_page(request: Request, error: str = "", status: int = 200, done: str = "") -> HTTPResponse:
        staff = await blocking(request.app.ctx.store.staff)
        return render(
            request, "accounts_staff.html", status=status, staff=staff, roles=ROLES, error=error,
            done=done or request.args.get("done", ""), min_password=accounts.MIN_PASSWORD,
        )

    @bp.get("/staff")
    @page
    @admin_only
    async def list_staff(request: Request) -> HTTPResponse:
        return await staff_page(request)

    @bp.post("/staff")
    @page
    @admin_only
    async def add_staff(request: Request) -> HTTPResponse:
        ctx = request.app.ctx
        password = form_value(request, "password") or ""
        if password != (form_value(request, "password_again") or ""):
            return await staff_page(request, "The two passwords differ.", 400)
        try:
            staff = await blocking(
                accounts.add_staff, ctx.store, request.ctx.viewer.username,
                form_value(request, "username") or "", form_value(request, "display_name") or "",
                form_value(request, "role") or "", password, ctx.settings.user,
            )
        except StaffError as exc:
            return await staff_page(request, f"Not added: {exc}.", 400)
        return redirect("/staff?" + urlencode({"done": f"Added {staff.username}."}), status=303)

    @bp.post("/staff/<username:str>/password")
    @page
    @admin_only
    async def staff_password(request: Request, username: str) -> HTTPResponse:
        password = form_value(request, "password") or ""
        if password != (form_value(request, "password_again") or ""):
            return await staff_page(request, "The two passwords differ.", 400)
        try:
            staff = await blocking(accounts.set_password, request.app.ctx.store, request.ctx.viewer.username, username, password)
        except StaffError as exc:
            return await staff_page(request, f"Password not changed: {exc}.", 400)
        except NotFoundError:
            return not_found(request)
        return redirect("/staff?" + urlencode({"done": f"New password set for {staff.username}."}), status=303)

    @bp.post("/staff/<username:str>/deactivate")
    @page
    @admin_only
    async def staff_deactivate(request: Request, username: str) -> HTTPResponse:
        if username.strip().lower() == request.ctx.viewer.username:
            return await staff_page(request, "You cannot deactivate the account you are logged in with.", 400)
        try:
            staff = await blocking(accounts.deactivate, request.app.ctx.store, request.ctx.viewer.username, username)
        except (StaffError, NotFoundError):
            return not_found(request)
        return redirect("/staff?" + urlencode({"done": f"Deactivated {staff.username}."}), status=303)

    @bp.get("/audit")
    @page
    @admin_only
    async def audit_log(request: Request) -> HTTPResponse:
        client, actor = _filters(request)
        try:
            before = int(request.args.get("before") or 0) or None
        except ValueError:
            before = None
        entries = await blocking(
            lambda: request.app.ctx.store.audit_entries(
                client_id=client or None, actor=actor or None, before_id=before, limit=AUDIT_PAGE
            )
        )
        more = None
        if len(entries) == AUDIT_PAGE:
            more = "/audit?" + urlencode({k: v for k, v in (("client", client), ("actor", actor)) if v} | {"before": entries[-1].id})
        query = urlencode({k: v for k, v in (("client", client), ("actor", actor)) if v})
        return render(
            request, "accounts_audit.html", entries=entries, client=client, actor=actor, more=more,
            csv_url="/audit.csv" + (f"?{query}" if query else ""), first_page=before is None,
        )

    @bp.get("/audit.csv")
    @page
    @admin_only
    async def audit_csv(request: Request) -> HTTPResponse:
        client, actor = _filters(request)
        buffer = io.StringIO(newline="")
        await blocking(
            accounts.export_audit, request.app.ctx.store, request.ctx.viewer.username, buffer, client or None, actor or None
        )
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d")
        return raw(
            buffer.getvalue().encode("utf-8"),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="rapport-audit-{stamp}.csv"'},
        )

    @bp.get("/clinicians")
    @page
    @admin_only
    async def clinicians(request: Request) -> HTTPResponse:
        ctx = request.app.ctx
        rows = await blocking(ctx.attention.rows)
        return render(request, "accounts_clinicians.html", clinicians=await blocking(clinician_rows, ctx.store, rows))

    @bp.post("/clients/<client_id:str>/clinician")
    @page
    @admin_only
    @with_client
    async def assign(request: Request, client: ClientView) -> HTTPResponse:
        chosen = (form_value(request, "clinician") or "").strip()
        staff_id = int(chosen) if chosen.isdigit() else None
        if chosen and staff_id is None:
            return render(request, "error.html", status=400, title="No such clinician", message="Choose a clinician from the list.")
        store = request.app.ctx.store
        try:
            await blocking(store.assign_clinician, client.id, staff_id)
        except StaffError:
            message = "That account is not an active clinician's. Choose one from the list."
            return render(request, "error.html", status=400, title="No such clinician", message=message)
        chosen_name = next((s.username for s in await blocking(store.staff) if s.id == staff_id), "none")
        await audit(request, AUDIT_ASSIGN, client.id, chosen_name)
        return redirect(client_url(client.id, "?assigned=1"), status=303)

    return bp
