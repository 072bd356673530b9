"""The review web app: routes, login, CSRF, security headers. `create_app(settings, store)`.

Pages (login required; a missing or expired session redirects to /login):
    GET  /                          clients, sorted by what needs attention
    GET  /clients/<id>              one client: crisis events, alerts, talking points, trend
                                    chart, latest summary, every check-in
    POST /clients/<id>/label        set or clear the practice's label for a client
    GET  /export.csv | /export.json                     every client's check-ins
    GET  /clients/<id>/export.csv | /clients/<id>/export.json
    GET  /login, POST /login, POST /logout

JSON API (a login session or `Authorization: Bearer RAPPORT_REVIEW_API_TOKEN`; 401 otherwise):
    GET  /api/clients               [{id, short_id, label, attention, alerts, crisis_events, ...}]
    GET  /api/clients/<id>/checkins {client, checkins: [export record + alerts]}
    GET  /api/alerts                {alerts, crisis_events}

Privacy: private check-ins appear only as "a private check-in on <date>", through
`bot.review.checkin_record`; alerts, trends and talking points use shared check-ins only.
Crisis events are listed with kind and time (no words are stored with them), whichever
check-in they happened in: they are the practice's safety flag.
"""
from __future__ import annotations

import asyncio
import io
import json
import re
from datetime import datetime, timezone
from functools import wraps
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sanic import Sanic
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse, html, raw, redirect

from bot import insights
from bot.dimensions import DIMENSIONS, LEVELS, QUESTIONS
from bot.review import checkin_record, private_note, write_csv, write_json
from bot.store import CheckinView, ClientView, EventView, Store, StoreError
from bot.web import data
from bot.web.auth import LoggedOut, LoginLimiter, Session, Signer, tokens_match, verify_password
from bot.web.settings import ReviewSettings

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
CHART_JS = WEB_DIR / "node_modules" / "chart.js" / "dist" / "chart.umd.js"

SESSION_COOKIE = "rapport_session"
LOGIN_COOKIE = "rapport_login"
SHORT_ID = 10
LABEL_MAX = 80
PAGE_SIZE = 200  # clients per list page; those needing attention come first
FIELD_MAX = 1024
_CLIENT_ID = re.compile(r"^[^\x00-\x1f/]{1,128}$")

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
HSTS = "max-age=31536000"  # a year; no includeSubDomains: the practice's other sites are not ours to decide
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on form posts.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}

DIMENSION_NAMES = {
    "team": "On their team",
    "heard": "Feels heard",
    "warmth": "Warmth",
    "worth": "Treated with worth",
    "understood": "Understood",
}
EVENT_NAMES = {"crisis": "Crisis language", "crisis_unclear": "Possible crisis language"}
RULE_NAMES = {
    insights.LOW_ITEM: "Low item",
    insights.LOW_TOTAL: "Low total",
    insights.ITEM_DROP_RULE: "Item dropped",
    insights.TOTAL_DROP_RULE: "Total dropped",
}
STATIC_FILES = {
    "review.css": (STATIC_DIR / "review.css", "text/css; charset=utf-8"),
    "review.js": (STATIC_DIR / "review.js", "text/javascript; charset=utf-8"),
    "vendor/chart.umd.js": (CHART_JS, "text/javascript; charset=utf-8"),
}


# --------------------------------------------------------------------------- presentation


def short_id(client_id: str) -> str:
    return client_id[:SHORT_ID]


def fmt_date(moment: datetime | None) -> str:
    return moment.astimezone(timezone.utc).date().isoformat() if moment else "–"


def fmt_time(moment: datetime | None) -> str:
    if not moment:
        return "–"
    utc = moment.astimezone(timezone.utc)
    return f"{utc.date().isoformat()} {utc.hour:02d}:{utc.minute:02d} UTC"


def client_url(client_id: str, suffix: str = "") -> str:
    return f"/clients/{quote(client_id, safe='')}{suffix}"


