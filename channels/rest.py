"""REST channels: Rasa's REST channel hardened (`rest`), and a retry-safe one (`app`).

`ValidatedRestInput` (name `rest`, POST /webhooks/rest/webhook with {"sender", "message"}): as
Rasa's, but a malformed body gets a 400 instead of a 500, the caller cannot choose the input
channel name (Rasa's lets a body say "input_channel": "twilio", which is part of the client's
pseudonymous id), a failure is logged without the client's words, and when a `token` is configured
every call needs `Authorization: Bearer <token>` (401 otherwise). Without a token the server
refuses to start unless it listens on loopback only: anyone who can reach an open REST channel can
talk as any sender on it.

`RetrySafeRestInput`, the `app` channel, for a practice's own app or portal (server to server:
every call needs `Authorization: Bearer <RAPPORT_APP_TOKEN>`; the channel is off without one):

POST /webhooks/app/webhook with JSON {"sender": ..., "message": ..., "message_id": ...}; the answer
is the bot's messages, as from Rasa's REST channel. A client that got no answer (a timeout, a
replica that died mid-request) sends the same message with the same `message_id` again: if the
first attempt was handled, its answer is sent again (header `X-Rapport-Replayed: true`) and the
conversation does not move on twice. Unlike Rasa's REST channel, the caller cannot choose the
input channel name, which is part of the client's pseudonymous id.

The sender id is the only thing that ties a conversation to a person here, so it must be an
unguessable random id kept by the app (it is checked to look like one).
"""
from __future__ import annotations

import hmac
import logging
import re
import unicodedata
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config import is_loopback
from channels.common import expand_env, handle_once, pseudonymous
from channels.limits import limited

logger = logging.getLogger(__name__)

MAX_REST_MESSAGE_CHARS = 100_000
MAX_REST_SENDER_CHARS = 256


class ValidatedRestInput(InputChannel):
    """credentials.yml key: token (optional; empty = no bearer token needed)."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(expand_env((credentials or {}).get("token")))

    def __init__(self, token: str = "") -> None:
        self.token = token

    def is_authorized(self, request: Request) -> bool:
        return not self.token or has_bearer_token(request, self.token)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("rapport_rest_webhook", __name__)

        @webhook.listener("before_server_start")
        async def refuse_open_rest_off_loopback(app: Any, _: Any) -> None:
            host = app.state.host
            if not self.token and not is_loopback(host):
                raise RuntimeError(
                    f"The REST channel has no token (RAPPORT_REST_TOKEN) and the server would listen on "
                    f"{host or 'every interface'}: set a token, or listen on 127.0.0.1 (--interface)."
                )

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.is_authorized(request):
                return unauthorized("rapport-rest")
            body = _json_object(request)
            problem = _rest_problem(body)
            if problem:
                return response.json({"error": problem}, status=HTTPStatus.BAD_REQUEST)
            refused = limited(request, self.name(), body["sender"], per_address=True)
            if refused:
                return refused
            collector = CollectingOutputChannel()
            metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else None
            try:
                await on_new_message(pseudonymous(
                    UserMessage(body["message"], collector, body["sender"], input_channel=self.name(), metadata=metadata)
                ))
            except Exception as error:  # noqa: BLE001 - logged without the client's words
                logger.error("Handling a REST message failed: %s", type(error).__name__)
                return response.json({"error": "the message could not be handled"}, status=HTTPStatus.INTERNAL_SERVER_ERROR)
            return response.json(collector.messages)

        return webhook


def has_bearer_token(request: Request, token: str) -> bool:
    scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def unauthorized(realm: str) -> HTTPResponse:
    return response.json({"error": "send Authorization: Bearer <token>"}, status=HTTPStatus.UNAUTHORIZED,
                         headers={"WWW-Authenticate": f'Bearer realm="{realm}"'})


def _json_object(request: Request) -> dict | None:
    """The body as a JSON object, or None when it is not one."""
    try:
        body = request.json
    except Exception:  # noqa: BLE001 - Sanic raises on a body that is not JSON
        return None
    return body if isinstance(body, dict) else None


def _rest_problem(body: dict | None) -> str | None:
    if body is None:
        return "the body must be a JSON object"
    sender, text = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_REST_SENDER_CHARS:
        return f"sender must be a non-empty string of at most {MAX_REST_SENDER_CHARS} characters"
    if any(unicodedata.category(c) == "Cc" for c in sender):
        return "sender must not contain control characters"
    if not isinstance(text, str):
        return "message must be a string"
    if len(text) > MAX_REST_MESSAGE_CHARS:
        return f"message must be at most {MAX_REST_MESSAGE_CHARS} characters"
    return None


# 16-128 URL-safe characters: a UUID (hex or dashed) or a token_urlsafe(16) or longer.
SENDER_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")
MESSAGE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
MAX_MESSAGE_CHARS = 5000


class RetrySafeRestInput(InputChannel):
    """credentials.yml key: token (required: the channel is off, 503, while it is empty)."""

    @classmethod
    def name(cls) -> Text:
        return "app"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(expand_env((credentials or {}).get("token")))

    def __init__(self, token: str = "") -> None:
        self.token = token

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("rapport_app_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.token else "off"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.token:
                return response.json({"error": "the app channel is not configured (RAPPORT_APP_TOKEN)"},
                                     status=HTTPStatus.SERVICE_UNAVAILABLE)
            if not has_bearer_token(request, self.token):
                return unauthorized("rapport-app")
            body = _json_object(request) or {}
            sender, text, message_id = body.get("sender"), body.get("message"), body.get("message_id")
            problem = _problem(sender, text, message_id)
            if problem:
                return response.json({"error": problem}, status=HTTPStatus.BAD_REQUEST)
            # One server calls for all the app's clients: per sender only (channels/limits.py).
            refused = limited(request, self.name(), sender, per_address=False)
            if refused:
                return refused
            collector = CollectingOutputChannel()
            message = UserMessage(
                text, collector, sender, input_channel=self.name(), message_id=message_id,
                metadata=body.get("metadata") if isinstance(body.get("metadata"), dict) else None,
            )
            handled_now = await handle_once(request.app.ctx.agent, pseudonymous(message))
            headers = {} if handled_now else {"X-Rapport-Replayed": "true"}
            return response.json(collector.messages, headers=headers)

        return webhook


def _problem(sender: Any, text: Any, message_id: Any) -> str | None:
    if not isinstance(sender, str) or not SENDER_ID.fullmatch(sender):
        return "sender must be an unguessable id: 16-128 letters, digits, '-' or '_'"
    if not isinstance(message_id, str) or not MESSAGE_ID.fullmatch(message_id):
        return "message_id is required: 1-128 letters, digits, '-', '_', '.' or ':', new for each message"
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_MESSAGE_CHARS:
        return f"message must be non-empty text of at most {MAX_MESSAGE_CHARS} characters"
    return None
