"""The `api` blueprint: JSON for a login session or `Authorization: Bearer RAPPORT_REVIEW_API_TOKEN`.

    GET  /api/clients               [{id, short_id, label, attention, alerts, crisis_events, ...}]
    GET  /api/clients/<id>/checkins {client, checkins: [export record + alerts]}
    GET  /api/alerts                {alerts, crisis_events}
    GET  /api/fhir[?client=<id>]    FHIR R4 Bundle: Questionnaire + QuestionnaireResponses (bot.fhir)
"""
from __future__ import annotations

from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, raw

from bot import fhir
from bot.export import checkin_record
from bot.store import Store
from bot.vocabulary import AUDIT_API_CLIENT, AUDIT_FHIR
from bot.web import data
from bot.web.access import Viewer, caseload, visible_rows
from bot.web.http import audit, blocking, find_client, json_response, not_found, with_client_detail
from bot.web.present import client_record, event_record
from bot.web.session import api


def client_checkins(detail: data.ClientDetail) -> dict[str, Any]:
    records = []
    for checkin in detail.checkins:
        record = checkin_record(checkin)
        record["alerts"] = [a.as_dict() for a in detail.alerts_by_checkin.get(checkin.id, [])]
        records.append(record)
    return {"client": client_record(detail.row), "checkins": records}


def fhir_bundle(store: Store, env: Any, viewer: Viewer, client_id: str | None) -> dict[str, Any]:
    """One client's bundle, or every client's the viewer may see; each client in it audited."""
    checkins = store.checkins(client_id) if client_id else store.checkins(client_ids=caseload(store, viewer))
    document = fhir.bundle(checkins, fhir.identifier_system(env))
    included = sorted({c.client_id for c in checkins if fhir.exported(c)} | ({client_id} if client_id else set()))
    store.audit_many(viewer.username, AUDIT_FHIR, included or [None], detail="one client" if client_id else "all clients")
    return document


def blueprint() -> Blueprint:
    bp = Blueprint("api", url_prefix="/api")

    @bp.get("/clients")
    @api
    async def api_clients(request: Request) -> HTTPResponse:
        rows = visible_rows(request.ctx.viewer, await blocking(request.app.ctx.attention.rows))
        return json_response({"clients": [client_record(r) for r in rows]})

    @bp.get("/clients/<client_id:str>/checkins")
    @api
    @with_client_detail
    async def api_client_checkins(request: Request, detail: data.ClientDetail) -> HTTPResponse:
        await audit(request, AUDIT_API_CLIENT, detail.client.id, "checkins")
        return json_response(client_checkins(detail))

    @bp.get("/fhir")  # a FHIR R4 Bundle of shared, completed check-ins (bot.fhir); ?client=ID for one
    @api
    async def api_fhir(request: Request) -> HTTPResponse:
        wanted = request.args.get("client")
        client = await find_client(request, wanted) if wanted else None
        if wanted and client is None:
            return not_found(request)
        store, settings = request.app.ctx.store, request.app.ctx.settings
        document = await blocking(
            fhir_bundle, store, settings.base.extra, request.ctx.viewer, client.id if client else None
        )
        return raw(fhir.dumps(document), content_type=fhir.MEDIA_TYPE)

    @bp.get("/alerts")
    @api
    async def api_alerts(request: Request) -> HTTPResponse:
        rows = visible_rows(request.ctx.viewer, await blocking(request.app.ctx.attention.rows))
        return json_response(
            {
                "total_below": request.app.ctx.settings.total_below,
                "alerts": [a.as_dict() for r in rows for a in r.alerts],
                "crisis_events": [event_record(e) for r in rows for e in r.crisis_events],
            }
        )

    return bp
