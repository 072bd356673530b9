"""The review web app: `create_app(settings, store)` wires the blueprints together.

Pages (login required; a missing or expired session redirects to /login), `bot.web.pages`:
    GET  /                          clients, sorted by what needs attention
    GET  /clients/<id>              one client: crisis events, alerts, talking points, trend
                                    chart, latest summary, every check-in
    GET  /clients/<id>/report       the same as a printable report (bot.report): print or save as PDF
    POST /clients/<id>/label        set or clear the practice's label for a client
Exports, `bot.web.exports`:
    GET  /export.csv | /export.json                     every client's check-ins (a clinician's: theirs)
    GET  /clients/<id>/export.csv | /clients/<id>/export.json
Login, `bot.web.session` (also the `page` and `api` guards and CSRF on every POST):
    GET  /login, POST /login, POST /logout
    (the environment's bootstrap admin, or a staff account; a clinician sees only their caseload,
    `bot.web.access`; views and exports are written to the audit log)
Admins only, `bot.web.accounts`:
    GET/POST /staff, POST /staff/<username>/password|deactivate, GET /audit, GET /audit.csv,
    GET /clinicians, POST /clients/<id>/clinician
JSON API (a login session or `Authorization: Bearer RAPPORT_REVIEW_API_TOKEN`; 401 otherwise),
`bot.web.api`:
    GET  /api/clients, GET /api/clients/<id>/checkins, GET /api/alerts,
    GET  /api/fhir[?client=<id>] (a FHIR R4 Bundle, bot.fhir)
Crisis triage, `bot.web.triage`: POST /clients/<id>/crisis/<event_id>/ack (the Acknowledge form),
    GET /api/crisis?status=new|acknowledged|all, POST /api/crisis/<event_id>/ack {note}
Enrolment and invitations, `bot.web.enrol`:
    GET/POST /enrol, GET/POST /clients/<id>/invitations
Static files and the health check, `bot.web.static`.
Shared request helpers, security headers and error pages: `bot.web.http`; names, dates and
templates: `bot.web.present`; the client list and a client's detail: `bot.web.data`.

Privacy: private check-ins appear only as "a private check-in on <date>", through
`bot.export.checkin_record`; alerts, trends and talking points use shared check-ins only.
Crisis events are listed with kind and time (no words are stored with them), whichever
check-in they happened in: they are the practice's safety flag.
"""
from __future__ import annotations

from typing import Any

from sanic import Sanic
from sanic.log import logger

from bot.store import Store, StoreError
from bot.web import accounts, api, data, enrol, exports, health, http, pages, schedules, session, static, triage
from bot.web.auth import LoggedOut, LoginLimiter, Signer
from bot.web.present import CHART_JS, templates
from bot.web.settings import ReviewSettings

__all__ = ["CHART_JS", "create_app"]


def create_app(settings: ReviewSettings, store: Store, name: str = "rapport_review") -> Sanic:
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = 64 * 1024
    app.config.KEEP_ALIVE_TIMEOUT = 15
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = 3.0
    app.config.FORWARDED_SECRET = settings.forwarded_secret or None
    app.config.REAL_IP_HEADER = None
    app.config.PROXIES_COUNT = settings.proxies_count
    app.ctx.store = store
    app.ctx.settings = settings
    app.ctx.templates = templates()
    app.ctx.signer = Signer(settings.secret, settings.password_hash)
    app.ctx.limiter = LoginLimiter()
    app.ctx.logged_out = LoggedOut()
    app.ctx.attention = data.OverviewCache(store, settings.total_below)

    @app.after_server_start
    async def warm_up(app: Sanic, loop: Any) -> None:
        """Compute every client's alerts once in the background, so the first list page is quick."""

        def compute() -> None:
            try:
                app.ctx.attention.alerts()
            except StoreError as exc:  # the page will say so when asked; nothing to do here
                logger.warning("could not precompute alerts: %s", exc)

        loop.run_in_executor(None, compute)

    app.on_request(session.check_csrf)
    http.install(app)
    for part in (session, pages, exports, api, static, health, triage, accounts, enrol, schedules):  # health: /healthz, /readyz, /metrics
        app.blueprint(part.blueprint())
    return app
