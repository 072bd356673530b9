"""Enrolment as the channels see it: using an invitation code, leaving, SMS STOP / START / HELP.

The channels know the raw address (a Telegram chat id, a phone number) that Rasa never sees, so
they use the invitation themselves (bot/store: `redeem_invitation` binds the conversation and
keeps the address, encrypted, to send to later) and then hand Rasa a message whose intent is
already decided (`parse_data`): `enrolled`, `invitation_not_valid` or `left_practice`
(bot/enrolment.py). Those intents never come from a client's words: typing "/enrolled" is read as
words like anything else. The message's text, all that the conversation store keeps of it, never
holds the code.
"""
from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from typing import Callable, Optional, TypeVar

from rasa.core.channels.channel import OutputChannel, UserMessage

from bot.config import load_settings
from bot.enrolment import ENROLLED, INVITATION_NOT_VALID, LEFT_PRACTICE, code_hash, sms_reply
from bot.store import Store
from channels.common import conversation_id, id_secret

logger = logging.getLogger(__name__)

T = TypeVar("T")
INVITATION_TEXT = "(an invitation)"  # what the conversation keeps instead of the code


@lru_cache(maxsize=1)
def store() -> Store:
    """The store, migrated on first use (as the action server's). Raises if unreachable."""
    s = Store.from_settings(load_settings())
    s.migrate()
    return s


async def _call(what: str, fn: Callable[[Store], T]) -> tuple[bool, Optional[T]]:
    """`fn(store)` off the event loop; (ok, result). A failure is logged without ids or words."""
    try:
        return True, await asyncio.to_thread(lambda: fn(store()))
    except Exception as error:  # noqa: BLE001 - the conversation goes on without it
        logger.error("enrolment: %s failed: %s", what, type(error).__name__)
        return False, None


def decided(message: UserMessage, intent: str, text: str) -> UserMessage:
    """`message` with its intent decided here (Rasa's NLU does not read it) and `text` instead of
    what the client sent."""
    return UserMessage(
        text, message.output_channel, message.sender_id,
        parse_data={"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []},
        input_channel=message.input_channel, message_id=message.message_id, metadata=message.metadata,
    )


async def use_invitation(message: UserMessage, code: str, address: Optional[str]) -> UserMessage:
    """Bind the message's conversation to the client the code invites; the message to hand Rasa
    (welcome, or a kind word when the code is unknown, used, expired, or the store is down)."""
    channel = message.input_channel or ""
    conversation = conversation_id(channel, message.sender_id)
    hashed = code_hash(code, channel, id_secret())
    _, client = await _call("redeem_invitation", lambda s: s.redeem_invitation(hashed, conversation, channel, address))
    if client is not None:
        logger.info("an invitation was used on %s", channel)
    return decided(message, ENROLLED if client else INVITATION_NOT_VALID, INVITATION_TEXT)


async def leave(message: UserMessage) -> Optional[UserMessage]:
    """When the conversation is bound: the client leaves (every conversation of theirs unbound,
    nothing more sent to them) and the message to hand Rasa says goodbye. None when it is not
    bound: the message is read as usual."""
    channel = message.input_channel or ""
    conversation = conversation_id(channel, message.sender_id)
    ok, client = await _call("client_for_conversation", lambda s: s.client_for_conversation(conversation))
    if not ok or client is None:
        return None
    ok, _ = await _call("client_left", lambda s: s.client_left(client))
    if not ok:
        return None
    return decided(message, LEFT_PRACTICE, message.text or "")


async def is_stopped(channel: str, sender: str) -> bool:
    """Whether the client sent STOP from this address (their binding is stopped)."""
    conversation = conversation_id(channel, sender)
    _, binding = await _call("binding", lambda s: s.binding(conversation))
    return binding is not None and binding.stopped_at is not None


async def sms_keyword(kind: str, channel: str, sender: str, output: OutputChannel) -> None:
    """STOP / START / HELP from an SMS or WhatsApp number: stop or resume every message to it, or
    say who we are, with one reply. A second STOP is not confirmed again (nothing is sent after STOP)."""
    conversation = conversation_id(channel, sender)
    _, binding = await _call("binding", lambda s: s.binding(conversation))
    if kind in ("stop", "start") and binding is not None:
        if (binding.stopped_at is not None) == (kind == "stop"):
            return  # already so: no second confirmation
        await _call("set_conversation_stopped", lambda s: s.set_conversation_stopped(conversation, kind == "stop"))
    settings = load_settings()
    text = sms_reply(kind, settings.practice_name, settings.practice_contact)
    await output.send_text_message(sender, text)
