"""Sessions and login: cookies, the `page` (login session) and `api` (session or bearer token)
guards, CSRF on every POST, and the `session` blueprint (GET/POST /login, POST /logout).

Who may log in (`account`): the account in the environment (RAPPORT_REVIEW_USER and
RAPPORT_REVIEW_PASSWORD_HASH: the bootstrap admin, which needs no database), and every active
account in the `staff` table (bot/store/practice.py) with its own password. A session cookie
carries a fingerprint of its user's password hash and is checked against the account on every
request, so a session ends when that user's password changes or the account is deactivated.
The guards set `request.ctx.viewer` (bot.web.access.Viewer); the bearer token is the "api" admin.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import quote, urlsplit

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, redirect

from bot.store import StaffView
from bot.vocabulary import ADMIN, API_ACTOR
from bot.web.access import Viewer
from bot.web.auth import Session, tokens_match, verify_password
from bot.web.http import Handler, blocking, forbidden, form_value, json_response, render, safe_next

SESSION_COOKIE = "rapport_session"
LOGIN_COOKIE = "rapport_login"
FIELD_MAX = 1024


def set_cookie(request: Request, response: HTTPResponse, name: str, value: str, max_age: int, path: str = "/") -> None:
    response.cookies[name] = value
    cookie = response.cookies[name]
    cookie["path"] = path
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["max-age"] = max(0, int(max_age))
    if request.app.ctx.settings.cookie_secure:
        cookie["secure"] = True


def clear_cookie(request: Request, response: HTTPResponse, name: str, path: str = "/") -> None:
    set_cookie(request, response, name, "", 0, path)


@dataclass(frozen=True)
class Account:
    """Who a user name logs in as, and the password hash their sessions are bound to."""

    viewer: Viewer
    password_hash: str


def staff_viewer(staff: StaffView) -> Viewer:
    return Viewer(username=staff.username, role=staff.role, staff_id=staff.id)


def account(ctx: Any, username: str) -> Account | None:
    """The account a user name logs in as, or None (no such user, or deactivated). Reads the
    store for anyone but the environment's account: call it through `blocking`."""
    settings = ctx.settings
    if tokens_match(username, settings.user):
        return Account(Viewer(username=settings.user, role=ADMIN, staff_id=None), settings.password_hash)
    found = ctx.store.staff_credentials(username)
    if found is None or not found[0].active:
        return None
    staff, password_hash = found
    return Account(staff_viewer(staff), password_hash)


def _signed_in(ctx: Any, cookie: str | None) -> tuple[Session, Viewer] | None:
    seen: list[Account] = []

    def credential_of(user: str) -> str | None:
        found = account(ctx, user)
        if found is None:
            return None
        seen.append(found)
        return found.password_hash

    session = ctx.signer.read_session(cookie, credential_of=credential_of)
    if session is None or not seen or session in ctx.logged_out:
        return None
    return session, seen[0].viewer


