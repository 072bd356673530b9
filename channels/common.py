"""What the channels share: settings from `${VARS}`, pseudonymous conversation ids, sending to the
address a conversation is bound to, numbered options, and safe retries."""
from __future__ import annotations

import asyncio
import logging
import os
import re
from functools import lru_cache
from typing import Any, Dict, Iterable, Mapping, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.exceptions import InvalidConfigException

from bot.config import load_settings
from bot.identity import client_id
from bot.store import Store, StoreError

logger = logging.getLogger(__name__)

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(value: Any, env: Mapping[str, str] | None = None) -> str:
    """`${NAME}` references in `value` replaced by the environment's values; unset names give "".

    credentials.yml quotes these values so that Rasa leaves them alone (Rasa refuses to start
    when an unquoted `${NAME}` is unset); a channel then treats empty settings as "off".
    """
    env = os.environ if env is None else env
    if value is None:
        return ""
    return _ENV_REFERENCE.sub(lambda match: env.get(match.group(1), ""), str(value)).strip()


def channel_settings(
    channel: str,
    credentials: Mapping[str, Any] | None,
    required: Iterable[str],
    optional: Iterable[str] = (),
) -> dict[str, str] | None:
    """The channel's expanded settings, or None when every required one is empty (channel off).

    A channel with some but not all of its required settings is refused at start-up: half a
    configuration usually means a missing secret, and a webhook without its secret is open to anyone.
    """
    credentials = credentials or {}
    settings = {key: expand_env(credentials.get(key)) for key in (*required, *optional)}
    required = list(required)
    missing = [key for key in required if not settings[key]]
    if len(missing) == len(required):
        logger.info("The %s channel is off: its settings in credentials.yml are empty.", channel)
        return None
    if missing:
        raise InvalidConfigException(
            f"The {channel} channel is half configured: {', '.join(missing)} empty in "
            f"credentials.yml (set the environment variables it names; see docs/channels.md)."
        )
    return settings


@lru_cache(maxsize=1)
def id_secret() -> str:
    secret = load_settings().id_secret
    if not secret:
        raise InvalidConfigException("RAPPORT_ID_SECRET is empty: every conversation id is a keyed hash of "
                                     "channel and sender, so it is required (scripts/setup.sh generates one).")
    return secret


def conversation_id(channel: str, sender_id: str) -> str:
    """The pseudonymous id a conversation is kept under (bot.identity.client_id of channel + sender).

    Every channel turns the provider's id (a phone number, a Telegram or Slack id, a web chat
    session) into this before Rasa sees the message, so the tracker store, the lock store, the
    event broker and the logs never hold the raw id, and the same raw id on two channels is two
    conversations: whoever knows a client's phone number cannot post into their SMS conversation
    through another channel.
    """
    return client_id(channel, sender_id, id_secret())


class AddressedOutput(OutputChannel):
    """The provider's output channel, sending to the raw address whatever Rasa sends to the
    pseudonymous conversation id (Rasa only knows the latter)."""

    def __init__(self, inner: OutputChannel, address: str) -> None:
        self.inner, self.address = inner, address

    def name(self) -> Text:  # type: ignore[override] - the wrapped channel's name (channel-specific responses)
        return self.inner.name()

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        await self.inner.send_response(self.address, message)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.inner, attribute)


class BoundOutput(AddressedOutput):
    """The provider's output channel for what Rasa sends on its own, from its HTTP API (Rapport
    opening a conversation: bot/schedule_tick.py triggers an intent with `output_channel`): Rasa
    knows only the pseudonymous conversation id, so this looks up the address that conversation is
    bound to (Store.binding, in the database the scheduler and the actions share) and sends there.
    Nothing is sent to a conversation that is not bound, whose address said STOP, or whose client
    left."""

    def __init__(self, inner: OutputChannel) -> None:
        super().__init__(inner, "")

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        address = await asyncio.to_thread(bound_address, recipient_id)
        if address is None:
            logger.warning("Not sent: the conversation is not bound to a reachable address.")
            return
        await self.inner.send_response(address, message)


@lru_cache(maxsize=1)
def _bindings() -> Store:
    return Store.from_settings(load_settings())


