"""Encryption at rest for client free text (Fernet, with key rotation through MultiFernet).

Keys are Fernet keys (url-safe base64 of 32 random bytes), newest first. Every new token is
written with the newest key; older keys are kept only so data written before a rotation can
still be read. To rotate: generate a key, put it first in RAPPORT_ENCRYPTION_KEYS, run
`python -m bot.review rotate-keys` and `python -m components.tracker_store rotate-keys`, then
drop the old key.
"""
from __future__ import annotations

from typing import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class DecryptionError(ValueError):
    """A token is damaged or was written with a key that is not configured."""


def generate_key() -> str:
    """A fresh random Fernet key, as text."""
    return Fernet.generate_key().decode("ascii")


def configured_cipher(keys: Sequence[str]) -> "TextCipher":
    """The cipher for RAPPORT_ENCRYPTION_KEYS (newest first). ValueError saying what to do when
    none is set or one is invalid (never echoing a key)."""
    if not keys:
        raise ValueError(
            "no encryption key configured: set RAPPORT_ENCRYPTION_KEYS to one or more Fernet "
            "keys, newest first, comma-separated (make one with: .venv/bin/python -c "
            "'from bot.crypto import generate_key; print(generate_key())')"
        )
    try:
        return TextCipher(keys)
    except ValueError as exc:
        raise ValueError(f"RAPPORT_ENCRYPTION_KEYS is invalid: {exc}") from None


class TextCipher:
    """Encrypts and decrypts text with a list of Fernet keys, newest first."""

    def __init__(self, keys: Sequence[str]) -> None:
        if isinstance(keys, str):
            raise TypeError("keys must be a sequence of key strings, not one string")
        cleaned = [k.strip() for k in keys if k and k.strip()]
        if not cleaned:
            raise ValueError("at least one encryption key is required")
        fernets = []
        for position, key in enumerate(cleaned, start=1):
            try:
                fernets.append(Fernet(key.encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                # Never echo the key itself into logs or error messages.
                raise ValueError(
                    f"encryption key #{position} is not a valid Fernet key "
                    "(32 url-safe base64-encoded bytes; make one with bot.crypto.generate_key())"
                ) from None
        self._fernet = MultiFernet(fernets)
        self.key_count = len(fernets)

    def encrypt(self, text: str) -> str:
        """Encrypt `text` with the newest key; the token is plain ASCII."""
        if not isinstance(text, str):
            raise TypeError(f"can only encrypt str, got {type(text).__name__}")
        return self._fernet.encrypt(text.encode("utf-8", "surrogatepass")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Decrypt a token written with any configured key."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8", "surrogatepass")
        except (InvalidToken, UnicodeError, AttributeError) as exc:
            raise DecryptionError(
                "cannot decrypt stored text: it is damaged or was written with a key "
                "that is not in RAPPORT_ENCRYPTION_KEYS"
            ) from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt a token (written with any configured key) with the newest key."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError, AttributeError) as exc:
            raise DecryptionError(
                "cannot re-encrypt stored text: it is damaged or was written with a key "
                "that is not in RAPPORT_ENCRYPTION_KEYS"
            ) from exc
