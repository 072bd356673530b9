"""The `enrol` blueprint (login required): enrolling a client and inviting them.

    GET  /enrol                           the form: name or initials, external id, preferred
                                          channel, time zone (and, for an admin, the clinician)
    POST /enrol                           enrols the client and makes the first invitation
    GET  /clients/<id>/invitations        the client's invitations (open, used, expired) and a form
                                          for a new one
    POST /clients/<id>/invitations        a new invitation; the client's open ones are revoked

An invitation's link or code is shown once, on the page that made it (bot.enrolment makes it; only
its hash is stored). For SMS and WhatsApp, the page takes a phone number and Rapport texts the
code through Twilio (bot.outbound); the number only goes to Twilio and is never stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from sanic import Blueprint
from sanic.log import logger
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.enrolment import INVITE_CHANNELS, NewInvitation, invitation_status, make_invitation
from bot.outbound import OutboundError, phone_number, send_text
from bot.store import ClientView
from bot.store.enrolment import EXTERNAL_ID_MAX, NAME_MAX
from bot.vocabulary import AUDIT_ENROL, AUDIT_INVITE, AUDIT_VIEW_CLIENT, CLINICIAN, SMS, TELEGRAM, WEB, WHATSAPP
from bot.web.http import audit, blocking, find_client, form_value, render, with_client
from bot.web.session import page

CHANNEL_NAMES = {WEB: "Web chat", TELEGRAM: "Telegram", SMS: "SMS", WHATSAPP: "WhatsApp"}
TEXTED = (SMS, WHATSAPP)
STATUS_NAMES = {"open": "sent, not used yet", "used": "used", "expired": "expired or replaced"}


@lru_cache(maxsize=1)
def time_zones() -> list[str]:
    return sorted(zone for zone in available_timezones() if "/" in zone and not zone.startswith(("Etc/", "SystemV/")))


@dataclass
class Made:
    """What the page that made an invitation shows (once)."""

    invitation: NewInvitation
    sent_to_phone: bool = False
    problem: str = ""


def _form(request: Request, name: str) -> str:
    return (form_value(request, name) or "").strip()


async def _invite(request: Request, client: ClientView, channel: str, phone: str) -> Made:
    """Make (and for SMS / WhatsApp, text) an invitation for `client`; revokes their open ones."""
    ctx = request.app.ctx
    settings = ctx.settings
    viewer = request.ctx.viewer
    made = make_invitation(channel, ctx.store.now(), settings.enrolment, settings.base.id_secret)
    await blocking(lambda: ctx.store.reinvite(client.id, channel, made.code_hash, made.expires_at, viewer.staff_id))
    await audit(request, AUDIT_INVITE, client.id, channel)
    result = Made(made)
    if channel in TEXTED and phone:
        try:
            await blocking(send_text, settings.providers, channel, phone, made.text)
            result.sent_to_phone = True
        except OutboundError as error:
            logger.warning("an invitation could not be texted: %s", error)
            result.problem = "Twilio did not take the message, so nothing was sent. Give the client the code below instead, or try again."
    return result


def _problems(request: Request, channel: str, phone: str) -> list[str]:
    settings = request.app.ctx.settings
    problems = []
    if channel not in INVITE_CHANNELS:
        problems.append("Choose how to invite the client.")
    elif channel == TELEGRAM and not settings.enrolment.telegram_bot:
        problems.append("Telegram invitations need TELEGRAM_BOT_USERNAME (the bot's user name) in the settings.")
    elif channel in TEXTED and phone:
        try:
            phone_number(phone)
        except ValueError as error:
            problems.append(f"The phone number: {error}.")
        if not settings.providers.can_send(channel):
            problems.append("Texting needs the Twilio settings (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_NUMBER).")
    if not settings.base.id_secret:
        problems.append("RAPPORT_ID_SECRET is not set: invitations are kept as hashes keyed with it.")
    return problems


def _enrol_form(request: Request, status: int = 200, problems: list[str] | None = None, **values: Any) -> HTTPResponse:
    viewer = request.ctx.viewer
    clinicians = _clinicians(request) if viewer.is_admin else []
    return render(
        request, "enrol.html", status=status, problems=problems or [], values=values,
        channels=CHANNEL_NAMES, zones=time_zones(), clinicians=clinicians, is_admin=viewer.is_admin,
        name_max=NAME_MAX, external_id_max=EXTERNAL_ID_MAX,
    )


def _clinicians(request: Request) -> list[tuple[int, str]]:
    """The active clinicians (id, name, by name): whom an admin enrols a client with."""
    staff = request.app.ctx.store.staff(active_only=True, role=CLINICIAN)
    return sorted(((member.id, member.display_name) for member in staff), key=lambda pair: (pair[1], pair[0]))


def _made_page(request: Request, client: ClientView, made: Made, enrolled: bool) -> HTTPResponse:
    return render(request, "enrol_made.html", client=client, made=made, enrolled=enrolled,
                  channels=CHANNEL_NAMES, texted=made.invitation.channel in TEXTED)


def blueprint() -> Blueprint:
    bp = Blueprint("enrol")

    @bp.get("/enrol")
    @page
    async def enrol_form(request: Request) -> HTTPResponse:
        return await blocking(lambda: _enrol_form(request))

    @bp.post("/enrol")
    @page
    async def enrol(request: Request) -> HTTPResponse:
        ctx = request.app.ctx
        viewer = request.ctx.viewer
        values = {key: _form(request, key) for key in ("name", "external_id", "channel", "timezone", "clinician", "phone")}
        channel, phone = values["channel"], values["phone"]
        problems = _problems(request, channel, phone)
        clinician_id = viewer.staff_id
        if viewer.is_admin:
            chosen = values["clinician"]
            choices = {str(staff_id) for staff_id, _ in await blocking(_clinicians, request)}
            if chosen and chosen not in choices:
                problems.append("Choose one of the clinicians listed.")
            clinician_id = int(chosen) if chosen in choices else None
        client_id = None
        if not problems:
            try:
                client_id = await blocking(lambda: ctx.store.enrol_client(
                    name=values["name"], clinician_id=clinician_id, external_id=values["external_id"] or None,
                    preferred_channel=channel, timezone=values["timezone"],
                ))
            except ValueError as error:
                problems.append(_plain(str(error)))
        if client_id is None:
            return await blocking(lambda: _enrol_form(request, 400, problems, **values))
        await audit(request, AUDIT_ENROL, client_id)
        client = await find_client(request, client_id)
        assert client is not None
        made = await _invite(request, client, channel, phone)
        return _made_page(request, client, made, enrolled=True)

    @bp.get("/clients/<client_id:str>/invitations")
    @page
    @with_client
    async def invitations(request: Request, client: ClientView) -> HTTPResponse:
        await audit(request, AUDIT_VIEW_CLIENT, client.id, "invitations")
        return await _invitations_page(request, client)

    @bp.post("/clients/<client_id:str>/invitations")
    @page
    @with_client
    async def new_invitation(request: Request, client: ClientView) -> HTTPResponse:
        channel, phone = _form(request, "channel"), _form(request, "phone")
        problems = _problems(request, channel, phone)
        if client.enrolled_at is None:
            problems.append("Only an enrolled client can be invited; enrol them first.")
        if problems:
            return await _invitations_page(request, client, 400, problems)
        made = await _invite(request, client, channel, phone)
        return _made_page(request, client, made, enrolled=False)

    return bp


async def _invitations_page(request: Request, client: ClientView, status: int = 200,
                            problems: list[str] | None = None) -> HTTPResponse:
    store = request.app.ctx.store
    now = store.now()
    rows = [(invitation, STATUS_NAMES[invitation_status(invitation.used_at, invitation.expires_at, now)])
            for invitation in await blocking(store.invitations, client.id)]
    bindings = await blocking(store.bindings, client.id)
    return render(request, "enrol_invitations.html", status=status, client=client, rows=rows,
                  bindings=bindings, problems=problems or [], channels=CHANNEL_NAMES,
                  default_channel=client.preferred_channel if client.preferred_channel in INVITE_CHANNELS else WEB)


def _plain(message: str) -> str:
    """A store's refusal as a sentence for the form."""
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")