async def signed_in(request: Request) -> tuple[Session, Viewer] | None:
    """The request's session and who it belongs to, or None (no session, expired, logged out,
    its password since changed, or its account deactivated)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    if not hasattr(request.ctx, "signed_in"):  # once per request: the CSRF check, then the guard
        request.ctx.signed_in = await blocking(_signed_in, request.app.ctx, cookie)
    found: tuple[Session, Viewer] | None = request.ctx.signed_in
    return found


def to_login(request: Request) -> HTTPResponse:
    target = request.path + (f"?{request.query_string}" if request.query_string else "")
    response = redirect(f"/login?next={quote(safe_next(target), safe='/')}", status=303)
    if request.cookies.get(SESSION_COOKIE):
        clear_cookie(request, response, SESSION_COOKIE)
    return response


def page(handler: Handler) -> Handler:
    """A page for a logged-in user; others go to the login page and come back after."""

    @wraps(handler)
    async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        found = await signed_in(request)
        if found is None:
            return to_login(request)
        session, request.ctx.viewer = found
        request.ctx.session = session
        request.ctx.csrf = request.app.ctx.signer.csrf_token(session)
        return await handler(request, *args, **kwargs)

    return wrapped


def unauthorized(message: str) -> HTTPResponse:
    return json_response(
        {"error": "unauthorized", "message": message},
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="rapport-review"'},
    )


def api(handler: Handler) -> Handler:
    """A JSON route for a login session or `Authorization: Bearer RAPPORT_REVIEW_API_TOKEN`."""

    @wraps(handler)
    async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        api_token = request.app.ctx.settings.api_token
        authorization = request.headers.get("authorization")
        if authorization is not None:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not api_token:
                return unauthorized("use Authorization: Bearer <RAPPORT_REVIEW_API_TOKEN>")
            if not tokens_match(token.strip(), api_token):
                return unauthorized("wrong API token")
            request.ctx.viewer = Viewer(username=API_ACTOR, role=ADMIN, staff_id=None)
        else:
            found = await signed_in(request)
            if found is None:
                return unauthorized("log in or send a bearer token")
            request.ctx.viewer = found[1]
        return await handler(request, *args, **kwargs)

    return wrapped


async def check_csrf(request: Request) -> HTTPResponse | None:
    """Request middleware: every POST comes from our own pages, with the right token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    signer = request.app.ctx.signer
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
        found = await signed_in(request)
        if found is None:
            return None  # the route redirects to the login page
        expected = signer.csrf_token(found[0])
    given = request.headers.get("x-csrf-token") or form_value(request, "csrf_token")
    if not tokens_match(given, expected):
        return forbidden(request, "The form's security token is missing or wrong. Reload the page and try again.")
    return None


async def login_form(request: Request, error: str = "", status: int = 200) -> HTTPResponse:
    signer = request.app.ctx.signer
    nonce, cookie = signer.new_login_nonce()
    response = render(
        request,
        "login.html",
        status=status,
        csrf=signer.login_csrf_token(nonce),
        next=safe_next(request.args.get("next") or form_value(request, "next")),
        error=error,
    )
    set_cookie(request, response, LOGIN_COOKIE, cookie, 3600, path="/login")
    return response


def blueprint() -> Blueprint:
    bp = Blueprint("session")

    @bp.get("/login")
    async def login_page(request: Request) -> HTTPResponse:
        if await signed_in(request) is not None:
            return redirect(safe_next(request.args.get("next")), status=303)
        return await login_form(request)

    @bp.post("/login")
    async def login(request: Request) -> HTTPResponse:
        ctx = request.app.ctx
        settings, limiter = ctx.settings, ctx.limiter
        # The client's address as the trusted proxy reports it (Sanic's FORWARDED_SECRET /
        # PROXIES_COUNT), else the connection's.
        address = request.remote_addr or request.ip or "unknown"
        user = (form_value(request, "username") or "")[:FIELD_MAX]
        password = (form_value(request, "password") or "")[:FIELD_MAX]
        attempt, wait = limiter.begin(address, user)  # counted now, before the slow hash
        if attempt is None:
            response = await login_form(
                request, error=f"Too many failed attempts. Try again in {max(1, wait // 60)} minute(s).", status=429
            )
            response.headers["Retry-After"] = str(wait)
            return response
        found = await blocking(account, ctx, user) if user else None
        # Always verify a hash, so a wrong user name takes as long as a wrong password.
        stored = found.password_hash if found is not None else settings.password_hash
        password_ok = await blocking(verify_password, password, stored)
        if not (password_ok and found is not None):
            return await login_form(request, error="Wrong user name or password.", status=401)
        limiter.succeeded(attempt)
        _session, cookie = ctx.signer.new_session(
            found.viewer.username, settings.session_minutes, credential=found.password_hash
        )
        response = redirect(safe_next(form_value(request, "next")), status=303)
        set_cookie(request, response, SESSION_COOKIE, cookie, int(settings.session_minutes * 60))
        clear_cookie(request, response, LOGIN_COOKIE, path="/login")
        return response

    @bp.post("/logout")
    async def logout(request: Request) -> HTTPResponse:
        found = await signed_in(request)
        if found is not None:
            request.app.ctx.logged_out.add(found[0])
        response = redirect("/login", status=303)
        clear_cookie(request, response, SESSION_COOKIE)
        return response

    return bp
