"""Pseudonymous client ids.

A client is stored under a keyed hash of where they talk to us (channel) and who they are
there (sender id), never under the raw sender id (often a phone number or account handle).
Without the secret the id cannot be linked back to a person; with the same secret the same
person on the same channel always gets the same id, so check-ins line up over time.
"""
from __future__ import annotations

import hashlib
import hmac
import re

# A unit separator keeps ("ab", "c") and ("a", "bc") from hashing alike.
_SEPARATOR = "\x1f"
_PSEUDONYM = re.compile(r"[0-9a-f]{64}")


def client_id(channel: str, sender_id: str, secret: str) -> str:
    """HMAC-SHA256(secret, channel + separator + sender_id) as 64 lowercase hex characters."""
    if not secret:
        raise ValueError("an id secret is required (set RAPPORT_ID_SECRET)")
    if not channel or not sender_id:
        raise ValueError("channel and sender_id must be non-empty")
    message = f"{channel}{_SEPARATOR}{sender_id}".encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def is_pseudonym(value: str) -> bool:
    """Whether `value` has the shape of a client id (64 lowercase hex characters)."""
    return bool(_PSEUDONYM.fullmatch(value or ""))
