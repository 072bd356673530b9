"""credentials.yml as Rasa loads it: every setting from the environment."""
from __future__ import annotations

from typing import Any

import pytest
from rasa.shared.exceptions import InvalidConfigException

from tests.harness import (
    ROOT,
    channel_variables,
)

# --- credentials.yml as Rasa reads it --------------------------------------------------------------

CHANNEL_ENV_NAMES = channel_variables()


def load_channels() -> dict[str, Any]:
    from rasa.core.run import create_http_input_channels

    return {c.name(): c for c in create_http_input_channels(None, str(ROOT / "credentials.yml"))}


def test_credentials_without_variables_load_with_the_messaging_channels_off(monkeypatch):
    for name in CHANNEL_ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    channels = load_channels()
    assert set(channels) == {"ops", "rest", "socketio", "app", "telegram", "slack", "twilio"}
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
