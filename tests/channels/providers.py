"""The running bot the channel tests talk to (its replies go to tests.harness.FakeProviders, a fake
of the providers' APIs that records what the bot sends), and helpers; the `bot` fixture (tests/channels/conftest.py) starts it once per session.
"""
from __future__ import annotations

import json
import subprocess
import uuid

import requests

from bot.identity import client_id
from tests.harness import (  # noqa: F401 (FakeProviders re-exported for the channel tests)
    ROOT,
    FakeProviders,
)

LEVEL_BUTTONS = [
    {"title": title, "payload": f'/answer{{"level":"{n}"}}'}
    for n, title in enumerate(["Not at all", "A little", "Somewhat", "Mostly", "Completely"], start=1)
]


CHAT_SITE = "https://chat.example.org"


# --- the real server, every channel on --------------------------------------------------------------

class Bot:
    def __init__(self, url: str, token: str, env: dict[str, str], fake: FakeProviders) -> None:
        self.url, self.token, self.env, self.fake = url, token, env, fake

    def conversation(self, channel: str, sender: str) -> str:
        """The id Rasa keeps `sender`'s conversation on `channel` under (never the raw id)."""
        return client_id(channel, sender, self.env["RAPPORT_ID_SECRET"])

    def tracker(self, channel: str, sender: str) -> dict:
        response = requests.get(f"{self.url}/conversations/{self.conversation(channel, sender)}/tracker",
                                params={"token": self.token}, timeout=30)
        response.raise_for_status()
        return response.json()

    def user_events(self, channel: str, sender: str) -> list[dict]:
        return [e for e in self.tracker(channel, sender)["events"] if e["event"] == "user"]


def texts_to(calls: list[dict], key: str) -> str:
    return " ".join(str(call["body"].get(key, "")) for call in calls)


def export_checkins(env: dict[str, str]) -> list[dict]:
    import sys

    result = subprocess.run([sys.executable, "-m", "bot.review", "export", "--format", "json"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def twilio_post(bot: Bot, sender: str, body: str, sid: str | None = None, sign_with: str | None = None,
                to: str = "+15559990000") -> requests.Response:
    """A client's SMS as Twilio posts it to the webhook, signed (with the right token unless told)."""
    from twilio.request_validator import RequestValidator

    form = {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": bot.env["TWILIO_ACCOUNT_SID"],
            "From": sender, "To": to, "Body": body, "NumMedia": "0"}
    signature = RequestValidator(sign_with or bot.env["TWILIO_AUTH_TOKEN"]).compute_signature(
        bot.env["TWILIO_WEBHOOK_URL"], form)
    return requests.post(f"{bot.url}/webhooks/twilio/webhook", data=form, timeout=60,
                         headers={"X-Twilio-Signature": signature})


def twilio_sent_to(bot: Bot, number: str) -> list[dict]:
    return bot.fake.sent(lambda c: "/Messages.json" in c["path"] and c["body"].get("To") == number)
