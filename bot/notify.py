"""Optional practice webhook: a small JSON POST when something needs the practice's attention.

The payload is minimal by design: the caller passes the pseudonymous client id, the check-in id,
the kind of event (e.g. "crisis") and an ISO time. Keys that could carry the client's words
(`text`, `message`, ...) are stripped before sending, and nothing from the payload except its
kind is ever logged. Standard library only (urllib); failures are logged and reported as False,
never raised, so a conversation is never broken or blocked by the practice's server.
"""
from __future__ import annotations

import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Mapping
from urllib.parse import urlsplit

from bot import metrics

logger = logging.getLogger(__name__)

# Keys that might carry what the client wrote. Matched case-insensitively, also as part of a key
# ("user_text", "last_message").
_FORBIDDEN_KEY_PARTS = ("text", "message", "utterance", "words", "answer", "content", "body", "summary")


def _is_forbidden(key: str) -> bool:
    lowered = key.lower()
    return any(part in lowered for part in _FORBIDDEN_KEY_PARTS)


def clean_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload without any key that could hold the client's words (flat keys only)."""
    cleaned = {str(k): v for k, v in payload.items() if not _is_forbidden(str(k))}
    for key, value in cleaned.items():
        if isinstance(value, Mapping):
            cleaned[key] = clean_payload(value)
    return cleaned


def _retryable_status(status: int) -> bool:
    return status >= 500 or status == 429


def _kind(payload: Any) -> str:
    return str(payload.get("kind", "?"))[:40] if isinstance(payload, Mapping) else "?"


def notify_practice(
    webhook_url: str,
    payload: dict,
    *,
    timeout: float = 3.0,
    retries: int = 3,
    backoff: float = 0.5,
) -> bool:
    """POST `payload` as JSON to the practice webhook. True when the server answered 2xx.

    Makes at most 1 + `retries` attempts, each bounded by `timeout` seconds; retries on
    connection errors, timeouts, 5xx and 429, waiting `backoff`, 2x`backoff`, ... in between.
    A 4xx other than 429 is not retried. Never raises. Counted in bot/metrics.py by kind.
    """
    delivered = _deliver(webhook_url, payload, timeout=timeout, retries=retries, backoff=backoff)
    (metrics.ALERTS_DELIVERED if delivered else metrics.ALERTS_FAILED).labels(_kind(payload)).inc()
    return delivered


def _deliver(webhook_url: str, payload: dict, *, timeout: float, retries: int, backoff: float) -> bool:
    kind = "?"
    try:
        kind = _kind(payload)
        scheme = urlsplit(webhook_url or "").scheme.lower()
        if scheme not in ("http", "https"):
            logger.warning("practice webhook not sent (kind=%s): no http(s) URL configured", kind)
            return False
        if not isinstance(payload, Mapping):
            logger.warning("practice webhook not sent: payload is not a mapping")
            return False
        cleaned = clean_payload(payload)
        stripped = sorted(set(map(str, payload)) - set(cleaned))
        if stripped:
            logger.warning("practice webhook (kind=%s): removed keys that may hold client text: %s", kind, stripped)
        body = json.dumps(cleaned, default=str).encode("utf-8")
    except Exception as exc:  # noqa: BLE001 - never raise into a conversation
        logger.warning("practice webhook not sent (kind=%s): %s", kind, type(exc).__name__)
        return False

    attempts = 1 + max(0, int(retries))
    for attempt in range(1, attempts + 1):
        retry = False
        try:
            request = urllib.request.Request(
                webhook_url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", "User-Agent": "rapport-notify/1"},
            )
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) checked
                status = response.status
            if 200 <= status < 300:
                if attempt > 1:
                    logger.info("practice webhook delivered (kind=%s) on attempt %d", kind, attempt)
                return True
            logger.warning("practice webhook (kind=%s): unexpected status %d", kind, status)
            retry = _retryable_status(status)
        except urllib.error.HTTPError as exc:
            logger.warning("practice webhook (kind=%s) attempt %d/%d: HTTP %d", kind, attempt, attempts, exc.code)
            retry = _retryable_status(exc.code)
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            logger.warning(
                "practice webhook (kind=%s) attempt %d/%d failed: %s", kind, attempt, attempts, type(reason).__name__
            )
            retry = True
        except Exception as exc:  # noqa: BLE001 - never raise into a conversation
            logger.warning("practice webhook (kind=%s) attempt %d/%d: %s", kind, attempt, attempts, type(exc).__name__)
            retry = True
        if not retry:
            return False
        if attempt < attempts and backoff > 0:
            time.sleep(backoff * (2 ** (attempt - 1)))
    logger.error("practice webhook (kind=%s) gave up after %d attempts", kind, attempts)
    return False


def notify_in_background(
    webhook_url: str,
    payload: dict,
    *,
    timeout: float = 3.0,
    retries: int = 3,
    backoff: float = 0.5,
) -> threading.Thread:
    """Run `notify_practice` on a daemon thread and return at once (the thread, for tests to join)."""
    snapshot = dict(payload) if isinstance(payload, Mapping) else payload
    thread = threading.Thread(
        target=notify_practice,
        args=(webhook_url, snapshot),
        kwargs={"timeout": timeout, "retries": retries, "backoff": backoff},
        name="rapport-notify",
        daemon=True,
    )
    thread.start()
    return thread
