"""channels/slack.py against the real server: requests shaped like Slack's, signed right or wrong."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import requests

from tests.channels.providers import Bot

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
