"""The review page's settings, from the environment / `.env` (see `load_review_settings`).

    RAPPORT_REVIEW_PORT              port (default 5080)
    RAPPORT_PROXIES_COUNT            proxies in front that add to X-Forwarded-For (default 0: ignored)
    RAPPORT_FORWARDED_SECRET         trust a `Forwarded` header only with this secret (default: ignored)
    RAPPORT_REVIEW_USER              the bootstrap admin's user name (required; staff accounts are
                                     in the database: docs/practice.md)
    RAPPORT_REVIEW_PASSWORD_HASH     its password hash: python -m bot.web hash-password (required)
    RAPPORT_REVIEW_SECRET            signs session cookies, >= 32 chars: python -m bot.web new-secret
    RAPPORT_REVIEW_SESSION_MINUTES   a login lasts this long (default 30)
    RAPPORT_REVIEW_API_TOKEN         bearer token for the JSON API (empty: API by login only)
    RAPPORT_REVIEW_HOST              the address to listen on (default 127.0.0.1)
    RAPPORT_REVIEW_COOKIE_SECURE     Secure cookies and HSTS (HTTPS only); empty: on whenever the
                                     host is not loopback, off on 127.0.0.1 (plain-HTTP development)
    RAPPORT_ALERT_TOTAL_BELOW        alert when a check-in's total (of 25) is below this (15)
    RAPPORT_FHIR_IDENTIFIER_SYSTEM   the practice's URI for client ids in FHIR exports (bot.fhir)
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from bot import fhir
from bot.config import Settings, is_loopback, load_settings
from bot.insights import DEFAULT_TOTAL_BELOW, MAX_TOTAL
from bot.web.auth import MIN_SECRET_LENGTH, ConfigError, check_hash_format

HOST = "127.0.0.1"
DEFAULT_PORT = 5080
DEFAULT_SESSION_MINUTES = 30.0
MIN_API_TOKEN_LENGTH = 32


@dataclass(frozen=True)
class ReviewSettings:
    base: Settings
    user: str
    password_hash: str
    secret: str
    port: int = DEFAULT_PORT
    session_minutes: float = DEFAULT_SESSION_MINUTES
    api_token: str = ""
    cookie_secure: bool = False
    total_below: float = DEFAULT_TOTAL_BELOW
    host: str = HOST
    proxies_count: int = 0
    forwarded_secret: str = ""


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {raw!r}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def load_review_settings(env: Mapping[str, str] | None = None) -> ReviewSettings:
    """Read and check every review setting; ConfigError says what is missing and how to fix it."""
    base = load_settings(env)
    env = os.environ if env is None else env
    user = (env.get("RAPPORT_REVIEW_USER") or "").strip()
    password_hash = (env.get("RAPPORT_REVIEW_PASSWORD_HASH") or "").strip()
    secret = env.get("RAPPORT_REVIEW_SECRET") or ""
    missing = [
        name
        for name, value in (
            ("RAPPORT_REVIEW_USER", user),
            ("RAPPORT_REVIEW_PASSWORD_HASH", password_hash),
            ("RAPPORT_REVIEW_SECRET", secret),
        )
        if not value
    ]
    if missing:
        raise ConfigError(
            f"set {', '.join(missing)} in .env (password hash: .venv/bin/python -m bot.web "
            "hash-password; secret: .venv/bin/python -m bot.web new-secret)"
        )
    check_hash_format(password_hash)
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"RAPPORT_REVIEW_SECRET must be at least {MIN_SECRET_LENGTH} characters "
            "(make one with: .venv/bin/python -m bot.web new-secret)"
        )
    host = (env.get("RAPPORT_REVIEW_HOST") or "").strip() or HOST
    try:  # checked here so a bad value stops the app at start, not its FHIR export later
        fhir.identifier_system(env)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    api_token = (env.get("RAPPORT_REVIEW_API_TOKEN") or "").strip()
    if api_token and len(api_token) < MIN_API_TOKEN_LENGTH:
        raise ConfigError(
            f"RAPPORT_REVIEW_API_TOKEN must be at least {MIN_API_TOKEN_LENGTH} characters, or empty "
            "(make one with: .venv/bin/python -m bot.web new-secret)"
        )
    return ReviewSettings(
        base=base,
        user=user,
        password_hash=password_hash,
        secret=secret,
        port=int(_number(env, "RAPPORT_REVIEW_PORT", DEFAULT_PORT, 1, 65535)),
        session_minutes=_number(env, "RAPPORT_REVIEW_SESSION_MINUTES", DEFAULT_SESSION_MINUTES, 0.01, 24 * 60),
        api_token=api_token,
        # Off loopback the page is reached over a network, which must be HTTPS (a TLS proxy).
        cookie_secure=_flag(env, "RAPPORT_REVIEW_COOKIE_SECURE", default=not is_loopback(host)),
        total_below=_number(env, "RAPPORT_ALERT_TOTAL_BELOW", DEFAULT_TOTAL_BELOW, 0, MAX_TOTAL + 1),
        host=host,
        proxies_count=int(_number(env, "RAPPORT_PROXIES_COUNT", 0, 0, 10)),
        forwarded_secret=(env.get("RAPPORT_FORWARDED_SECRET") or "").strip(),
    )
