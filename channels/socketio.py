"""The web chat's socket.io channel: Rasa's, with server-issued sessions that stay bound.

Rasa 3.6's SocketIOInput lets the page name its own session id (any socket could claim any
conversation and receive its replies), allows every origin, and calls `sio.enter_room(...)`
without awaiting it (python-socketio 5.x made it a coroutine, so with `session_persistence: true`
every reply was lost). This subclass:

- issues each session itself: a random id, given to the page as a signed token
  (`bot.identity.session_token`) that the page keeps in its own storage, never in a URL, and shows
  again in `session_request` on each (re)connection. A token that does not verify gets a new
  session: no socket can join a conversation by naming it;
- binds each socket to that one session (and leaves the room of any earlier one); what a message
  says its session is, is ignored;
- answers `session_confirm` with `{"token": ..., "route": ...}`: the page sends `route` (a hash of
  the session that reveals nothing) as `?rapport_route=` so a load balancer can keep a
  conversation on one server (deploy/nginx.conf.template);
- accepts connections only from the origins in `cors_allowed_origins`
  (`RAPPORT_WEBCHAT_ORIGINS`, comma-separated); empty means the server's own origin only.

- takes an invitation code from `session_request` (`{"session_token": ..., "invite": ...}`: the
  page opened from an invitation link, `?invite=<code>`): the session's conversation is bound to
  the enrolled client and welcomed; "/leave" from a bound conversation leaves
  (channels/enrolment.py).

Same channel name (`socketio`) and the other settings as Rasa's; the page is webchat/.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.enrolment import is_leave_command, web_invite_code
from bot.identity import new_session_id, session_of, session_route, session_token
from channels import enrolment
from channels.common import expand_env, id_secret, pseudonymous
from channels.enrolment import INVITATION_TEXT
from channels.limits import TOO_FAST, guard, notice_due

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 5000


def allowed_origins(setting: Any) -> Optional[List[str]]:
    """`RAPPORT_WEBCHAT_ORIGINS` as python-socketio wants it: a list, or None for same-origin only.

    ("*" is refused: a page on any site could then talk to a client's conversation.)
    """
    origins = [origin.strip().rstrip("/") for origin in expand_env(setting).split(",") if origin.strip()]
    if "*" in origins:
        raise ValueError("RAPPORT_WEBCHAT_ORIGINS may not be '*': list the sites that serve the web chat page")
    return origins or None


class WebChatInput(SocketIOInput):
    """credentials.yml keys as Rasa's `socketio:` (user_message_evt, bot_message_evt, namespace,
    session_persistence, socketio_path, jwt_key, jwt_method, metadata_key), plus
    `cors_allowed_origins`."""

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = dict(credentials or {})
        origins = allowed_origins(credentials.pop("cors_allowed_origins", ""))
        channel = super().from_credentials(credentials)
        channel.cors_allowed_origins = origins  # type: ignore[attr-defined]
        return channel

    cors_allowed_origins: Optional[List[str]] = None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=self.cors_allowed_origins)
        webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        sessions: Dict[str, str] = {}  # socket id -> the session the server gave it
        addresses: Dict[str, str] = {}  # socket id -> the client's address (flood limits)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict]) -> bool:
            peer, real_ip = environ.get("REMOTE_ADDR") or "", environ.get("HTTP_X_REAL_IP") or ""
            addresses[sid] = guard().client_address(peer, real_ip)
            if not self.jwt_key:
                return True
            import rasa.core.channels.channel as channel

            token = (auth or {}).get("token")
            return bool(token and channel.decode_bearer_token(token, self.jwt_key, self.jwt_algorithm))

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: Text) -> None:
            sessions.pop(sid, None)
            addresses.pop(sid, None)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any) -> None:
            if not self.session_persistence:
                sessions[sid] = sid
                await sio.emit("session_confirm", {"token": None, "route": None}, room=sid,
                               namespace=self.namespace)
                return
            secret = id_secret()
            shown = data.get("session_token") if isinstance(data, dict) else None
            session_id = session_of(shown, secret) or new_session_id()
            earlier = sessions.get(sid)
            if earlier and earlier != session_id:
                await sio.leave_room(sid, earlier, namespace=self.namespace)
            await sio.enter_room(sid, session_id, namespace=self.namespace)
            sessions[sid] = session_id
            await sio.emit(
                "session_confirm",
                {"token": session_token(session_id, secret), "route": session_route(session_id)},
                room=sid, namespace=self.namespace,
            )
            invite = web_invite_code(data.get("invite")) if isinstance(data, dict) else None
            if invite is not None:  # the page was opened from an invitation link (?invite=<code>)
                opened = UserMessage(INVITATION_TEXT, SocketIOOutput(sio, self.bot_message_evt), session_id,
                                     input_channel=self.name())
                await on_new_message(pseudonymous(await enrolment.use_invitation(opened, invite, None)))

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            sender_id = sessions.get(sid)
            if sender_id is None or not isinstance(data, dict):
                logger.warning("Dropped a web chat message from a socket without a session.")
                return
            text = data.get("message", "")
            if not isinstance(text, str) or len(text) > MAX_MESSAGE_CHARS:
                return
            # Per session and per address, as the REST channel (channels/limits.py).
            refusal = guard().admit(self.name(), sender_id, addresses.get(sid))
            if refusal is not None:
                logger.warning("A web chat message was dropped: over the %s limit.", refusal.reason)
                if notice_due(self.name(), sender_id):
                    await sio.emit(self.bot_message_evt, {"text": TOO_FAST}, room=sid, namespace=self.namespace)
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            output = SocketIOOutput(sio, self.bot_message_evt)
            message = UserMessage(text, output, sender_id, input_channel=self.name(),
                                  metadata=metadata if isinstance(metadata, dict) else {})
            if is_leave_command(self.name(), text):  # "/leave": a bound client leaves
                message = await enrolment.leave(message) or message
            await on_new_message(pseudonymous(message))

        return webhook
