"""Sending one text to one address through a provider's API: Twilio (SMS, WhatsApp), Telegram,
Slack. Plain and synchronous (call it from a thread in async code); nothing is stored here.

The API base URLs come from settings (TWILIO_API_URL, TELEGRAM_API_URL, SLACK_API_URL), as for the
channels, so a test double or an egress proxy can stand in for the provider. A refusal raises
`OutboundError` with the provider's status, never the text or the address.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot.vocabulary import SLACK, SMS, TELEGRAM, WHATSAPP

TWILIO_API = "https://api.twilio.com"
TELEGRAM_API = "https://api.telegram.org"
SLACK_API = "https://slack.com/api/"
TIMEOUT_SECONDS = 15
TWILIO_CHANNEL = "twilio"  # the Rasa input channel's name, as a binding records it
_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")


class OutboundError(Exception):
    """The provider refused the message or could not be reached."""


class RedirectingHttpClient(TwilioHttpClient):
    """Sends Twilio API calls to another base URL (a test double or an egress proxy)."""

    def __init__(self, api_url: str) -> None:
        super().__init__(timeout=TIMEOUT_SECONDS)
        self.api_url = api_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.startswith(TWILIO_API):
            url = self.api_url + url[len(TWILIO_API):]
        return super().request(method, url, *args, **kwargs)


def twilio_http_client(api_url: str = "") -> TwilioHttpClient:
    return RedirectingHttpClient(api_url) if api_url else TwilioHttpClient(timeout=TIMEOUT_SECONDS)


def phone_number(text: str) -> str:
    """A phone number as typed ("+44 7700 900123", "(555) 010-2000" with a +1) in E.164 form,
    or ValueError: it must start with + and the country code."""
    number = re.sub(r"[\s().-]", "", text or "")
    if not _PHONE.fullmatch(number):
        raise ValueError("enter the number with + and the country code, e.g. +44 7700 900123")
    return number


@dataclass(frozen=True)
class ProviderSettings:
    """The providers' credentials and API base URLs, from the environment (the channels' variables)."""

    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_number: str = ""
    twilio_whatsapp_number: str = ""
    twilio_api_url: str = ""
    telegram_token: str = ""
    telegram_api_url: str = ""
    slack_token: str = ""
    slack_api_url: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "ProviderSettings":
        def get(name: str) -> str:
            return (env.get(name) or "").strip()

        return cls(
            twilio_account_sid=get("TWILIO_ACCOUNT_SID"), twilio_auth_token=get("TWILIO_AUTH_TOKEN"),
            twilio_number=get("TWILIO_NUMBER"), twilio_whatsapp_number=get("TWILIO_WHATSAPP_NUMBER"),
            twilio_api_url=get("TWILIO_API_URL"), telegram_token=get("TELEGRAM_ACCESS_TOKEN"),
            telegram_api_url=get("TELEGRAM_API_URL"), slack_token=get("SLACK_BOT_TOKEN"),
            slack_api_url=get("SLACK_API_URL"),
        )

    def can_send(self, channel: str) -> bool:
        if channel == SMS:
            return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_number)
        if channel == WHATSAPP:
            return bool(self.twilio_account_sid and self.twilio_auth_token
                        and (self.twilio_whatsapp_number or self.twilio_number))
        if channel == TELEGRAM:
            return bool(self.telegram_token)
        if channel == SLACK:
            return bool(self.slack_token)
        return False


def send_text(settings: ProviderSettings, channel: str, address: str, text: str) -> str:
    """Send `text` to `address` on `channel` (sms, whatsapp, telegram, slack, or a binding's Rasa
    channel name: "twilio" is SMS, or WhatsApp for a "whatsapp:" address); returns the provider's
    message id. An SMS / WhatsApp address is a phone number (E.164, "whatsapp:" optional)."""
    if channel == TWILIO_CHANNEL:
        channel = WHATSAPP if address.startswith("whatsapp:") else SMS
    if not settings.can_send(channel):
        raise OutboundError(f"the {channel} channel is not configured for sending")
    if channel in (SMS, WHATSAPP):
        return _send_twilio(settings, channel, address, text)
    if channel == TELEGRAM:
        return _send_telegram(settings, address, text)
    return _send_slack(settings, address, text)


def _send_twilio(settings: ProviderSettings, channel: str, address: str, text: str) -> str:
    number = phone_number(address.removeprefix("whatsapp:"))
    sender = settings.twilio_number
    if channel == WHATSAPP:
        number = f"whatsapp:{number}"
        sender = "whatsapp:" + (settings.twilio_whatsapp_number or settings.twilio_number).removeprefix("whatsapp:")
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token,
                    http_client=twilio_http_client(settings.twilio_api_url))
    try:
        message = client.messages.create(to=number, from_=sender, body=text)
    except TwilioRestException as error:
        raise OutboundError(f"Twilio refused the message: HTTP {error.status}, code {error.code}") from None
    except Exception as error:  # noqa: BLE001 - a network failure, said without the message
        raise OutboundError(f"Twilio could not be reached: {type(error).__name__}") from None
    return str(message.sid)


def _post(url: str, what: str, **kwargs: Any) -> dict:
    try:
        reply = requests.post(url, timeout=TIMEOUT_SECONDS, **kwargs)
    except requests.RequestException as error:
        raise OutboundError(f"{what} could not be reached: {type(error).__name__}") from None
    try:
        body = reply.json()
    except ValueError:
        body = {}
    if not reply.ok or not body.get("ok"):
        raise OutboundError(f"{what} refused the message: HTTP {reply.status_code}")
    return body


def _send_telegram(settings: ProviderSettings, chat_id: str, text: str) -> str:
    base = (settings.telegram_api_url or TELEGRAM_API).rstrip("/")
    body = _post(f"{base}/bot{settings.telegram_token}/sendMessage", "Telegram",
                 json={"chat_id": chat_id, "text": text})
    return str((body.get("result") or {}).get("message_id", ""))


def _send_slack(settings: ProviderSettings, channel_id: str, text: str) -> str:
    base = (settings.slack_api_url or SLACK_API).rstrip("/") + "/"
    body = _post(f"{base}chat.postMessage", "Slack", json={"channel": channel_id, "text": text},
                 headers={"Authorization": f"Bearer {settings.slack_token}"})
    return str(body.get("ts", ""))
