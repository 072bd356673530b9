"""Sending one text to one phone number through Twilio (SMS, WhatsApp): the review page texts an
invitation code with it. Plain and synchronous (call it from a thread in async code); nothing is
stored here. (Messages inside a conversation, and the scheduler's, go out through the channels' own
output classes in channels/, which render buttons per channel.)

The API base URL comes from settings (TWILIO_API_URL), as for the Twilio channel, so a test double or
an egress proxy can stand in for the provider. A refusal raises `OutboundError` with the provider's
status, never the text or the address.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot.vocabulary import SMS, WHATSAPP

TWILIO_API = "https://api.twilio.com"
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

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "ProviderSettings":
        def get(name: str) -> str:
            return (env.get(name) or "").strip()

        return cls(
            twilio_account_sid=get("TWILIO_ACCOUNT_SID"), twilio_auth_token=get("TWILIO_AUTH_TOKEN"),
            twilio_number=get("TWILIO_NUMBER"), twilio_whatsapp_number=get("TWILIO_WHATSAPP_NUMBER"),
            twilio_api_url=get("TWILIO_API_URL"),
        )

    def can_send(self, channel: str) -> bool:
        if channel == SMS:
            return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_number)
        if channel == WHATSAPP:
            return bool(self.twilio_account_sid and self.twilio_auth_token
                        and (self.twilio_whatsapp_number or self.twilio_number))
        return False


def send_text(settings: ProviderSettings, channel: str, address: str, text: str) -> str:
    """Send `text` to `address` on `channel` (sms, whatsapp, or a binding's Rasa channel name:
    "twilio" is SMS, or WhatsApp for a "whatsapp:" address); returns Twilio's message id. The
    address is a phone number (E.164, "whatsapp:" optional)."""
    if channel == TWILIO_CHANNEL:
        channel = WHATSAPP if address.startswith("whatsapp:") else SMS
    if not settings.can_send(channel):
        raise OutboundError(f"the {channel} channel is not configured for sending")
    return _send_twilio(settings, channel, address, text)


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

