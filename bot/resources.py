"""Crisis resources by locale and the messages around them, read from bot/resources.yml."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

RESOURCES_FILE = Path(__file__).with_name("resources.yml")


@dataclass(frozen=True)
class Locale:
    code: str
    name: str
    lines: tuple[str, ...]
    emergency: str


@dataclass(frozen=True)
class Resources:
    locales: dict[str, Locale]
    aliases: dict[str, str]
    fallback: tuple[str, ...]
    messages: dict[str, str]


def _require(condition: bool, problem: str) -> None:
    if not condition:
        raise ValueError(f"{RESOURCES_FILE.name}: {problem}")


def parse_resources(raw: Any) -> Resources:
    """Validate the YAML structure (raises ValueError with the problem)."""
    _require(isinstance(raw, dict), "top level must be a mapping")
    locales: dict[str, Locale] = {}
    for code, entry in (raw.get("locales") or {}).items():
        _require(isinstance(entry, dict), f"locale {code} must be a mapping")
        lines = entry.get("lines") or []
        _require(bool(lines) and all(isinstance(x, str) and x.strip() for x in lines), f"locale {code} needs lines")
        emergency = entry.get("emergency")
        _require(isinstance(emergency, str) and bool(emergency.strip()), f"locale {code} needs emergency")
        locales[str(code).upper()] = Locale(str(code).upper(), str(entry.get("name") or code), tuple(lines), emergency)
    aliases = {str(k).upper(): str(v).upper() for k, v in (raw.get("aliases") or {}).items()}
    fallback = tuple(str(code).upper() for code in (raw.get("fallback") or []))
    messages = {str(k): str(v) for k, v in (raw.get("messages") or {}).items()}
    _require(bool(locales), "no locales")
    _require(bool(fallback), "no fallback locales")
    for code in (*aliases.values(), *fallback):
        _require(code in locales, f"unknown locale {code} in aliases/fallback")
    for key in ("crisis", "oncall", "oncall_no_name", "bullet", "safety_check", "safe_ack"):
        _require(key in messages, f"messages.{key} missing")
    return Resources(locales, aliases, fallback, messages)


@lru_cache(maxsize=1)
def load_resources() -> Resources:
    return parse_resources(yaml.safe_load(RESOURCES_FILE.read_text(encoding="utf-8")))


def resolve_locale(locale: str | None) -> tuple[str, ...]:
    """Locale codes whose resources apply: ("UK",) for "en-GB", the fallback for unknown ones."""
    resources = load_resources()
    text = (locale or "").strip().upper()
    candidates = [text] + [part for part in re.split(r"[-_.@\s]+", text) if part][::-1]
    for candidate in candidates:
        code = resources.aliases.get(candidate, candidate)
        if code in resources.locales:
            return (code,)
    return resources.fallback


def crisis_lines(locale: str | None) -> tuple[str, ...]:
    """The resource lines for a locale, helplines first, then emergency numbers (no duplicates)."""
    resources = load_resources()
    codes = resolve_locale(locale)
    lines: list[str] = []
    for code in codes:
        lines.extend(resources.locales[code].lines)
    for code in codes:
        lines.append(resources.locales[code].emergency)
    return tuple(dict.fromkeys(lines))


def crisis_message(
    locale: str, practice_name: str = "", oncall_number: str = "", paused_checkin: bool = True
) -> str:
    """The calm message sent when crisis language is detected: resources, the on-call line, and
    (when a check-in was under way) that it is paused."""
    messages = load_resources().messages
    bullet = messages["bullet"]
    resources = "\n".join(bullet + line for line in crisis_lines(locale))
    oncall = ""
    number = (oncall_number or "").strip()
    if number:
        practice = (practice_name or "").strip()
        template = messages["oncall"] if practice else messages["oncall_no_name"]
        oncall = "\n" + bullet + template.format(practice=practice, number=number)
    paused = messages["paused"] if paused_checkin else ""
    return messages["crisis"].format(resources=resources, oncall=oncall, paused=paused)


def safety_check_question(locale: str | None) -> str:
    """The gentle yes/no question asked when words are worrying but unclear. It names the
    locale's first helpline: someone who is in danger should not have to say "yes" to a bot
    before they see where to turn."""
    return load_resources().messages["safety_check"].format(line=crisis_lines(locale)[0])


def safe_ack_message() -> str:
    """The reply when the person says they are safe."""
    return load_resources().messages["safe_ack"]
