"""Rasa's RabbitMQ event broker, publishing each event encrypted.

Every event Rasa streams (the client's messages included) is published as a Fernet token made
with the same keys as the stores (components/encryption.py), not as plain JSON, so the queue
holds no words in the clear. A consumer reads an event with `components.encryption.read_event`.
Configured in endpoints.production.yml (`type: components.event_broker.EncryptedPikaEventBroker`).
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

import aio_pika
from rasa.core.brokers.pika import PikaEventBroker

from components.encryption import encrypt_event, settings_cipher


class EncryptedPikaEventBroker(PikaEventBroker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.cipher = settings_cipher()
        super().__init__(*args, **kwargs)

    def _message(self, event: Dict[Text, Any], headers: Optional[Dict[Text, Text]]) -> aio_pika.Message:
        return aio_pika.Message(
            encrypt_event(event, self.cipher).encode("ascii"),
            headers=headers,
            app_id=self.rasa_environment,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
