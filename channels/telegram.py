"""Telegram, with the webhook's secret token checked and no call to Telegram at start-up.

Rasa's Telegram connector calls Telegram's API when the server starts (setWebhook) and on every
message (getMe, to compare the bot's name); neither works where the server cannot reach Telegram,
and neither proves that a request came from Telegram. This one registers nothing at start-up (the
webhook is set once with `python -m channels.telegram set-webhook`, see docs/channels.md) and
checks the `X-Telegram-Bot-Api-Secret-Token` header that Telegram sends with every update against
the secret given to setWebhook: a missing or wrong one gets 403.

Only private chats are answered (a check-in in a group would be read by the group). Edited
messages are ignored (an edit of an old answer must not answer the current question). Telegram
redelivers an update it got no 2xx for; the update id makes such a redelivery a no-op.

A deep link's "/start <code>" uses the invitation (the chat id is the address to send to later),
and "/stop" from a chat bound to an enrolled client leaves (channels/enrolment.py).
"""
from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from aiogram.bot.api import TelegramAPIServer
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.enrolment import is_leave_command, telegram_start_code
from channels import enrolment
from channels.common import BoundOutput, channel_settings, handle_once, pseudonymous
from channels.limits import dropped_for_flooding

logger = logging.getLogger(__name__)

TELEGRAM_API = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class TelegramKeyboardOutput(TelegramOutput):
    """Telegram replies; buttons as an inline keyboard, one per row when there are more than two."""

    def __init__(self, access_token: str, api_url: str = "") -> None:
        server = TelegramAPIServer.from_base(api_url or TELEGRAM_API)
        super(TelegramOutput, self).__init__(access_token, server=server)  # Bot.__init__

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        keyboard = InlineKeyboardMarkup()
        row = [InlineKeyboardButton(b["title"], callback_data=b["payload"]) for b in buttons]
        if len(row) > 2:
            for button in row:
                keyboard.row(button)
        else:
            keyboard.row(*row)
        await self.send_message(recipient_id, text, reply_markup=keyboard)


class TelegramSecretInput(TelegramInput):
    """credentials.yml keys: access_token (from @BotFather) and secret_token (the secret given to
    setWebhook), both required; api_url only to point replies at a test double."""

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        settings = channel_settings(
            "telegram", credentials, required=("access_token", "secret_token"), optional=("api_url",)
        )
        return cls(settings)

    def __init__(self, settings: Optional[Dict[str, str]]) -> None:
        settings = settings or {}
        super().__init__(settings.get("access_token"), None, None, debug_mode=False)
        self.enabled = bool(settings)
        self.secret_token = settings.get("secret_token", "")
        self.api_url = settings.get("api_url", "")

    def has_secret(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "")
        return bool(given) and hmac.compare_digest(given.encode(), self.secret_token.encode())

    def provider_output(self) -> TelegramKeyboardOutput:
        """Replies to a chat id. No setWebhook here (Rasa's does it on every start-up)."""
        return TelegramKeyboardOutput(self.access_token, self.api_url)

    def get_output_channel(self) -> Optional[OutputChannel]:  # type: ignore[override]
        """What Rasa's HTTP API sends (Rapport opening a conversation) goes to the bound chat."""
        return BoundOutput(self.provider_output()) if self.enabled else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("rapport_telegram_webhook", __name__)
        output = self.provider_output() if self.enabled else None

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.enabled else "off"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if output is None:
                return response.text("The Telegram channel is not configured.", status=HTTPStatus.SERVICE_UNAVAILABLE)
            if not self.has_secret(request):
                logger.warning("Rejected a Telegram webhook call with a missing or wrong secret token.")
                return response.text("Invalid secret token.", status=HTTPStatus.FORBIDDEN)
            update = request.json if isinstance(request.json, dict) else {}
            incoming = client_message(update)
            if incoming is None:
                return response.text("ignored")
            sender_id, text, callback_id = incoming
            if callback_id:
                await _stop_spinner(output, callback_id)
            if await dropped_for_flooding(self.name(), sender_id, output):
                return response.text("success")
            message = UserMessage(
                text, output, sender_id, input_channel=self.name(),
                message_id=f"telegram-{update.get('update_id')}", metadata=self.get_metadata(request),
            )
            code = telegram_start_code(text)
            if code is not None:  # a deep link, t.me/<bot>?start=<code>: binds this chat to the client
                message = await enrolment.use_invitation(message, code, sender_id)
            elif is_leave_command(self.name(), text):  # /stop: a bound client leaves
                message = await enrolment.leave(message) or message
            try:
                await handle_once(request.app.ctx.agent, pseudonymous(message))
            except Exception as error:  # noqa: BLE001 - a 5xx would make Telegram redeliver forever
                logger.error("Handling a Telegram update failed: %s", type(error).__name__)
            return response.text("success")

        return webhook


def client_message(update: Dict[str, Any]) -> Optional[tuple[str, str, Optional[str]]]:
    """(sender id, text, callback query id) of an update worth answering, else None.

    The sender id is the private chat's id, which is the user's Telegram id: the same person
    always gets the same id. "/start" (what Telegram sends when someone opens the bot) greets.
    """
    callback = update.get("callback_query")
    if callback:
        message, text, callback_id = callback.get("message") or {}, callback.get("data"), callback.get("id")
    elif update.get("message"):
        message, callback_id = update["message"], None
        text = message.get("text")
    else:
        return None  # edited messages, channel posts, member updates, ...
    chat = message.get("chat") or {}
    if chat.get("type") != "private" or chat.get("id") is None or not text:
        return None
    if text.strip().split("@")[0] == "/start":
        text = "/greet"
    return str(chat["id"]), text, callback_id


async def _stop_spinner(output: TelegramKeyboardOutput, callback_id: str) -> None:
    try:
        await output.answer_callback_query(callback_id)
    except Exception as error:  # noqa: BLE001 - only cosmetic
        logger.info("answerCallbackQuery failed: %s", type(error).__name__)


def set_webhook(token: str, url: str, secret_token: str, api_url: str = TELEGRAM_API) -> dict:
    """Registers `url` with Telegram, with the secret Telegram will send back on every update."""
    import requests

    reply = requests.post(
        f"{api_url.rstrip('/')}/bot{token}/setWebhook",
        json={
            "url": url,
            "secret_token": secret_token,
            "allowed_updates": ["message", "callback_query"],
            "drop_pending_updates": True,
        },
        timeout=30,
    )
    return reply.json()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m channels.telegram",
        description="One-off Telegram set-up. Reads TELEGRAM_ACCESS_TOKEN, TELEGRAM_SECRET_TOKEN "
        "and TELEGRAM_WEBHOOK_URL (e.g. https://chat.example.org/webhooks/telegram/webhook).",
    )
    parser.add_argument("command", choices=["set-webhook"])
    parser.parse_args(argv)
    missing = [n for n in ("TELEGRAM_ACCESS_TOKEN", "TELEGRAM_SECRET_TOKEN", "TELEGRAM_WEBHOOK_URL") if not os.environ.get(n)]
    if missing:
        print(f"set {', '.join(missing)} first", file=sys.stderr)
        return 2
    result = set_webhook(
        os.environ["TELEGRAM_ACCESS_TOKEN"], os.environ["TELEGRAM_WEBHOOK_URL"],
        os.environ["TELEGRAM_SECRET_TOKEN"], os.environ.get("TELEGRAM_API_URL") or TELEGRAM_API,
    )
    print(result.get("description") or result)
    return 0 if result.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