def alert_summary(alerts: list[insights.Alert]) -> list[tuple[str, str]]:
    """Alerts for the client list, one line per rule: ("Low item", "Feels heard, Understood")."""
    lines: list[tuple[str, str]] = []
    for rule in insights.RULES:
        fired = [a for a in alerts if a.rule == rule]
        if not fired:
            continue
        if rule in (insights.LOW_ITEM, insights.ITEM_DROP_RULE):
            detail = ", ".join(DIMENSION_NAMES[a.dimension] for a in fired if a.dimension)
            if rule == insights.ITEM_DROP_RULE:
                detail = ", ".join(
                    f"{DIMENSION_NAMES[a.dimension]} {a.previous:g}→{a.score:g}" for a in fired if a.dimension
                )
        elif rule == insights.LOW_TOTAL:
            detail = f"{fired[0].score:g} of {insights.MAX_TOTAL}"
        else:
            detail = f"{fired[0].previous:g}→{fired[0].score:g}"
        lines.append((RULE_NAMES[rule], detail))
    return lines


def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        short_id=short_id, date=fmt_date, time=fmt_time, client_url=client_url, alert_summary=alert_summary
    )
    env.globals.update(
        DIMENSIONS=DIMENSIONS,
        DIMENSION_NAMES=DIMENSION_NAMES,
        QUESTIONS=QUESTIONS,
        LEVELS=LEVELS,
        EVENT_NAMES=EVENT_NAMES,
        RULE_NAMES=RULE_NAMES,
        private_note=private_note,
    )
    return env


def event_record(event: EventView) -> dict[str, Any]:
    """A crisis event for the API: who, what kind, when; never any words."""
    return {
        "client_id": event.client_id,
        "kind": event.kind,
        "date": fmt_date(event.created_at),
        "at": event.created_at.isoformat(),
    }


def client_record(row: data.ClientRow) -> dict[str, Any]:
    c = row.client
    return {
        "id": c.id,
        "short_id": short_id(c.id),
        "label": c.label,
        "checkin_count": c.checkin_count,
        "last_checkin_date": fmt_date(c.last_checkin_at) if c.last_checkin_at else None,
        "last_status": ("private" if c.last_shared is False else c.last_status),
        "attention": ("crisis", "alert", "none")[row.attention],
        "alerts": [a.as_dict() for a in row.alerts],
        "crisis_events": [event_record(e) for e in row.crisis_events],
    }


