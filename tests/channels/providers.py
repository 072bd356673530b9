"""The channel tests' fake provider API (records what the bot sends), the running bot they talk
to, and helpers; the `bot` fixture (tests/channels/conftest.py) starts it once per session.
"""
from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import requests

from bot.identity import client_id
from tests.harness import (
    ROOT,
)

LEVEL_BUTTONS = [
    {"title": title, "payload": f'/answer{{"level":"{n}"}}'}
    for n, title in enumerate(["Not at all", "A little", "Somewhat", "Mostly", "Completely"], start=1)
]


CHAT_SITE = "https://chat.example.org"


# --- a fake provider API: records what the bot sends -----------------------------------------------

class FakeProviders:
    """Telegram's, Slack's and Twilio's APIs, as far as the bot uses them, on 127.0.0.1."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                kind = self.headers.get("Content-Type", "")
                if "json" in kind:
                    body = json.loads(raw or b"{}")
                else:
                    body = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
                with fake.lock:
                    fake.calls.append({"path": self.path, "body": body})
                status, reply = fake.answer(self.path, body)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def answer(path: str, body: dict) -> tuple[int, dict]:
        if path.startswith("/bot"):  # Telegram
            if path.endswith("/sendMessage"):
                return 200, {"ok": True, "result": {
                    "message_id": 1, "date": int(time.time()),
                    "chat": {"id": int(body.get("chat_id", 0)), "type": "private"}, "text": body.get("text", "")}}
            return 200, {"ok": True, "result": True}
        if path.startswith("/api/"):  # Slack
            return 200, {"ok": True, "channel": body.get("channel"), "ts": f"{time.time():.6f}"}
        if "/Messages.json" in path:  # Twilio
            return 201, {"sid": "SM" + uuid.uuid4().hex, "status": "queued", "body": body.get("Body"),
                         "to": body.get("To"), "from": body.get("From")}
        return 404, {"ok": False}

    def sent(self, match: Callable[[dict], bool]) -> list[dict]:
        with self.lock:
            return [call for call in self.calls if match(call)]

    def wait_for(self, match: Callable[[dict], bool], count: int = 1, timeout: float = 60) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.sent(match)
            if len(found) >= count:
                return found
            time.sleep(0.2)
        raise AssertionError(f"the bot did not send it in {timeout}s; it sent: {self.calls[-5:]}")

    def close(self) -> None:
        self.server.shutdown()


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
