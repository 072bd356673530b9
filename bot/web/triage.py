"""The `triage` blueprint: acknowledging crisis events (bot/triage.py, Store.acknowledge).

    POST /clients/<id>/crisis/<event_id>/ack   the review page's Acknowledge form: note (optional),
                                               next (where to go back to); login and CSRF
    GET  /api/crisis?status=new|acknowledged|all
                                               {status, crisis_events}: unacknowledged first, the
                                               longest waiting first (default: all)
    POST /api/crisis/<event_id>/ack            {"note": "..."} (optional): acknowledges as the
                                               viewer; {changed, message, event}

The first acknowledgement is kept: a second one changes nothing, and the answer says who
acknowledged it and when. A clinician sees and acknowledges only their own clients' events
(`find_client`). The HTML is in templates/triage.html.
"""
from __future__ import annotations

from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, redirect

from bot.store import Acknowledgement, ClientView, EventView, NotFoundError
from bot.store.triage import EVENT_ID_MAX
from bot.triage import in_triage_order
from bot.vocabulary import EVENT_NAMES, TRIAGE_ACKNOWLEDGED, TRIAGE_NEW
from bot.web import access
from bot.web.http import blocking, find_client, form_value, json_response, render, safe_next, with_client
from bot.web.present import client_url, fmt_time
from bot.web.session import api, page

STATUSES = (TRIAGE_NEW, TRIAGE_ACKNOWLEDGED, "all")


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment else None


def triage_record(event: EventView) -> dict[str, Any]:
    """A crisis event for the API: kind and time (no client words), and its triage."""
    return {
        "id": event.id,
        "client_id": event.client_id,
        "checkin_id": event.checkin_id,
        "kind": event.kind,
        "name": EVENT_NAMES.get(event.kind, event.kind),
        "at": event.created_at.isoformat(),
        "status": event.triage_status,
        "acknowledged_at": _iso(event.acknowledged_at),
        "acknowledged_by": event.acknowledged_by,
        "note": event.ack_note,
        "escalated_at": _iso(event.escalated_at),
    }


def already_said(event: EventView) -> str:
    """What a second acknowledgement is told."""
    return (
        f"{event.acknowledged_by} already acknowledged this on {fmt_time(event.acknowledged_at)}. "
        "Their acknowledgement stands; this one's note was not saved."
    )


async def _event(request: Request, event_id: int) -> EventView | None:
    if not 1 <= event_id <= EVENT_ID_MAX:
        return None
    return await blocking(request.app.ctx.store.crisis_event, event_id)


def _no_event(request: Request) -> HTTPResponse:
    if request.path.startswith("/api/"):
        return json_response({"error": "not_found", "message": "No such crisis event."}, status=404)
    return render(request, "error.html", status=404, title="Not found", message="No such crisis event.")


async def _acknowledge(request: Request, event: EventView, note: str | None) -> Acknowledgement | str | None:
    """The acknowledgement, what is wrong with the note, or None when the event is gone (its
    client was erased meanwhile)."""
    store, viewer = request.app.ctx.store, request.ctx.viewer
    try:
        return await blocking(store.acknowledge, event.id, viewer.username, note)
    except ValueError as exc:
        return f"The note was not saved: {exc}."
    except NotFoundError:
        return None


async def _visible(request: Request, events: list[EventView]) -> list[EventView]:
    """The events of clients the viewer may see (an admin: all)."""
    viewer = request.ctx.viewer
    if viewer.is_admin:
        return events
    clients = await blocking(request.app.ctx.store.clients)
    mine = {c.id for c in clients if access.may_see(viewer, c)}
    return [e for e in events if e.client_id in mine]


def blueprint() -> Blueprint:
    bp = Blueprint("triage")

    @bp.post("/clients/<client_id:str>/crisis/<event_id:int>/ack")
    @page
    @with_client
    async def acknowledge_form(request: Request, client: ClientView, event_id: int) -> HTTPResponse:
        event = await _event(request, event_id)
        if event is None or event.client_id != client.id:
            return _no_event(request)
        back = safe_next(form_value(request, "next") or client_url(client.id))
        done = await _acknowledge(request, event, form_value(request, "note"))
        if done is None:
            return _no_event(request)
        if isinstance(done, str):
            return render(request, "triage_notice.html", status=400, title="Not acknowledged", message=done,
                          back=back)
        if not done.done_now:
            return render(request, "triage_notice.html", title="Already acknowledged",
                          message=already_said(done.event), back=back)
        return redirect(f"{back}#triage", status=303)

    @bp.get("/api/crisis")
    @api
    async def api_crisis(request: Request) -> HTTPResponse:
        status = (request.args.get("status") or "all").strip().lower()
        if status not in STATUSES:
            message = "status must be new, acknowledged or all"
            return json_response({"error": "bad_request", "message": message}, status=400)
        events = await blocking(request.app.ctx.store.crisis_events, None, None if status == "all" else status)
        events = await _visible(request, events)
        return json_response({"status": status, "crisis_events": [triage_record(e) for e in in_triage_order(events)]})

    @bp.post("/api/crisis/<event_id:int>/ack")
    @api
    async def api_acknowledge(request: Request, event_id: int) -> HTTPResponse:
        note = _json_note(request)
        if not isinstance(note, tuple):
            return json_response({"error": "bad_request", "message": note}, status=400)
        event = await _event(request, event_id)
        if event is None:
            return _no_event(request)
        if await find_client(request, event.client_id) is None:  # raises NotYours (403) for another's client
            return _no_event(request)
        done = await _acknowledge(request, event, note[0])
        if done is None:
            return _no_event(request)
        if isinstance(done, str):
            return json_response({"error": "bad_request", "message": done}, status=400)
        message = "Acknowledged." if done.done_now else already_said(done.event)
        return json_response({"changed": done.done_now, "message": message, "event": triage_record(done.event)})

    return bp


def _json_note(request: Request) -> tuple[str | None] | str:
    """The note of a JSON body {"note": "..."} (an empty body: no note), as a 1-tuple, or what is wrong."""
    if not request.body:
        return (None,)
    try:
        body = request.json
    except Exception:  # noqa: BLE001 - Sanic raises its own error for a malformed body
        return "the body must be JSON, e.g. {\"note\": \"called the client\"}"
    if body is None:
        return (None,)
    if not isinstance(body, dict):
        return "the body must be a JSON object, e.g. {\"note\": \"called the client\"}"
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        return "note must be text or null"
    return (note,)