def _safe_next(target: str | None) -> str:
    """Only a local path (no scheme, no host, no //) may be a redirect target after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 0x20 for ch in target):
        return "/"
    return target


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> HTTPResponse:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return raw(body.encode("utf-8"), status=status, headers=headers, content_type="application/json; charset=utf-8")


# --------------------------------------------------------------------------- the app


def create_app(settings: ReviewSettings, store: Store, name: str = "rapport_review") -> Sanic:
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = 64 * 1024
    app.config.KEEP_ALIVE_TIMEOUT = 15
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = 3.0
    app.config.FORWARDED_SECRET = None
    app.config.REAL_IP_HEADER = None
    app.config.PROXIES_COUNT = 0
    templates = _templates()
    signer = Signer(settings.secret, settings.password_hash)
    limiter = LoginLimiter()
    logged_out = LoggedOut()
    attention = data.OverviewCache(store, settings.total_below)
    app.ctx.store = store
    app.ctx.settings = settings

    def render(request: Request, template: str, status: int = 200, **context: Any) -> HTTPResponse:
        """A page; the header shows "Log out" (with its CSRF token) when the request is logged in."""
        csrf = getattr(request.ctx, "csrf", "") if hasattr(request, "ctx") else ""
        context.setdefault("csrf", csrf)
        context.setdefault("logged_in", bool(csrf))
        body = templates.get_template(template).render(
            practice_name=settings.base.practice_name, chart_available=CHART_JS.is_file(), **context
        )
        return html(body, status=status)

    async def blocking(fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    # -- sessions and cookies

    def set_cookie(response: HTTPResponse, name: str, value: str, max_age: int, path: str = "/") -> None:
        response.cookies[name] = value
        cookie = response.cookies[name]
        cookie["path"] = path
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["max-age"] = max(0, int(max_age))
        if settings.cookie_secure:
            cookie["secure"] = True

    def clear_cookie(response: HTTPResponse, name: str, path: str = "/") -> None:
        set_cookie(response, name, "", 0, path)

    def session_of(request: Request) -> Session | None:
        session = signer.read_session(request.cookies.get(SESSION_COOKIE))
        if session is None or session.user != settings.user or session in logged_out:
            return None
        return session

    def to_login(request: Request) -> HTTPResponse:
        target = request.path + (f"?{request.query_string}" if request.query_string else "")
        response = redirect(f"/login?next={quote(_safe_next(target), safe='/')}", status=303)
        if request.cookies.get(SESSION_COOKIE):
            clear_cookie(response, SESSION_COOKIE)
        return response

    Handler = Callable[..., Awaitable[HTTPResponse]]

    def page(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            session = session_of(request)
            if session is None:
                return to_login(request)
            request.ctx.session = session
            request.ctx.csrf = signer.csrf_token(session)
            return await handler(request, *args, **kwargs)

        return wrapped

    def unauthorized(message: str) -> HTTPResponse:
        return _json(
            {"error": "unauthorized", "message": message},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="rapport-review"'},
        )

    def api(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            authorization = request.headers.get("authorization")
            if authorization is not None:
                scheme, _, token = authorization.partition(" ")
                if scheme.lower() != "bearer" or not settings.api_token:
                    return unauthorized("use Authorization: Bearer <RAPPORT_REVIEW_API_TOKEN>")
                if not tokens_match(token.strip(), settings.api_token):
                    return unauthorized("wrong API token")
            elif session_of(request) is None:
                return unauthorized("log in or send a bearer token")
            return await handler(request, *args, **kwargs)

        return wrapped

    @app.after_server_start
    async def warm_up(app: Sanic, loop: Any) -> None:
        """Compute every client's alerts once in the background, so the first list page is quick."""

        def compute() -> None:
            try:
                attention.alerts()
            except StoreError as exc:  # the page will say so when asked; nothing to do here
                app.logger.warning("could not precompute alerts: %s", exc)

        loop.run_in_executor(None, compute)

    # -- middleware: CSRF on every POST, headers on every response

    @app.on_request
    async def check_csrf(request: Request) -> HTTPResponse | None:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        origin = request.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != (request.headers.get("host") or ""):
            return forbidden(request, "This form came from another site.")
        if request.path == "/login":
            nonce = signer.read_login_nonce(request.cookies.get(LOGIN_COOKIE))
            expected = signer.login_csrf_token(nonce) if nonce else None
            if expected is None:
                # The form is too old (or cookies are off): show a fresh one.
                response = await login_form(request, error="That form had expired. Please try again.", status=403)
                return response
        else:
            session = session_of(request)
            if session is None:
                return None  # the route redirects to the login page
            expected = signer.csrf_token(session)
        given = request.headers.get("x-csrf-token") or _form_value(request, "csrf_token")
        if not tokens_match(given, expected):
            return forbidden(request, "The form's security token is missing or wrong. Reload the page and try again.")
        return None

    @app.on_response
    async def security_headers(request: Request, response: HTTPResponse) -> None:
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        if settings.cookie_secure:  # served over HTTPS: browsers must never come back over HTTP
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        response.headers.setdefault("Cache-Control", "no-store")

    def forbidden(request: Request, message: str) -> HTTPResponse:
        if request.path.startswith("/api/"):
            return _json({"error": "forbidden", "message": message}, status=403)
        return render(request, "error.html", status=403, title="Not allowed", message=message)

    # -- errors

    @app.exception(StoreError)
    async def store_failed(request: Request, exc: Exception) -> HTTPResponse:
        app.logger.error("store error: %s", exc)
        message = "The check-in database cannot be read right now. Please try again in a moment."
        if request.path.startswith("/api/"):
            return _json({"error": "unavailable", "message": message}, status=503)
        return render(request, "error.html", status=503, title="Database unavailable", message=message)

    @app.exception(SanicException)
    async def http_error(request: Request, exc: SanicException) -> HTTPResponse:
        status = getattr(exc, "status_code", 500) or 500
        titles = {404: "Not found", 405: "Not allowed", 413: "Too large"}
        title = titles.get(status, "Something went wrong")
        if request.path.startswith("/api/"):
            return _json({"error": title.lower().replace(" ", "_")}, status=status)
        return render(request, "error.html", status=status, title=title, message="")

    def not_found(request: Request) -> HTTPResponse:
        if request.path.startswith("/api/"):
            return _json({"error": "not_found"}, status=404)
        return render(request, "error.html", status=404, title="Not found", message="No such client.")

    async def find_client(client_id: str) -> ClientView | None:
        if not _CLIENT_ID.match(client_id):
            return None
        return await blocking(store.client, client_id)

    # -- login

    async def login_form(request: Request, error: str = "", status: int = 200) -> HTTPResponse:
        nonce, cookie = signer.new_login_nonce()
        response = render(
            request,
            "login.html",
            status=status,
            csrf=signer.login_csrf_token(nonce),
            next=_safe_next(request.args.get("next") or _form_value(request, "next")),
            error=error,
        )
        set_cookie(response, LOGIN_COOKIE, cookie, 3600, path="/login")
        return response

    @app.get("/login")
    async def login_page(request: Request) -> HTTPResponse:
        if session_of(request) is not None:
            return redirect(_safe_next(request.args.get("next")), status=303)
        return await login_form(request)

    @app.post("/login")
    async def login(request: Request) -> HTTPResponse:
        # The client's address as the trusted proxy reports it (Sanic's FORWARDED_SECRET /
        # PROXIES_COUNT), else the connection's.
        address = request.remote_addr or request.ip or "unknown"
        user = (_form_value(request, "username") or "")[:FIELD_MAX]
        password = (_form_value(request, "password") or "")[:FIELD_MAX]
        attempt, wait = limiter.begin(address, user)  # counted now, before the slow hash
        if attempt is None:
            response = await login_form(
                request, error=f"Too many failed attempts. Try again in {max(1, wait // 60)} minute(s).", status=429
            )
            response.headers["Retry-After"] = str(wait)
            return response
        # Always verify a hash, so a wrong user name takes as long as a wrong password.
        password_ok = await blocking(verify_password, password, settings.password_hash)
        if not (password_ok and tokens_match(user, settings.user)):
            return await login_form(request, error="Wrong user name or password.", status=401)
        limiter.succeeded(attempt)
        _session, cookie = signer.new_session(settings.user, settings.session_minutes)
        response = redirect(_safe_next(_form_value(request, "next")), status=303)
        set_cookie(response, SESSION_COOKIE, cookie, int(settings.session_minutes * 60))
        clear_cookie(response, LOGIN_COOKIE, path="/login")
        return response

    @app.post("/logout")
    async def logout(request: Request) -> HTTPResponse:
        session = session_of(request)
        if session is not None:
            logged_out.add(session)
        response = redirect("/login", status=303)
        clear_cookie(response, SESSION_COOKIE)
        return response

    # -- pages

    @app.get("/")
    @page
    async def client_list(request: Request) -> HTTPResponse:
        rows = await blocking(attention.rows)
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
        return render(
            request,
            "clients.html",
            rows=rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE],
            total=len(rows),
            crisis_rows=crisis_rows,
            alert_count=alert_count,
            query=query,
            page=number,
            pages=pages,
        )

    def _client_page_data(client: ClientView) -> dict[str, Any]:
        checkins = store.checkins(client.id)
        crisis = data.crisis_events(store, client.id)
        by_checkin = insights.alerts_by_checkin(checkins, settings.total_below)
        shared = [c for c in checkins if c.shared]
        latest_summary = next(
            (c for c in sorted(shared, key=lambda c: (c.completed_at or c.started_at, c.id), reverse=True) if c.summary),
            None,
        )
        points = insights.trend(checkins)
        return {
            "checkins": list(reversed(checkins)),
            "crisis_events": crisis,
            "alerts": insights.current_alerts(checkins, settings.total_below),
            "alerts_by_checkin": by_checkin,
            "talking_points": insights.talking_points(checkins),
            "trend": points,
            "chart": insights.chart_data(points),
            "latest_summary": latest_summary,
        }

    @app.get("/clients/<client_id:str>")
    @page
    async def client_page(request: Request, client_id: str) -> HTTPResponse:
        client = await find_client(client_id)
        if client is None:
            return not_found(request)
        details = await blocking(_client_page_data, client)
        return render(
            request,
            "client.html",
            client=client,
            saved=request.args.get("saved") == "1",
            label_max=LABEL_MAX,
            **details,
        )

    @app.post("/clients/<client_id:str>/label")
    @page
    async def set_label(request: Request, client_id: str) -> HTTPResponse:
        client = await find_client(client_id)
        if client is None:
            return not_found(request)
        label = " ".join((_form_value(request, "label") or "").split())
        if len(label) > LABEL_MAX:
            message = f"A label can be at most {LABEL_MAX} characters."
            return render(request, "error.html", status=400, title="Label too long", message=message)
        await blocking(store.set_label, client.id, label or None)
        return redirect(client_url(client.id, "?saved=1"), status=303)

    # -- exports (the same records and writers as `python -m bot.review export`)

    def export_response(client: ClientView | None, fmt: str) -> HTTPResponse:
        records = [checkin_record(c) for c in store.checkins(client.id if client else None)]
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

    @app.get("/export.csv", name="export_all_csv")
    @app.get("/export.json", name="export_all_json")
    @page
    async def export_all(request: Request) -> HTTPResponse:
        return await blocking(export_response, None, request.path.rsplit(".", 1)[1])

    @app.get("/clients/<client_id:str>/export.csv", name="export_client_csv")
    @app.get("/clients/<client_id:str>/export.json", name="export_client_json")
    @page
    async def export_client(request: Request, client_id: str) -> HTTPResponse:
        client = await find_client(client_id)
        if client is None:
            return not_found(request)
        return await blocking(export_response, client, request.path.rsplit(".", 1)[1])

    # -- JSON API

    @app.get("/api/clients")
    @api
    async def api_clients(request: Request) -> HTTPResponse:
        rows = await blocking(attention.rows)
        return _json({"clients": [client_record(r) for r in rows]})

    def _client_checkins(client: ClientView) -> dict[str, Any]:
        checkins = store.checkins(client.id)
        by_checkin = insights.alerts_by_checkin(checkins, settings.total_below)
        records = []
        for checkin in checkins:
            record = checkin_record(checkin)
            record["alerts"] = [a.as_dict() for a in by_checkin.get(checkin.id, [])]
            records.append(record)
        crisis = data.crisis_events(store, client.id)
        row = data.ClientRow(client, insights.current_alerts(checkins, settings.total_below), crisis)
        return {"client": client_record(row), "checkins": records}

    @app.get("/api/clients/<client_id:str>/checkins")
    @api
    async def api_client_checkins(request: Request, client_id: str) -> HTTPResponse:
        client = await find_client(client_id)
        if client is None:
            return not_found(request)
        return _json(await blocking(_client_checkins, client))

    @app.get("/api/alerts")
    @api
    async def api_alerts(request: Request) -> HTTPResponse:
        rows = await blocking(attention.rows)
        return _json(
            {
                "total_below": settings.total_below,
                "alerts": [a.as_dict() for r in rows for a in r.alerts],
                "crisis_events": [event_record(e) for r in rows for e in r.crisis_events],
            }
        )

    # -- static files (our own, and Chart.js from node_modules: no CDN)

    @app.get("/static/<name:path>")
    async def static(request: Request, name: str) -> HTTPResponse:
        entry = STATIC_FILES.get(name)
        if entry is None or not entry[0].is_file():
            return render(request, "error.html", status=404, title="Not found", message="")
        path, content_type = entry
        return raw(
            await blocking(path.read_bytes),
            content_type=content_type,
            headers={"Cache-Control": "public, max-age=3600"},
        )

    @app.get("/favicon.ico")
    async def favicon(request: Request) -> HTTPResponse:
        return raw(b"", status=204, headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/healthz")
    async def health(request: Request) -> HTTPResponse:
        return _json({"ok": True})

    return app


def _form_value(request: Request, name: str) -> str | None:
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    if request.method != "POST" or content_type not in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        return None
    try:
        value = request.form.get(name)
    except Exception:  # a malformed body: treat as absent
        return None
    return value if isinstance(value, str) else None
