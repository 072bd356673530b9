"""The `exports` blueprint (login required): every client's check-ins, or one client's, as CSV
or JSON: the same records and writers (`bot.export`) as `python -m bot.review export`."""
from __future__ import annotations

import io
import re
from datetime import datetime, timezone

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, raw

from bot.export import checkin_record, write_csv, write_json
from bot.store import ClientView, Store
from bot.vocabulary import AUDIT_EXPORT_ALL, AUDIT_EXPORT_CLIENT
from bot.web.access import Viewer, caseload
from bot.web.http import blocking, with_client
from bot.web.present import short_id
from bot.web.session import page


def export_response(store: Store, viewer: Viewer, client: ClientView | None, fmt: str) -> HTTPResponse:
    """One client's check-ins, or those of every client the viewer may see; audited per client."""
    if client is not None:
        checkins = store.checkins(client.id)
        store.audit(viewer.username, AUDIT_EXPORT_CLIENT, client.id, fmt)
    else:
        checkins = store.checkins(client_ids=caseload(store, viewer))
        store.audit_many(viewer.username, AUDIT_EXPORT_ALL, sorted({c.client_id for c in checkins}) or [None], fmt)
    records = [checkin_record(c) for c in checkins]
    buffer = io.StringIO(newline="")
    (write_csv if fmt == "csv" else write_json)(records, buffer)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d")
    scope = f"client-{short_id(client.id)}" if client else "all"
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", f"rapport-{scope}-{stamp}.{fmt}")
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/json; charset=utf-8"
    return raw(
        buffer.getvalue().encode("utf-8"),
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def blueprint() -> Blueprint:
    bp = Blueprint("exports")

    @page
    async def export_all(request: Request) -> HTTPResponse:
        fmt = request.path.rsplit(".", 1)[1]
        return await blocking(export_response, request.app.ctx.store, request.ctx.viewer, None, fmt)

    @page
    @with_client
    async def export_client(request: Request, client: ClientView) -> HTTPResponse:
        fmt = request.path.rsplit(".", 1)[1]
        return await blocking(export_response, request.app.ctx.store, request.ctx.viewer, client, fmt)

    for fmt in ("csv", "json"):
        bp.add_route(export_all, f"/export.{fmt}", methods=["GET"], name=f"export_all_{fmt}")
        bp.add_route(export_client, f"/clients/<client_id:str>/export.{fmt}", methods=["GET"], name=f"export_client_{fmt}")
    return bp
