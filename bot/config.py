"""Settings, read from the environment (and a local `.env`, if present).

Every setting is documented in `.env.example`. Nothing here talks to Rasa.
"""
from __future__ import annotations

import ipaddress
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, TypeVar

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def load_dotenv_file() -> None:
    """Adds the project's `.env` to the process environment (what is already set wins).

    `load_settings` calls it; so does the `channels` package, because Rasa reads the channels'
    settings from credentials.yml before anything else of ours runs, and a plain `rasa run`
    (without scripts/run.sh, which exports `.env`) would otherwise see every channel off.
    """
    try:
        from dotenv import load_dotenv
    except ImportError:  # pragma: no cover - python-dotenv is pinned in requirements
        return
    load_dotenv(PROJECT_ROOT / ".env", override=False)


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    # Secret for the keyed hash (HMAC) that turns channel + sender id into a pseudonymous client id.
    id_secret: str
    # Fernet keys, newest first; older keys are kept only to read data written before a rotation.
    encryption_keys: tuple[str, ...] = ()
    locale: str = "US"
    practice_name: str = "your practice"
    practice_contact: str = ""  # phone, e-mail or web page: the SMS HELP reply gives it
    oncall_number: str = ""
    alert_webhook: str = ""
    share_default: str = "share"  # "share" with the therapist, or "private"
    retention_days: int = 180
    # The scheduler (deploy/scheduler.py, docs/practice.md): Rasa's HTTP API, where it opens
    # conversations, with its token; how often it looks for due check-ins; and the time zone of
    # clients enrolled without one.
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = ""
    scheduler_tick_seconds: float = 60.0
    scheduler_interval_seconds: float = 86400.0  # between two retention purges
    default_timezone: str = "UTC"
    # Minutes a crisis event may wait unacknowledged before the practice's alert fires once more
    # (bot/triage.py); 0: never escalate.
    crisis_ack_minutes: int = 30
    extra: Mapping[str, str] = field(default_factory=dict)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from `env` (default: the process environment plus `.env`)."""
    if env is None:
        load_dotenv_file()
        env = os.environ
    data_dir = Path(env.get("RAPPORT_DATA_DIR") or PROJECT_ROOT / "var")
    database_url = env.get("RAPPORT_DATABASE_URL") or f"sqlite:///{data_dir / 'rapport.db'}"
    keys = tuple(k.strip() for k in (env.get("RAPPORT_ENCRYPTION_KEYS") or "").split(",") if k.strip())
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        id_secret=env.get("RAPPORT_ID_SECRET") or "",
        encryption_keys=keys,
        locale=(env.get("RAPPORT_LOCALE") or "US").upper(),
        practice_name=env.get("RAPPORT_PRACTICE_NAME") or "your practice",
        practice_contact=(env.get("RAPPORT_PRACTICE_CONTACT") or "").strip(),
        oncall_number=env.get("RAPPORT_ONCALL_NUMBER") or "",
        alert_webhook=env.get("RAPPORT_ALERT_WEBHOOK") or "",
        share_default=(env.get("RAPPORT_SHARE_DEFAULT") or "share").lower(),
        retention_days=number_setting(env, "RAPPORT_RETENTION_DAYS", 180, unit="days", least=1),
        rasa_url=(env.get("RAPPORT_RASA_URL") or "http://127.0.0.1:5005").rstrip("/"),
        rasa_token=env.get("RASA_AUTH_TOKEN") or "",
        scheduler_tick_seconds=number_setting(env, "RAPPORT_SCHEDULER_TICK_SECONDS", 60.0, unit="seconds", least=1),
        scheduler_interval_seconds=number_setting(
            env, "RAPPORT_SCHEDULER_INTERVAL_SECONDS", 86400.0, unit="seconds", least=1
        ),
        default_timezone=env.get("RAPPORT_TIMEZONE") or "UTC",
        crisis_ack_minutes=number_setting(env, "RAPPORT_CRISIS_ACK_MINUTES", 30, unit="minutes"),
        extra={k: v for k, v in env.items() if k.startswith("RAPPORT_")},
    )


N = TypeVar("N", int, float)


def number_setting(
    env: Mapping[str, str], name: str, default: N, *, unit: str, least: N = 0, most: N | None = None
) -> N:
    """The numeric setting `name` in `env`, in `unit`s from `least` to `most`; `default` when unset.

    A whole number when `default` is an int, any finite number when it is a float. A bad value is a
    ValueError that names the setting and says what it must be, e.g. "RAPPORT_RETENTION_DAYS must be
    a whole number of days (at least 1), got 'abc'".
    """
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    kind = type(default)
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < least or (most is not None and value > most):
        number = "a whole number" if kind is int else "a number"
        bounds = f"from {least:g} to {most:g}" if most is not None else f"at least {least:g}" if least else "not negative"
        raise ValueError(f"{name} must be {number} of {unit} ({bounds}), got {raw!r}")
    return value


def is_loopback(host: str | None) -> bool:
    """Whether a listening address is reachable from this machine only ("localhost", 127.0.0.0/8, ::1)."""
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:  # "", a host name: not provably loopback
        return False
