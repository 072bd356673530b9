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
import secrets

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


# --- web chat sessions -----------------------------------------------------------------------------
# The web chat's conversation is named by a random session id that only the server makes. The page
# keeps it as a signed token (in its own storage, never in a URL) and shows it again on each
# (re)connection; a token that does not verify is replaced by a new session, so no socket can
# claim a conversation by naming it.

_SESSION_ID = re.compile(r"[0-9a-f]{32}")
_TOKEN_VERSION = "v1"


def _session_key(secret: str) -> bytes:
    if not secret:
        raise ValueError("an id secret is required (set RAPPORT_ID_SECRET)")
    return hmac.new(secret.encode("utf-8"), b"rapport web chat session v1", hashlib.sha256).digest()


def new_session_id() -> str:
    return secrets.token_hex(16)


def session_token(session_id: str, secret: str) -> str:
    """`v1.<session id>.<HMAC-SHA256 of it, hex>`: what the page keeps to find its conversation again."""
    if not _SESSION_ID.fullmatch(session_id):
        raise ValueError("a session id is 32 lowercase hex characters (new_session_id)")
    mac = hmac.new(_session_key(secret), session_id.encode("ascii"), hashlib.sha256).hexdigest()
    return f"{_TOKEN_VERSION}.{session_id}.{mac}"


def session_of(token: object, secret: str) -> str | None:
    """The session id a token was issued for, or None if it is not one of ours."""
    if not isinstance(token, str) or len(token) > 200:
        return None
    version, _, rest = token.partition(".")
    session_id, _, _ = rest.partition(".")
    if version != _TOKEN_VERSION or not _SESSION_ID.fullmatch(session_id):
        return None
    return session_id if hmac.compare_digest(session_token(session_id, secret), token) else None


def session_route(session_id: str) -> str:
    """A key a load balancer can keep one conversation on one server by (it reveals nothing)."""
    return hashlib.sha256(f"route:{session_id}".encode("ascii")).hexdigest()[:16]
