"""The RabbitMQ event broker publishes each event encrypted (the real round trip through
RabbitMQ is in tests/e2e/test_cluster.py)."""
from __future__ import annotations

import asyncio
import json
from typing import Iterator

import pytest

from bot.crypto import TextCipher, generate_key
from components.encryption import read_event
from components.event_broker import EncryptedPikaEventBroker

EVENT = {"event": "user", "sender_id": "abc", "text": "she talks over me", "timestamp": 1.5}


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    made = asyncio.new_event_loop()
    yield made
    made.close()


def broker(monkeypatch: pytest.MonkeyPatch, keys: str, loop: asyncio.AbstractEventLoop) -> EncryptedPikaEventBroker:
    monkeypatch.setenv("RAPPORT_ENCRYPTION_KEYS", keys)
    return EncryptedPikaEventBroker("127.0.0.1", "guest", "guest", queues=["q"], exchange_name="x",
                                    event_loop=loop)


def test_events_leave_as_fernet_tokens_and_read_back(monkeypatch, loop):
    key = generate_key()
    message = broker(monkeypatch, key, loop)._message(EVENT, {"k": "v"})
    assert message.body.startswith(b"gAAAA") and b"talks over me" not in message.body
    assert message.headers == {"k": "v"} and message.delivery_mode == 2  # persistent, as Rasa's
    assert read_event(message.body, TextCipher([key])) == EVENT


def test_plain_json_from_rasas_own_broker_is_still_read():
    assert read_event(json.dumps(EVENT).encode(), TextCipher([generate_key()])) == EVENT


def test_no_key_stops_the_server_instead_of_publishing_words(monkeypatch, loop):
    with pytest.raises(RuntimeError, match="RAPPORT_ENCRYPTION_KEYS"):
        broker(monkeypatch, "", loop)
