"""The messaging channels (channels/, credentials.yml).

First the plain helpers, then credentials.yml as Rasa loads it, then a real `rasa run`
(tests/harness.py) with every channel switched on through environment variables: requests shaped
like Slack's, Twilio's and Telegram's webhooks, signed right or wrong. The bot's replies go out
through each provider's own SDK, pointed at a fake provider API on 127.0.0.1 that records them.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import subprocess
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.exceptions import InvalidConfigException
from twilio.request_validator import RequestValidator

from bot.identity import client_id
from channels.common import (
    channel_settings,
    expand_env,
    latest_buttons,
    numbered_options,
    payload_for_reply,
    replies_after,
)
from channels.telegram import client_message
from tests.harness import (
    MODEL,
    ROOT,
    channel_variables,
    free_port,
    server_env,
    start_action_server,
    start_rasa_server,
    stop,
    write_endpoints,
)

LEVEL_BUTTONS = [
    {"title": title, "payload": f'/answer{{"level":"{n}"}}'}
    for n, title in enumerate(["Not at all", "A little", "Somewhat", "Mostly", "Completely"], start=1)
]


# --- plain helpers -------------------------------------------------------------------------------

def test_expand_env_fills_set_variables_and_empties_unset_ones():
    env = {"TOKEN": "abc", "EMPTY": ""}
    assert expand_env("${TOKEN}", env) == "abc"
    assert expand_env("pre-${TOKEN}-post", env) == "pre-abc-post"
    assert expand_env("${EMPTY}", env) == ""
    assert expand_env("${NOT_SET}", env) == ""
    assert expand_env(None, env) == ""
    assert expand_env("no variables", env) == "no variables"


def test_a_channel_is_off_when_all_its_settings_are_empty_and_refused_when_half_set(monkeypatch):
    monkeypatch.delenv("X_TOKEN", raising=False)
    monkeypatch.delenv("X_SECRET", raising=False)
    credentials = {"token": "${X_TOKEN}", "secret": "${X_SECRET}", "extra": "fixed"}
    assert channel_settings("x", credentials, required=("token", "secret")) is None
    assert channel_settings("x", None, required=("token", "secret")) is None
    monkeypatch.setenv("X_TOKEN", "tok-4711")
    with pytest.raises(InvalidConfigException, match="secret") as refused:
        channel_settings("x", credentials, required=("token", "secret"))
    assert "tok-4711" not in str(refused.value)  # names the missing setting, never a value
    monkeypatch.setenv("X_SECRET", "s")
    assert channel_settings("x", credentials, required=("token", "secret"), optional=("extra",)) == {
        "token": "tok-4711", "secret": "s", "extra": "fixed"}


def test_numbered_options_read_like_an_sms():
    assert numbered_options(LEVEL_BUTTONS) == (
        "Reply 1-5: 1 not at all, 2 a little, 3 somewhat, 4 mostly, 5 completely")
    assert numbered_options([{"title": "Let's move on", "payload": "/deny"}]) == "Reply 1: let's move on"


def test_a_number_reply_picks_that_button_and_anything_else_stays_text():
    assert payload_for_reply("4", LEVEL_BUTTONS) == '/answer{"level":"4"}'
    assert payload_for_reply(" 1. ", LEVEL_BUTTONS) == '/answer{"level":"1"}'
    assert payload_for_reply("6", LEVEL_BUTTONS) is None
    assert payload_for_reply("0", LEVEL_BUTTONS) is None
    assert payload_for_reply("4 I guess", LEVEL_BUTTONS) is None
    assert payload_for_reply("4", []) is None


def test_only_the_latest_bot_turn_offers_buttons():
    asked = [UserUttered("hi"), BotUttered("How warm?", {"buttons": LEVEL_BUTTONS}), ActionExecuted("action_listen")]
    assert latest_buttons(asked) == LEVEL_BUTTONS
    assert latest_buttons([*asked, UserUttered("4"), BotUttered("Thanks.")]) == []
    assert latest_buttons([]) == []


def test_replies_after_finds_the_answer_to_one_message_or_none():
    events = [
        UserUttered("hi", message_id="m1"), BotUttered("hello"), BotUttered("ready?"),
        UserUttered("yes", message_id="m2"), BotUttered("first question"),
    ]
    assert [e.text for e in replies_after(events, "m1")] == ["hello", "ready?"]
    assert [e.text for e in replies_after(events, "m2")] == ["first question"]
    assert replies_after(events, "m3") is None


def test_telegram_answers_private_chats_only_and_start_greets():
    private = {"id": 77, "type": "private"}
    assert client_message({"update_id": 1, "message": {"chat": private, "text": "mostly"}}) == ("77", "mostly", None)
    assert client_message({"update_id": 2, "message": {"chat": private, "text": "/start"}}) == ("77", "/greet", None)
    assert client_message({"update_id": 3, "callback_query": {
        "id": "cb1", "data": "/deny", "message": {"chat": private}}}) == ("77", "/deny", "cb1")
    assert client_message({"update_id": 4, "message": {"chat": {"id": -5, "type": "group"}, "text": "hi"}}) is None
    assert client_message({"update_id": 5, "edited_message": {"chat": private, "text": "not at all"}}) is None
    assert client_message({"update_id": 6, "message": {"chat": private, "sticker": {}}}) is None


# --- credentials.yml as Rasa reads it --------------------------------------------------------------

CHANNEL_ENV_NAMES = channel_variables()


def load_channels() -> dict[str, Any]:
    from rasa.core.run import create_http_input_channels

    return {c.name(): c for c in create_http_input_channels(None, str(ROOT / "credentials.yml"))}


def test_credentials_without_variables_load_with_the_messaging_channels_off(monkeypatch):
    for name in CHANNEL_ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    channels = load_channels()
    assert set(channels) == {"rest", "socketio", "app", "telegram", "slack", "twilio"}
    assert not channels["telegram"].enabled and not channels["slack"].enabled and not channels["twilio"].enabled
    assert channels["socketio"].session_persistence is True
    assert channels["rest"].token == ""


def test_credentials_take_every_setting_from_the_environment(monkeypatch):
    values = {
        "TELEGRAM_ACCESS_TOKEN": "123:abc", "TELEGRAM_SECRET_TOKEN": "tg-secret",
        "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "slack-secret",
        "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "tw-token", "TWILIO_NUMBER": "+15550000000",
        "TWILIO_WEBHOOK_URL": "https://chat.example.org/webhooks/twilio/webhook", "RAPPORT_REST_TOKEN": "rest-token",
    }
    for name in CHANNEL_ENV_NAMES:
        monkeypatch.setenv(name, values.get(name, ""))
    channels = load_channels()
    telegram, slack, twilio = channels["telegram"], channels["slack"], channels["twilio"]
    assert (telegram.enabled, telegram.access_token, telegram.secret_token) == (True, "123:abc", "tg-secret")
    assert (slack.enabled, slack.slack_token, slack.slack_signing_secret) == (True, "xoxb-1", "slack-secret")
    assert (twilio.enabled, twilio.account_sid, twilio.auth_token, twilio.twilio_number) == (
        True, "AC1", "tw-token", "+15550000000")
    assert twilio.webhook_url == values["TWILIO_WEBHOOK_URL"]
    assert channels["rest"].token == "rest-token"


def test_a_half_configured_channel_stops_the_server(monkeypatch):
    for name in CHANNEL_ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC1")  # no auth token: signatures could not be checked
    with pytest.raises(InvalidConfigException, match="auth_token"):
        load_channels()


def test_twilio_without_its_public_webhook_url_does_not_start(monkeypatch):
    for name in CHANNEL_ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC1")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "tw-token")  # the signed URL would come from the request
    with pytest.raises(InvalidConfigException, match="webhook_url"):
        load_channels()


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


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does it for you)")
    fake = FakeProviders()
    data_dir = tmp_path_factory.mktemp("channels")
    port = free_port()
    env = server_env(
        data_dir,
        TELEGRAM_ACCESS_TOKEN="123456:TEST-token", TELEGRAM_SECRET_TOKEN=secrets.token_urlsafe(24),
        TELEGRAM_API_URL=fake.url,
        SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=secrets.token_hex(16), SLACK_API_URL=f"{fake.url}/api/",
        TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN=secrets.token_hex(16), TWILIO_NUMBER="+15550000000",
        TWILIO_WEBHOOK_URL="https://chat.example.org/webhooks/twilio/webhook", TWILIO_API_URL=fake.url,
        RAPPORT_REST_TOKEN="", RAPPORT_APP_TOKEN=secrets.token_urlsafe(24),
        RAPPORT_WEBCHAT_ORIGINS=f"{CHAT_SITE}, https://other.example.org",
    )
    actions, action_url = start_action_server(env, data_dir / "actions.log")
    endpoints = write_endpoints(data_dir / "endpoints.yml", action_url, data_dir / "tracker.db")
    token = secrets.token_urlsafe(16)
    rasa = None
    try:
        rasa, url = start_rasa_server(env, endpoints, token, data_dir / "rasa.log", port=port)
        yield Bot(url, token, env, fake)
    finally:
        if rasa:
            stop(rasa)
        stop(actions)
        fake.close()


def texts_to(calls: list[dict], key: str) -> str:
    return " ".join(str(call["body"].get(key, "")) for call in calls)


# Slack ---------------------------------------------------------------------------------------------

def slack_post(bot: Bot, body: dict, secret: str | None = None, timestamp: int | None = None,
               headers: dict[str, str] | None = None) -> requests.Response:
    raw = json.dumps(body).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    secret = bot.env["SLACK_SIGNING_SECRET"] if secret is None else secret
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + raw, hashlib.sha256).hexdigest()
    return requests.post(
        f"{bot.url}/webhooks/slack/webhook", data=raw, timeout=30,
        headers={"Content-Type": "application/json", "X-Slack-Request-Timestamp": str(timestamp),
                 "X-Slack-Signature": f"v0={digest}", **(headers or {})},
    )


def slack_dm(user: str, text: str, channel: str = "D0RAPPORT", channel_type: str = "im") -> dict:
    return {
        "token": "ignored", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
        "event_id": "Ev" + uuid.uuid4().hex[:10], "event_time": int(time.time()),
        "authorizations": [{"user_id": "UBOT"}],
        "event": {"type": "message", "channel_type": channel_type, "channel": channel, "user": user,
                  "text": text, "ts": f"{time.time():.6f}"},
    }


def test_slack_signed_direct_message_is_answered(bot: Bot):
    user = "U" + uuid.uuid4().hex[:8].upper()
    response = slack_post(bot, slack_dm(user, "hi"))
    assert response.status_code == 200
    [reply, *_] = bot.fake.wait_for(lambda c: c["path"] == "/api/chat.postMessage" and c["body"].get("channel") == "D0RAPPORT"
                                    and "not a therapist" in json.dumps(c["body"]))
    assert any(block.get("type") == "actions" for block in reply["body"].get("blocks") or [])  # start buttons
    [event] = bot.user_events("slack", user)
    assert (event["text"], event["input_channel"]) == ("hi", "slack")


def test_slack_request_with_a_bad_signature_is_rejected(bot: Bot):
    user = "U" + uuid.uuid4().hex[:8].upper()
    before = len(bot.fake.calls)
    wrong_secret = slack_post(bot, slack_dm(user, "hi"), secret="not-the-signing-secret")
    replayed_old = slack_post(bot, slack_dm(user, "hi"), timestamp=int(time.time()) - 600)
    assert wrong_secret.status_code == 400 and replayed_old.status_code == 400
    time.sleep(2)
    assert bot.user_events("slack", user) == []
    assert len(bot.fake.calls) == before


def test_a_slack_event_delivered_again_is_handled_once(bot: Bot):
    user = "U" + uuid.uuid4().hex[:8].upper()
    event = slack_dm(user, "check in")
    assert slack_post(bot, event).status_code == 200
    bot.fake.wait_for(lambda c: c["path"] == "/api/chat.postMessage" and "Not at all" in json.dumps(c["body"]))
    again = slack_post(bot, event, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"})
    assert again.status_code == 200
    time.sleep(3)
    assert [e["text"] for e in bot.user_events("slack", user)] == ["check in"]
    assert bot.tracker("slack", user)["slots"]["requested_slot"] == "team"


def test_slack_messages_in_shared_channels_are_not_answered(bot: Bot):
    user = "U" + uuid.uuid4().hex[:8].upper()
    response = slack_post(bot, slack_dm(user, "hi", channel="C0PUBLIC", channel_type="channel"))
    assert response.status_code == 200
    time.sleep(2)
    assert bot.user_events("slack", user) == []
    assert bot.fake.sent(lambda c: c["body"].get("channel") == "C0PUBLIC") == []


# Twilio --------------------------------------------------------------------------------------------

def twilio_post(bot: Bot, sender: str, body: str, sid: str | None = None, sign_with: str | None = None,
                to: str = "+15559990000") -> requests.Response:
    form = {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": bot.env["TWILIO_ACCOUNT_SID"],
            "From": sender, "To": to, "Body": body, "NumMedia": "0"}
    signature = RequestValidator(sign_with or bot.env["TWILIO_AUTH_TOKEN"]).compute_signature(
        bot.env["TWILIO_WEBHOOK_URL"], form)
    return requests.post(f"{bot.url}/webhooks/twilio/webhook", data=form, timeout=60,
                         headers={"X-Twilio-Signature": signature})


def twilio_sent_to(bot: Bot, number: str) -> list[dict]:
    return bot.fake.sent(lambda c: "/Messages.json" in c["path"] and c["body"].get("To") == number)


def test_twilio_signed_sms_check_in_with_numbered_replies(bot: Bot):
    sender = f"+1555{uuid.uuid4().int % 10**7:07d}"
    assert twilio_post(bot, sender, "hi").status_code == 204
    intro = texts_to(twilio_sent_to(bot, sender), "Body")
    assert "not a therapist" in intro and "Reply 1-3: 1 let's start, 2 tell me more, 3 not now" in intro
    assert {c["body"]["From"] for c in twilio_sent_to(bot, sender)} == {"+15559990000"}  # the number they wrote to

    sent = len(twilio_sent_to(bot, sender))
    assert twilio_post(bot, sender, "1").status_code == 204  # "Let's start"
    question = texts_to(twilio_sent_to(bot, sender)[sent:], "Body")
    assert "Reply 1-5: 1 not at all, 2 a little, 3 somewhat, 4 mostly, 5 completely" in question
    assert twilio_post(bot, sender, "4").status_code == 204  # "mostly"

    tracker = bot.tracker("twilio", sender)
    assert tracker["slots"]["team"] is not None and tracker["slots"]["requested_slot"] == "heard"
    assert [e["input_channel"] for e in tracker["events"] if e["event"] == "user"] == ["twilio"] * 3
    stored = export_checkins(bot.env)
    mine = [c for c in stored if c["client_id"] == client_id("twilio", sender, bot.env["RAPPORT_ID_SECRET"])]
    assert len(mine) == 1 and [(a["dimension"], a["score"]) for a in mine[0]["answers"]] == [("team", 4)]


def test_twilio_whatsapp_replies_come_from_the_whatsapp_number(bot: Bot):
    sender = f"whatsapp:+1555{uuid.uuid4().int % 10**7:07d}"
    assert twilio_post(bot, sender, "hi", to="whatsapp:+14155238886").status_code == 204
    assert {c["body"]["From"] for c in twilio_sent_to(bot, sender)} == {"whatsapp:+14155238886"}


def test_twilio_request_with_a_bad_signature_gets_403_and_never_reaches_the_bot(bot: Bot):
    sender = f"+1555{uuid.uuid4().int % 10**7:07d}"
    forged = twilio_post(bot, sender, "hi", sign_with="a-guessed-token")
    unsigned = requests.post(f"{bot.url}/webhooks/twilio/webhook", timeout=30,
                             data={"From": sender, "To": "+15559990000", "Body": "hi"})
    assert forged.status_code == 403 and unsigned.status_code == 403
    assert bot.user_events("twilio", sender) == []
    assert twilio_sent_to(bot, sender) == []


def test_twilio_redelivered_message_is_not_answered_twice(bot: Bot):
    sender = f"+1555{uuid.uuid4().int % 10**7:07d}"
    sid = "SM" + uuid.uuid4().hex
    assert twilio_post(bot, sender, "check in", sid=sid).status_code == 204
    assert twilio_post(bot, sender, "check in", sid=sid).status_code == 204
    assert len(bot.user_events("twilio", sender)) == 1
    bodies = [c["body"]["Body"] for c in twilio_sent_to(bot, sender)]
    assert len(bodies) == 2 * len(set(bodies))  # the same answer sent again, nothing new


def test_the_same_number_on_twilio_and_rest_is_two_conversations(bot: Bot):
    """Knowing a client's phone number must not let anyone post into their SMS conversation."""
    sender = f"+1555{uuid.uuid4().int % 10**7:07d}"
    assert twilio_post(bot, sender, "hi").status_code == 204
    assert twilio_post(bot, sender, "1").status_code == 204  # at the first question now
    taken = requests.post(f"{bot.url}/webhooks/rest/webhook", json={"sender": sender, "message": "5"}, timeout=60)
    assert taken.status_code == 200
    sms = bot.tracker("twilio", sender)
    assert sms["slots"]["team"] is None and sms["slots"]["requested_slot"] == "team"
    assert [e["text"] for e in sms["events"] if e["event"] == "user"] == ["hi", "/start_checkin"]  # "1": the 1st button
    assert [(e["text"], e["input_channel"]) for e in bot.user_events("rest", sender)] == [("5", "rest")]
    mine = [c for c in export_checkins(bot.env) if c["client_id"] == bot.conversation("twilio", sender)]
    assert len(mine) == 1 and mine[0]["answers"] == []


