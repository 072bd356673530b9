"""Rasa's RabbitMQ event broker, publishing each event encrypted.

Every event Rasa streams (the client's messages included) is published as a Fernet token made
with the same keys as the stores (RAPPORT_ENCRYPTION_KEYS, newest first), not as plain JSON, so
the queue holds no words in the clear. A consumer reads an event with `read_event`.
Configured in endpoints.production.yml (`type: components.event_broker.EncryptedPikaEventBroker`).
"""
from __future__ import annotations

import json
from typing import Any, Dict, Optional, Text

import aio_pika
from rasa.core.brokers.pika import PikaEventBroker

from bot.config import load_settings
from bot.crypto import TextCipher


def read_event(body: bytes, cipher: TextCipher) -> Dict[Text, Any]:
    """One event from a message body: a Fernet token, or plain JSON (Rasa's own broker)."""
    text = body.decode("utf-8")
    return json.loads(text if text.startswith("{") else cipher.decrypt(text))


class EncryptedPikaEventBroker(PikaEventBroker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        keys = load_settings().encryption_keys
        if not keys:
            raise RuntimeError("RAPPORT_ENCRYPTION_KEYS is not set: the event broker encrypts events")
        try:
            self.cipher = TextCipher(keys)
        except ValueError as exc:
            raise RuntimeError(f"RAPPORT_ENCRYPTION_KEYS is invalid: {exc}") from None
        super().__init__(*args, **kwargs)

    def _message(self, event: Dict[Text, Any], headers: Optional[Dict[Text, Text]]) -> aio_pika.Message:
        return aio_pika.Message(
            self.cipher.encrypt(json.dumps(event)).encode("ascii"),
            headers=headers,
            app_id=self.rasa_environment,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