def bound_address(conversation: str) -> str | None:
    """The address to send `conversation`'s messages to, or None when nothing may be sent."""
    try:
        binding = _bindings().binding(conversation)
        if binding is None:
            return None
        reachable = _bindings().reachable_bindings(binding.client_id)
    except (StoreError, ValueError) as error:
        logger.error("Could not look up where to send a message: %s", type(error).__name__)
        return None
    return next((b.address for b in reachable if b.conversation_id == conversation), None)


def pseudonymous(message: UserMessage) -> UserMessage:
    """`message` as Rasa must see it: under its conversation id, replies still going to the sender."""
    return UserMessage(
        message.text, AddressedOutput(message.output_channel, message.sender_id),
        conversation_id(message.input_channel, message.sender_id), parse_data=message.parse_data,
        input_channel=message.input_channel, message_id=message.message_id, metadata=message.metadata,
    )


def numbered_options(buttons: list[dict[str, Any]]) -> str:
    """Buttons as a line for channels without buttons: "Reply 1-5: 1 not at all, 2 a little, ..."."""
    titles = [_lower_first(str(button.get("title", "")).strip()) for button in buttons]
    if len(titles) == 1:
        return f"Reply 1: {titles[0]}"
    options = ", ".join(f"{number} {title}" for number, title in enumerate(titles, start=1))
    return f"Reply 1-{len(titles)}: {options}"


def _lower_first(title: str) -> str:
    return title[:1].lower() + title[1:]


def latest_buttons(events: Iterable[Any]) -> list[dict[str, Any]]:
    """The buttons of the bot's latest turn (since the client last spoke), or [] if it had none."""
    for event in reversed(list(events)):
        if isinstance(event, UserUttered):
            return []
        if isinstance(event, BotUttered) and (event.data or {}).get("buttons"):
            return list(event.data["buttons"])
    return []


def payload_for_reply(text: str | None, buttons: list[dict[str, Any]]) -> str | None:
    """The payload of button N when `text` is just the number N of one of `buttons`, else None."""
    reply = (text or "").strip().rstrip(".")
    if not reply.isdigit() or not buttons:
        return None
    number = int(reply)
    if 1 <= number <= len(buttons):
        return str(buttons[number - 1].get("payload") or "") or None
    return None


async def numbered_reply_as_payload(agent: Any, sender_id: str, text: str | None) -> str | None:
    """A reply of "N" to numbered options becomes the payload of button N; other text is unchanged.

    Reads the conversation (no lock needed for a read); a store failure leaves the text as it is,
    so a level question still gets the digit, which the answer scorer understands.
    """
    try:
        tracker = await agent.tracker_store.retrieve(sender_id)
    except Exception as error:  # noqa: BLE001 - never lose the message over a lookup
        logger.warning("could not read the conversation to map a numbered reply: %s", type(error).__name__)
        return text
    if tracker is None:
        return text
    return payload_for_reply(text, latest_buttons(tracker.events)) or text


def replies_after(events: Iterable[Any], message_id: str) -> list[BotUttered] | None:
    """The bot messages that answered the client message `message_id`, or None if it never arrived."""
    replies: list[BotUttered] | None = None
    for event in events:
        if isinstance(event, UserUttered):
            if replies is not None:
                break
            if event.message_id == message_id:
                replies = []
        elif replies is not None and isinstance(event, BotUttered):
            replies.append(event)
    return replies


async def handle_once(agent: Any, message: UserMessage) -> bool:
    """Handles `message` unless a message with the same id was handled before; then its replies
    are sent again to the message's output channel. Returns True when the message was handled now, False if replayed.

    Does what `Agent.handle_message` does (lock the conversation, then process), with the check
    inside the same lock: a retry that arrives while the first attempt is still running waits for
    it and then replays its answer, so no answer is ever applied twice. If the first attempt died
    (a replica killed mid-request), the retry finds nothing stored and the message is handled.
    """
    if not agent.is_ready():
        raise RuntimeError("no model is loaded")
    async with agent.lock_store.lock(message.sender_id):
        tracker = await agent.tracker_store.retrieve(message.sender_id)
        previous = replies_after(tracker.events, message.message_id) if tracker else None
        if previous is None:
            await agent.processor.handle_message(message)
            return True
    for reply in previous:
        await message.output_channel.send_response(message.sender_id, reply.message())
    return False