def test_the_conversation_store_holds_no_raw_sender_id_and_no_crisis_flag(bot: Bot):
    sender = f"+1555{uuid.uuid4().int % 10**7:07d}"
    assert twilio_post(bot, sender, "hi").status_code == 204
    assert twilio_post(bot, sender, "i want to end my life").status_code == 204
    assert "988" in texts_to(twilio_sent_to(bot, sender), "Body")  # it was read as a crisis
    with sqlite3.connect(Path(bot.env["RAPPORT_DATA_DIR"]) / "tracker.db") as db:
        dump = "\n".join(db.iterdump())
    assert bot.conversation("twilio", sender) in dump
    assert sender.lstrip("+") not in dump
    assert "crisis" not in dump.lower()


def test_an_open_rest_channel_refuses_to_listen_beyond_loopback(tmp_path: Path):
    env = server_env(tmp_path, RAPPORT_REST_TOKEN="")
    log = tmp_path / "rasa.log"
    with log.open("w") as out:
        proc = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "rasa"), "run", "--model", str(MODEL), "--credentials",
             str(ROOT / "credentials.yml"), "--interface", "0.0.0.0", "--port", str(free_port())],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=240,
        )
    assert proc.returncode != 0
    assert "RAPPORT_REST_TOKEN" in log.read_text()


