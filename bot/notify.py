"""One signed POST to the practice's webhook: what bot.outbox sends for each alert.

The payload is minimal by design: the pseudonymous client id, the check-in id, the kind of event
(e.g. "crisis") and times. Keys that could carry the client's words (`text`, `message`, ...) are
stripped before sending, and nothing from the payload except its kind is ever logged.

Each request is signed as the Standard Webhooks specification says (standardwebhooks.com), so the
practice's server can check that it came from us and was not replayed:

    webhook-id         the alert's id, the same on every retry (the receiver drops duplicates by it)
    webhook-timestamp  when this attempt was made, Unix seconds
    webhook-signature  "v1," + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}"))

where the key is RAPPORT_ALERT_SECRET without its `whsec_` prefix, base64-decoded. Eight lines of
the standard library; the `standardwebhooks` package (the specification's own library) verifies
them in the tests, so the two are checked against each other rather than against themselves.
Standard library only (urllib); failures are reported, never raised.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"

# Keys that might carry what the client wrote. Matched case-insensitively, also as part of a key
# ("user_text", "last_message").
_FORBIDDEN_KEY_PARTS = ("text", "message", "utterance", "words", "answer", "content", "body", "summary")


def _is_forbidden(key: str) -> bool:
    lowered = key.lower()
    return any(part in lowered for part in _FORBIDDEN_KEY_PARTS)


def clean_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload without any key that could hold the client's words (nested mappings too)."""
    cleaned = {str(k): v for k, v in payload.items() if not _is_forbidden(str(k))}
    for key, value in cleaned.items():
        if isinstance(value, Mapping):
            cleaned[key] = clean_payload(value)
    return cleaned


def signing_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret. Raises ValueError for anything else."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("RAPPORT_ALERT_SECRET must look like whsec_<base64> (scripts/ensure_env.py makes one)")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("RAPPORT_ALERT_SECRET: the part after whsec_ is not base64") from None
    if len(key) < 24:
        raise ValueError("RAPPORT_ALERT_SECRET is too short: use at least 24 random bytes")
    return key


def signature_headers(key: bytes, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    signed = f"{message_id}.{timestamp}.".encode() + body
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": f"v1,{signature}"}


def body_of(payload: Mapping[str, Any]) -> bytes:
    """The JSON body sent for `payload`, without any key that could hold the client's words."""
    cleaned = clean_payload(payload)
    stripped = sorted(set(map(str, payload)) - set(cleaned))
    if stripped:
        logger.warning("practice webhook (kind=%s): removed keys that may hold client text: %s",
                       str(payload.get("kind", "?"))[:40], stripped)
    return json.dumps(cleaned, default=str, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status: int | None = None  # the HTTP status, when the server answered
    error: str = ""  # what went wrong, in a word (never the payload or the URL)


def post(url: str, body: bytes, headers: Mapping[str, str], *, timeout: float = 5.0, kind: str = "?") -> Outcome:
    """One POST of `body` to `url`. Delivered when the server answered 2xx. Never raises."""
    if urlsplit(url or "").scheme.lower() not in ("http", "https"):
        logger.warning("practice webhook not sent (kind=%s): no http(s) URL configured", kind)
        return Outcome(False, error="no http(s) URL")
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "rapport-notify/2", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) checked
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        logger.warning("practice webhook (kind=%s) failed: %s", kind, type(reason).__name__)
        return Outcome(False, error=type(reason).__name__)
    except Exception as exc:  # noqa: BLE001 - never raise into the worker
        logger.warning("practice webhook (kind=%s) failed: %s", kind, type(exc).__name__)
        return Outcome(False, error=type(exc).__name__)
    if 200 <= status < 300:
        return Outcome(True, status)
    logger.warning("practice webhook (kind=%s): HTTP %d", kind, status)
    return Outcome(False, status, f"HTTP {status}")
