"""Encrypted Rasa events, shared by the tracker store and the event broker.

Each event's JSON is a Fernet token made with RAPPORT_ENCRYPTION_KEYS (newest first), the keys
the check-in store uses. Plain JSON (written before, or by Rasa's own classes) is still read.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Optional, Text, Union

from bot.config import Settings, load_settings
from bot.crypto import TextCipher, configured_cipher


def settings_cipher(settings: Optional[Settings] = None) -> TextCipher:
    """The cipher for RAPPORT_ENCRYPTION_KEYS; RuntimeError (the server must not start) without one."""
    try:
        return configured_cipher((settings or load_settings()).encryption_keys)
    except ValueError as exc:
        raise RuntimeError(str(exc)) from None


def encrypt_event(event: Dict[Text, Any], cipher: TextCipher) -> str:
    return cipher.encrypt(json.dumps(event))


def read_event(stored: Union[str, bytes], cipher: TextCipher) -> Dict[Text, Any]:
    """One event from its stored or published form: a Fernet token, or plain JSON."""
    text = stored.decode("utf-8") if isinstance(stored, bytes) else stored
    return json.loads(text if text.startswith("{") else cipher.decrypt(text))
