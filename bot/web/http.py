"""Request and response helpers shared by the review app's blueprints: JSON and HTML responses,
form fields, safe redirect targets, security headers and error pages.

Everything a handler needs lives on `request.app.ctx` (set up by `bot.web.app.create_app`):
`store`, `settings`, `templates`, `signer`, `limiter`, `logged_out`, `attention`.
"""
from __future__ import annotations

import asyncio
import json
import re
from functools import wraps
from typing import Any, Awaitable, Callable, Coroutine
from urllib.parse import urlsplit

from sanic import Sanic
from sanic.log import logger
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse, html, raw

from bot.store import ClientView, StoreError
from bot.web import access, data
from bot.web.present import CHART_JS

_CLIENT_ID = re.compile(r"^[^\x00-\x1f/]{1,128}$")

Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]

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


def safe_next(target: str | None) -> str:
    """Only a local path (no scheme, no host, no //) may be a redirect target after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 0x20 for ch in target):
        return "/"
    return target


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> HTTPResponse:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return raw(body.encode("utf-8"), status=status, headers=headers, content_type="application/json; charset=utf-8")


def form_value(request: Request, name: str) -> str | None:
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


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTTPResponse:
    """A page; the header shows "Log out" (with its CSRF token) when the request is logged in."""
    ctx = request.app.ctx
    csrf = getattr(request.ctx, "csrf", "") if hasattr(request, "ctx") else ""
    context.setdefault("csrf", csrf)
    context.setdefault("logged_in", bool(csrf))
    context.setdefault("viewer", getattr(request.ctx, "viewer", None) if hasattr(request, "ctx") else None)
    body = ctx.templates.get_template(template).render(
        practice_name=ctx.settings.base.practice_name, chart_available=CHART_JS.is_file(), **context
    )
    return html(body, status=status)


async def blocking(fn: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.to_thread(fn, *args)


def is_api(request: Request) -> bool:
    return request.path.startswith("/api/")


def not_found(request: Request) -> HTTPResponse:
    if is_api(request):
        return json_response({"error": "not_found"}, status=404)
    return render(request, "error.html", status=404, title="Not found", message="No such client.")


def forbidden(request: Request, message: str) -> HTTPResponse:
    if is_api(request):
        return json_response({"error": "forbidden", "message": message}, status=403)
    return render(request, "error.html", status=403, title="Not allowed", message=message)


class NotYours(Exception):
    """A client-scoped route was asked for a client the viewer may not see."""


async def find_client(request: Request, client_id: str) -> ClientView | None:
    """The client, or None when there is none (a 404). A client the viewer may not see
    (`bot.web.access.may_see`: another clinician's) raises `NotYours`, answered 403."""
    if not _CLIENT_ID.match(client_id):
        return None
    client = await blocking(request.app.ctx.store.client, client_id)
    if client is None:
        return None
    viewer = getattr(request.ctx, "viewer", None)
    if viewer is None or not access.may_see(viewer, client):
        raise NotYours()
    return client


async def audit(request: Request, action: str, client_id: str | None = None, detail: str | None = None) -> None:
    """Add a line to the audit log as the request's viewer (bot.vocabulary.AUDIT_*)."""
    await blocking(request.app.ctx.store.audit, request.ctx.viewer.username, action, client_id, detail)


async def find_client_detail(request: Request, client_id: str) -> data.ClientDetail | None:
    """One client's detail (`bot.web.data.client_detail`), or None when there is no such client."""
    client = await find_client(request, client_id)
    if client is None:
        return None
    ctx = request.app.ctx
    return await blocking(data.client_detail, ctx.store, client, ctx.settings.total_below)


def _finding(find: Callable[[Request, str], Awaitable[Any]]) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapped(request: Request, client_id: str, **kwargs: Any) -> HTTPResponse:
            found = await find(request, client_id)
            if found is None:
                return not_found(request)
            return await handler(request, found, **kwargs)

        return wrapped

    return decorate


# A route with a `<client_id>` (put under `page` or `api`, which set the viewer): the handler gets the
# client (`with_client`: a ClientView) or its detail (`with_client_detail`: a data.ClientDetail) in
# place of the id, and its other route parameters as before. No such client: `not_found` (the HTML
# page, or JSON under /api/); another clinician's: `NotYours`, answered 403.
with_client = _finding(find_client)
with_client_detail = _finding(find_client_detail)


def install(app: Sanic) -> None:
    """Security headers on every response, and the error pages (HTML, or JSON under /api/)."""

    @app.on_response
    async def security_headers(request: Request, response: HTTPResponse) -> None:
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        if request.app.ctx.settings.cookie_secure:  # served over HTTPS: browsers must never come back over HTTP
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        response.headers.setdefault("Cache-Control", "no-store")

    @app.exception(StoreError)
    async def store_failed(request: Request, exc: Exception) -> HTTPResponse:
        logger.error("store error: %s", exc)
        message = "The check-in database cannot be read right now. Please try again in a moment."
        if is_api(request):
            return json_response({"error": "unavailable", "message": message}, status=503)
        return render(request, "error.html", status=503, title="Database unavailable", message=message)

    @app.exception(NotYours)
    async def not_yours(request: Request, exc: Exception) -> HTTPResponse:
        return forbidden(request, "This client is on another clinician's caseload.")

    @app.exception(SanicException)
    async def http_error(request: Request, exc: SanicException) -> HTTPResponse:
        status = getattr(exc, "status_code", 500) or 500
        titles = {404: "Not found", 405: "Not allowed", 413: "Too large"}
        title = titles.get(status, "Something went wrong")
        if is_api(request):
            return json_response({"error": title.lower().replace(" ", "_")}, status=status)
        return render(request, "error.html", status=status, title=title, message="")
