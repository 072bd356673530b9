"""Twilio SMS and WhatsApp, with Twilio's request signature checked.

Rasa's Twilio connector accepts any POST that looks like Twilio's, so anyone who finds the URL
could talk as any phone number. This one checks `X-Twilio-Signature` (HMAC-SHA1 of the public
webhook URL and the form fields, keyed with the auth token; twilio's own RequestValidator) and
answers 403 when it does not match. Replies go out from the number the client wrote to (SMS or
`whatsapp:` alike), without blocking the server, and buttons become numbered options:
"Reply 1-5: 1 not at all, 2 a little, ..."; a reply of "4" is then taken as the 4th button.

Before the assistant reads a message: STOP / START / HELP (bot/enrolment.yml, the whole message,
any case) are answered here, once; a number that sent STOP gets nothing more until START; and an
invitation code ("JOIN 4K7P2Q", or the code alone) binds the number to the enrolled client
(channels/enrolment.py).
"""
from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.enrolment import sms_code, sms_keyword
from bot.outbound import twilio_http_client
from channels import enrolment
from channels.common import (
    BoundOutput,
    channel_settings,
    conversation_id,
    handle_once,
    numbered_options,
    numbered_reply_as_payload,
    pseudonymous,
)
from channels.limits import dropped_for_flooding

logger = logging.getLogger(__name__)


class TwilioNumberedOutput(TwilioOutput):
    def __init__(self, account_sid: str, auth_token: str, from_number: str, api_url: str = "") -> None:
        Client.__init__(self, account_sid, auth_token, http_client=twilio_http_client(api_url))
        self.twilio_number = from_number
        self.send_retry = 0
        self.max_retry = 1

    async def _send_message(self, message_data: Dict[Text, Any]) -> Any:
        sender = str(message_data.get("from_") or "")
        if str(message_data.get("to") or "").startswith("whatsapp:") and sender and not sender.startswith("whatsapp:"):
            message_data = {**message_data, "from_": f"whatsapp:{sender}"}  # WhatsApp from the same number
        try:  # the SDK is synchronous: keep it off the event loop
            return await asyncio.to_thread(self.messages.create, **message_data)
        except TwilioRestException as error:  # the client's words are not logged
            logger.error("Twilio refused a message: HTTP %s, code %s", error.status, error.code)
        except Exception as error:  # noqa: BLE001 - one failed SMS must not end the turn
            logger.error("Sending a Twilio message failed: %s", type(error).__name__)
        return None

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_message(recipient_id, f"{text.strip()}\n{numbered_options(buttons)}")

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)


class TwilioSignedInput(TwilioInput):
    """credentials.yml keys: account_sid, auth_token and webhook_url (the public URL registered
    with Twilio, which the signature covers), all required; twilio_number (replies from the number
    the client wrote to when empty), api_url (only to point replies at a test double).

    The signed URL always comes from settings, never from the request: a URL rebuilt from
    X-Forwarded-Host would let whoever sets that header choose what the signature is checked
    against."""

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        settings = channel_settings(
            "twilio", credentials, required=("account_sid", "auth_token", "webhook_url"),
            optional=("twilio_number", "api_url"),
        )
        return cls(settings)

    def __init__(self, settings: Optional[Dict[str, str]]) -> None:
        settings = settings or {}
        super().__init__(
            settings.get("account_sid"), settings.get("auth_token"), settings.get("twilio_number"),
            debug_mode=False,
        )
        self.enabled = bool(settings)
        self.webhook_url = settings.get("webhook_url", "")
        self.api_url = settings.get("api_url", "")

    def is_signed_by_twilio(self, request: Request) -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            return False
        return RequestValidator(self.auth_token).validate(self.webhook_url, request.form, signature)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("rapport_twilio_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.enabled else "off"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.enabled:
                return response.text("The Twilio channel is not configured.", status=HTTPStatus.SERVICE_UNAVAILABLE)
            if not self.is_signed_by_twilio(request):
                logger.warning("Rejected a Twilio webhook call with a missing or wrong signature.")
                return response.text("Invalid X-Twilio-Signature.", status=HTTPStatus.FORBIDDEN)
            sender, text = request.form.get("From"), request.form.get("Body")
            if not sender or text is None:
                return response.text("", status=HTTPStatus.NO_CONTENT)  # e.g. a media-only message
            output = self.output_to(request.form.get("To") or self.twilio_number)
            text = text.replace("¡", "@")
            keyword = sms_keyword(text)
            # STOP is honoured whatever the rate; after it, nothing is sent to the number (not even
            # a "slow down"), and what it sends is not read, until START.
            if keyword is None and await enrolment.is_stopped(self.name(), sender):
                logger.info("A message from a number that sent STOP was not answered (START resumes).")
                return response.text("", status=HTTPStatus.NO_CONTENT)
            if keyword != "stop" and await dropped_for_flooding(self.name(), sender, output):
                return response.text("", status=HTTPStatus.NO_CONTENT)
            if keyword is not None:  # STOP / START / HELP: answered here, before the assistant reads it
                await enrolment.sms_keyword(keyword, self.name(), sender, output)
                return response.text("", status=HTTPStatus.NO_CONTENT)
            code = sms_code(text)
            if code is None:
                text = await numbered_reply_as_payload(request.app.ctx.agent, conversation_id(self.name(), sender), text)
            message = UserMessage(
                text, output, sender, input_channel=self.name(),
                message_id=request.form.get("MessageSid"), metadata=self.get_metadata(request),
            )
            if code is not None:  # "JOIN 4K7P2Q": binds this number to the client it invites
                message = await enrolment.use_invitation(message, code, sender)
            try:  # a redelivered MessageSid is not answered twice
                await handle_once(request.app.ctx.agent, pseudonymous(message))
            except Exception as error:  # noqa: BLE001 - the client's words are not logged
                logger.error("Handling a Twilio message failed: %s", type(error).__name__)
                return response.text("", status=HTTPStatus.INTERNAL_SERVER_ERROR)
            return response.text("", status=HTTPStatus.NO_CONTENT)

        return webhook

    def output_to(self, from_number: Optional[str]) -> TwilioNumberedOutput:
        return TwilioNumberedOutput(self.account_sid, self.auth_token, from_number or "", self.api_url)

    def get_output_channel(self) -> Optional[OutputChannel]:  # type: ignore[override]
        """What Rasa's HTTP API sends (Rapport opening a conversation) goes, from TWILIO_NUMBER,
        to the phone number the conversation is bound to."""
        return BoundOutput(self.output_to(self.twilio_number)) if self.enabled else None
