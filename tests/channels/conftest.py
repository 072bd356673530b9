"""A real `rasa run` (tests/harness.py) with every channel switched on through environment
variables, started once for all the channel tests; replies go to a fake provider API on 127.0.0.1.
"""
from __future__ import annotations

import secrets
from typing import Iterator

import pytest

from tests.channels.providers import CHAT_SITE, Bot, FakeProviders
from tests.harness import (
    MODEL,
    free_port,
    server_env,
    start_action_server,
    start_rasa_server,
    stop,
    write_endpoints,
)


@pytest.fixture(scope="session")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    """Started once for every channel test file (session scope), stopped at the end."""
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
        RAPPORT_PRACTICE_CONTACT="020 7946 0000",
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