# Telegram ------------------------------------------------------------------------------------------

def telegram_post(bot: Bot, update: dict, secret: str | None = None) -> requests.Response:
    headers = {} if secret == "" else {"X-Telegram-Bot-Api-Secret-Token": secret or bot.env["TELEGRAM_SECRET_TOKEN"]}
    return requests.post(f"{bot.url}/webhooks/telegram/webhook", json=update, headers=headers, timeout=60)


def telegram_text(chat_id: int, text: str) -> dict:
    return {"update_id": uuid.uuid4().int % 10**9, "message": {
        "message_id": 1, "date": int(time.time()), "text": text,
        "chat": {"id": chat_id, "type": "private", "first_name": "Test"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Test"}}}


def telegram_tap(chat_id: int, data: str) -> dict:
    return {"update_id": uuid.uuid4().int % 10**9, "callback_query": {
        "id": f"cb{uuid.uuid4().hex[:8]}", "data": data, "chat_instance": "1",
        "from": {"id": chat_id, "is_bot": False, "first_name": "Test"},
        "message": {"message_id": 2, "date": int(time.time()), "chat": {"id": chat_id, "type": "private"}}}}


def telegram_sent_to(bot: Bot, chat_id: int) -> list[dict]:
    return bot.fake.sent(lambda c: c["path"].endswith("/sendMessage") and str(c["body"].get("chat_id")) == str(chat_id))


def test_telegram_update_with_the_secret_is_answered_with_buttons(bot: Bot):
    chat_id = uuid.uuid4().int % 10**9
    response = telegram_post(bot, telegram_text(chat_id, "/start"))
    assert response.status_code == 200
    sent = telegram_sent_to(bot, chat_id)
    assert "not a therapist" in texts_to(sent, "text")
    assert all(c["path"].startswith("/bot123456:TEST-token/") for c in sent)
    keyboard = json.loads(sent[-1]["body"]["reply_markup"]) if isinstance(sent[-1]["body"].get("reply_markup"), str) \
        else sent[-1]["body"]["reply_markup"]
    assert [row[0]["text"] for row in keyboard["inline_keyboard"]] == ["Let's start", "Tell me more", "Not now"]

    tap = telegram_tap(chat_id, "/start_checkin")
    assert telegram_post(bot, tap).status_code == 200
    assert bot.fake.sent(lambda c: c["path"].endswith("/answerCallbackQuery")
                         and c["body"].get("callback_query_id") == tap["callback_query"]["id"])
    question = telegram_sent_to(bot, chat_id)[-1]["body"]
    markup = question["reply_markup"] if isinstance(question["reply_markup"], dict) else json.loads(question["reply_markup"])
    assert [row[0]["text"] for row in markup["inline_keyboard"]] == [b["title"] for b in LEVEL_BUTTONS]
    assert [e["input_channel"] for e in bot.user_events("telegram", str(chat_id))] == ["telegram", "telegram"]


def test_telegram_update_with_a_wrong_or_missing_secret_gets_403(bot: Bot):
    chat_id = uuid.uuid4().int % 10**9
    assert telegram_post(bot, telegram_text(chat_id, "hi"), secret="wrong-secret").status_code == 403
    assert telegram_post(bot, telegram_text(chat_id, "hi"), secret="").status_code == 403
    assert bot.user_events("telegram", str(chat_id)) == []
    assert telegram_sent_to(bot, chat_id) == []


def test_telegram_redelivered_update_is_handled_once(bot: Bot):
    chat_id = uuid.uuid4().int % 10**9
    update = telegram_text(chat_id, "check in")
    assert telegram_post(bot, update).status_code == 200
    assert telegram_post(bot, update).status_code == 200
    assert len(bot.user_events("telegram", str(chat_id))) == 1


# The web chat's socket.io channel ------------------------------------------------------------------

CHAT_SITE = "https://chat.example.org"


class ChatSocket:
    """One web chat connection (python-socketio's client, long-polling: its websocket client
    needs a newer aiohttp than Rasa pins; the browser test goes over a websocket)."""

    def __init__(self, url: str) -> None:
        import asyncio

        import socketio

        self.url, self.client = url, socketio.AsyncClient()
        self.confirmations: asyncio.Queue = asyncio.Queue()
        self.replies: list[dict] = []
        self.client.on("session_confirm", self.confirmations.put_nowait)
        self.client.on("bot_uttered", self.replies.append)

    async def open(self, token: object = None) -> dict:
        import asyncio

        if not self.client.connected:
            await self.client.connect(self.url, transports=["polling"])
        await self.client.emit("session_request", {} if token is None else {"session_token": token})
        return await asyncio.wait_for(self.confirmations.get(), 20)

    async def say(self, text: str, **extra: object) -> None:
        await self.client.emit("user_uttered", {"message": text, **extra})

    async def until_replies(self, count: int, timeout: float = 60) -> None:
        import asyncio

        async def wait() -> None:
            while len(self.replies) < count:
                await asyncio.sleep(0.05)

        await asyncio.wait_for(wait(), timeout)

    async def close(self) -> None:
        await self.client.disconnect()


def session_in(token: str) -> str:
    return token.split(".")[1]


def test_socketio_sessions_are_issued_by_the_server_and_survive_a_reload(bot: Bot):
    import asyncio

    async def scenario() -> tuple[dict, dict, list[dict], list[dict]]:
        page, reloaded = ChatSocket(bot.url), ChatSocket(bot.url)
        try:
            first = await page.open()  # a first visit asks with nothing
            await page.say("hi")
            await page.until_replies(1)
            await page.close()
            again = await reloaded.open(first["token"])  # the page kept the token
            await reloaded.say("what is this?")
            await reloaded.until_replies(1)
        finally:
            await page.close()
            await reloaded.close()
        return first, again, page.replies, reloaded.replies

    first, again, before, after = asyncio.run(scenario())
    session = session_in(first["token"])
    assert again == first and len(session) == 32
    assert first["route"] and session not in first["route"]  # the URL's routing key reveals nothing
    assert any("not a therapist" in (m.get("text") or "") for m in before)
    assert after, "the reloaded page gets the replies of its conversation"
    assert [e["text"] for e in bot.user_events("socketio", session)] == ["hi", "what is this?"]


def test_socketio_a_session_cannot_be_claimed_by_naming_it(bot: Bot):
    import asyncio

    async def scenario() -> tuple[dict, list[dict], list[str], list[dict]]:
        owner, intruder = ChatSocket(bot.url), ChatSocket(bot.url)
        issued: list[str] = []
        try:
            mine = await owner.open()
            session = session_in(mine["token"])
            await owner.say("hi")
            await owner.until_replies(1)
            # Every way of naming the owner's session without its signed token:
            for shown in (session, f"v1.{session}.{'0' * 64}", f"v1.{session}", mine["token"][:-1] + "x",
                          {"session": session}, "x" * 10_000):
                issued.append(session_in((await intruder.open(shown))["token"]))
            await intruder.say("delete my data", session_id=session)
            await intruder.until_replies(1)
        finally:
            await owner.close()
            await intruder.close()
        return mine, owner.replies, issued, intruder.replies

    mine, owner_replies, issued, intruder_replies = asyncio.run(scenario())
    session = session_in(mine["token"])
    assert session not in issued and len(set(issued)) == len(issued)  # a new session each time
    assert [e["text"] for e in bot.user_events("socketio", session)] == ["hi"]
    assert [e["text"] for e in bot.user_events("socketio", issued[-1])] == ["delete my data"]
    assert intruder_replies and not any("delete" in (m.get("text") or "").lower() for m in owner_replies)


def test_socketio_a_socket_that_starts_a_new_session_leaves_the_old_one(bot: Bot):
    import asyncio

    async def scenario() -> tuple[list[dict], list[dict]]:
        shared, other_tab = ChatSocket(bot.url), ChatSocket(bot.url)
        try:
            old = await shared.open()
            await other_tab.open(old["token"])
            await shared.open()  # "Forget this chat": a new session on the same socket
            await other_tab.say("hi")
            await other_tab.until_replies(1)
            await asyncio.sleep(1)  # replies to the old session would have reached both by now
        finally:
            await shared.close()
            await other_tab.close()
        return shared.replies, other_tab.replies

    shared_replies, other_replies = asyncio.run(scenario())
    assert other_replies and shared_replies == []


def test_socketio_accepts_only_the_allowed_origins(bot: Bot):
    handshake = f"{bot.url}/socket.io/?EIO=4&transport=polling"
    assert requests.get(handshake, headers={"Origin": CHAT_SITE}, timeout=10).status_code == 200
    assert requests.get(handshake, headers={"Origin": "https://other.example.org"}, timeout=10).status_code == 200
    refused = requests.get(handshake, headers={"Origin": "https://evil.example"}, timeout=10)
    assert refused.status_code == 400
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_webchat_origins_setting_lists_sites_and_refuses_a_wildcard():
    from channels.socketio import allowed_origins

    assert allowed_origins("") is None  # the server's own origin only
    assert allowed_origins("https://a.example/, http://127.0.0.1:8080") == ["https://a.example", "http://127.0.0.1:8080"]
    with pytest.raises(ValueError):
        allowed_origins("*")


# The retry-safe app channel --------------------------------------------------------------------------

def app_post(bot: Bot, sender: str, text: str, message_id: str, token: str | None = None) -> requests.Response:
    return requests.post(f"{bot.url}/webhooks/app/webhook", timeout=60,
                         json={"sender": sender, "message": text, "message_id": message_id},
                         headers={"Authorization": f"Bearer {bot.env['RAPPORT_APP_TOKEN'] if token is None else token}"})


def test_app_channel_needs_its_token(bot: Bot):
    sender = uuid.uuid4().hex
    assert app_post(bot, sender, "hi", "m1", token="a-guess").status_code == 401
    bare = requests.post(f"{bot.url}/webhooks/app/webhook", json={"sender": sender, "message": "hi", "message_id": "m1"},
                         timeout=30)
    assert bare.status_code == 401 and bare.headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert bot.user_events("app", sender) == []
    assert app_post(bot, sender, "hi", "m2").status_code == 200


def test_app_channel_replays_a_retried_message_instead_of_applying_it_twice(bot: Bot):
    sender = uuid.uuid4().hex
    app_post(bot, sender, "check in", "m1")
    first = app_post(bot, sender, "mostly", "m2")
    retry = app_post(bot, sender, "mostly", "m2")
    assert first.status_code == retry.status_code == 200
    assert retry.headers.get("X-Rapport-Replayed") == "true" and "X-Rapport-Replayed" not in first.headers
    assert [m.get("text") for m in retry.json()] == [m.get("text") for m in first.json()]
    tracker = bot.tracker("app", sender)
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == ["check in", "mostly"]
    assert tracker["slots"]["requested_slot"] == "heard"  # the retry did not answer the 2nd question


@pytest.mark.parametrize("body", [
    {"sender": "short", "message": "hi", "message_id": "m1"},           # guessable sender id
    {"sender": uuid.uuid4().hex, "message": "hi"},                       # no message id
    {"sender": uuid.uuid4().hex, "message": "", "message_id": "m1"},
    {"sender": uuid.uuid4().hex, "message": ["hi"], "message_id": "m1"},
])
def test_app_channel_refuses_unsafe_requests(bot: Bot, body: dict):
    response = requests.post(f"{bot.url}/webhooks/app/webhook", json=body, timeout=30,
                             headers={"Authorization": f"Bearer {bot.env['RAPPORT_APP_TOKEN']}"})
    assert response.status_code == 400


# ------------------------------------------------------------------------------------------------

def export_checkins(env: dict[str, str]) -> list[dict]:
    import sys

    result = subprocess.run([sys.executable, "-m", "bot.review", "export", "--format", "json"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)
