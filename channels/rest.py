"""A REST channel whose retries are safe: the `app` channel, for a practice's own app or portal.

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

import re
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.common import handle_once

# 16-128 URL-safe characters: a UUID (hex or dashed) or a token_urlsafe(16) or longer.
SENDER_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")
MESSAGE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
MAX_MESSAGE_CHARS = 5000


class RetrySafeRestInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "app"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("rapport_app_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else {}
            sender, text, message_id = body.get("sender"), body.get("message"), body.get("message_id")
            problem = _problem(sender, text, message_id)
            if problem:
                return response.json({"error": problem}, status=HTTPStatus.BAD_REQUEST)
            collector = CollectingOutputChannel()
            message = UserMessage(
                text, collector, sender, input_channel=self.name(), message_id=message_id,
                metadata=body.get("metadata") if isinstance(body.get("metadata"), dict) else None,
            )
            handled_now = await handle_once(request.app.ctx.agent, message)
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
