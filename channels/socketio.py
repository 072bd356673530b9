"""The web chat's socket.io channel: Rasa's, with persistent sessions that work and stay bound.

Rasa 3.6's SocketIOInput calls `sio.enter_room(...)` without awaiting it. Since python-socketio
5.x made that a coroutine on the async server (5.18.1 is what Rasa's pins resolve to), a socket
asking for its session never joins the session's room, and with `session_persistence: true` every
reply (sent to that room) is lost. This subclass awaits it, and also:

- binds each socket to the one session it asked for: a message naming another session is dropped
  (Rasa's trusts whatever `session_id` each message carries);
- accepts a session id from the page only if it looks random (else it makes a new one), so a
  conversation is never filed under a guessable or oversized id.

Same settings and channel name (`socketio`) as Rasa's; the page is webchat/.
"""
from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from channels.common import pseudonymous

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")
MAX_MESSAGE_CHARS = 5000


def usable_session_id(asked: Any) -> str:
    """The session id the page asked for if it looks random, else a new one."""
    if isinstance(asked, str) and SESSION_ID.fullmatch(asked):
        return asked
    return uuid.uuid4().hex


class WebChatInput(SocketIOInput):
    """credentials.yml keys as Rasa's `socketio:` (user_message_evt, bot_message_evt, namespace,
    session_persistence, socketio_path, jwt_key, jwt_method, metadata_key)."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        sessions: Dict[str, str] = {}  # socket id -> the session it asked for

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict]) -> bool:
            if not self.jwt_key:
                return True
            import rasa.core.channels.channel as channel

            token = (auth or {}).get("token")
            return bool(token and channel.decode_bearer_token(token, self.jwt_key, self.jwt_algorithm))

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: Text) -> None:
            sessions.pop(sid, None)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            asked = (data or {}).get("session_id") if isinstance(data, dict) else None
            session_id = usable_session_id(asked) if self.session_persistence else sid
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            sessions[sid] = session_id
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Dict) -> None:
            if not isinstance(data, dict):
                return
            sender_id = sessions.get(sid) if self.session_persistence else sid
            if sender_id is None or (self.session_persistence and data.get("session_id") != sender_id):
                logger.warning("Dropped a web chat message outside the socket's own session.")
                return
            text = data.get("message", "")
            if not isinstance(text, str) or len(text) > MAX_MESSAGE_CHARS:
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            output = SocketIOOutput(sio, self.bot_message_evt)
            await on_new_message(pseudonymous(
                UserMessage(text, output, sender_id, input_channel=self.name(),
                            metadata=metadata if isinstance(metadata, dict) else {})
            ))

        return webhook
