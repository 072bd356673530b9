"""Invitations and the words around enrolment: plain logic, no Rasa, no database.

A clinician enrols a client (bot/store/enrolment.py) and makes an invitation for one channel:

- web chat: a link to the web chat page with `?invite=<code>`, the code a long URL-safe token;
- Telegram: a deep link `https://t.me/<bot>?start=<code>` (Telegram allows [A-Za-z0-9_-], at
  most 64 characters), which makes Telegram send "/start <code>" when the client taps Start;
- SMS / WhatsApp: a short code, easy to read and type (6 characters, no 0/O or 1/I/L), that the
  client texts back ("JOIN 4K7P2Q", or just the code).

Only a keyed hash of a code is stored (HMAC-SHA256 with RAPPORT_ID_SECRET, see `code_hash`); the
hash also covers where the code may be used (the web chat, Telegram or Twilio), so a short SMS
code cannot be tried through the web chat. A code works once, until it expires
(RAPPORT_INVITE_DAYS, 7 by default). The words (invitations, SMS keyword replies) and the keyword
lists are data, in bot/enrolment.yml.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlencode, urlsplit

import yaml

from bot.config import number_setting
from bot.vocabulary import SMS, TELEGRAM, WEB, WHATSAPP

WORDS_FILE = Path(__file__).with_suffix(".yml")

# The intents the channels send to Rasa (never read from a client's words): domain.yml.
ENROLLED = "enrolled"
INVITATION_NOT_VALID = "invitation_not_valid"
LEFT_PRACTICE = "left_practice"
CHANNEL_INTENTS = (ENROLLED, INVITATION_NOT_VALID, LEFT_PRACTICE)

# The channels an invitation can be made for (Slack has no way to carry one yet).
INVITE_CHANNELS = (WEB, TELEGRAM, SMS, WHATSAPP)
# Where a code is used: the Rasa input channel's name (channels/*.py) for each invitation channel.
ROUTES = {WEB: "socketio", TELEGRAM: "telegram", SMS: "twilio", WHATSAPP: "twilio"}

DEFAULT_INVITE_DAYS = 7
MAX_INVITE_DAYS = 90
SHORT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
SHORT_LENGTH = 6
_SHORT_DIGITS = "23456789"
_LONG = re.compile(r"[A-Za-z0-9_-]{20,64}")
_TELEGRAM_BOT = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
_HASH_CONTEXT = "rapport invitation v1"
_SEPARATOR = "\x1f"
SMS_KEYWORDS = ("stop", "start", "help")


@lru_cache(maxsize=1)
def words() -> dict[str, Any]:
    data = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
    for section in ("invitations", "keywords", "join_words", "leave_commands", "replies"):
        if section not in data:
            raise ValueError(f"{WORDS_FILE.name}: missing the {section!r} section")
    missing = set(INVITE_CHANNELS) - set(data["invitations"])
    if missing:
        raise ValueError(f"{WORDS_FILE.name}: no invitation text for {', '.join(sorted(missing))}")
    return data


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class EnrolmentSettings:
    """What making invitations needs (the review page), from the environment / `.env`:

    RAPPORT_INVITE_DAYS      an invitation works for this many days (default 7)
    RAPPORT_WEBCHAT_URL      the public web chat page, e.g. https://chat.example.org/
                             (default http://127.0.0.1:RAPPORT_WEBCHAT_PORT/, port 8080)
    TELEGRAM_BOT_USERNAME    the bot's user name (@BotFather), for Telegram deep links
    RAPPORT_PRACTICE_NAME    in every invitation
    """

    invite_days: int = DEFAULT_INVITE_DAYS
    webchat_url: str = "http://127.0.0.1:8080/"
    telegram_bot: str = ""
    practice_name: str = "your practice"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "EnrolmentSettings":
        days = number_setting(env, "RAPPORT_INVITE_DAYS", DEFAULT_INVITE_DAYS, unit="days", least=1, most=MAX_INVITE_DAYS)
        url = (env.get("RAPPORT_WEBCHAT_URL") or "").strip()
        if not url:
            url = f"http://127.0.0.1:{(env.get('RAPPORT_WEBCHAT_PORT') or '8080').strip()}/"
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
            raise ValueError(f"RAPPORT_WEBCHAT_URL must be the web chat page's http(s) address, got {url!r}")
        bot = (env.get("TELEGRAM_BOT_USERNAME") or "").strip().lstrip("@")
        if bot and not _TELEGRAM_BOT.fullmatch(bot):
            raise ValueError(f"TELEGRAM_BOT_USERNAME must be the bot's user name (letters, digits, _), got {bot!r}")
        return cls(invite_days=days, webchat_url=url, telegram_bot=bot,
                   practice_name=env.get("RAPPORT_PRACTICE_NAME") or "your practice")


# --------------------------------------------------------------------------- codes


def new_code(channel: str) -> str:
    """A fresh invitation code for `channel`: a short one to type for SMS / WhatsApp (always with
    a letter and a digit, so no ordinary word is taken for one), a long token for a link."""
    if channel not in INVITE_CHANNELS:
        raise ValueError(f"no invitations on {channel!r}; expected one of {', '.join(INVITE_CHANNELS)}")
    if channel in (SMS, WHATSAPP):
        while True:
            code = "".join(secrets.choice(SHORT_ALPHABET) for _ in range(SHORT_LENGTH))
            if any(c in _SHORT_DIGITS for c in code) and any(c.isalpha() for c in code):
                return code
    return secrets.token_urlsafe(24)  # 32 characters of [A-Za-z0-9_-]


def normal_short_code(text: str) -> str:
    """A short code as typed ("4k7 p2q", "4K7-P2Q") in its one stored form ("4K7P2Q")."""
    return re.sub(r"[\s-]", "", text).upper()


def code_hash(code: str, route: str, secret: str) -> str:
    """HMAC-SHA256(secret, context, route, code) in hex: what the store keeps of a code. `route`
    is the Rasa channel the code may be used on (ROUTES); short codes are hashed in their normal form."""
    if not secret:
        raise ValueError("an id secret is required (set RAPPORT_ID_SECRET)")
    if route == ROUTES[SMS]:
        code = normal_short_code(code)
    message = _SEPARATOR.join((_HASH_CONTEXT, route, code)).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class NewInvitation:
    """An invitation as made, shown to the clinician once: only `code_hash` is stored."""

    channel: str
    code: str
    code_hash: str
    expires_at: datetime
    link: str | None  # the web chat or Telegram link; None for a code to text
    text: str  # the message for the client, in the practice's name


def make_invitation(channel: str, now: datetime, settings: EnrolmentSettings, secret: str) -> NewInvitation:
    """A new invitation for `channel`, expiring `settings.invite_days` after `now`."""
    code = new_code(channel)
    expires_at = now + timedelta(days=settings.invite_days)
    link = invite_link(channel, code, settings)
    return NewInvitation(
        channel=channel, code=code, code_hash=code_hash(code, ROUTES[channel], secret), expires_at=expires_at,
        link=link, text=invitation_text(channel, settings.practice_name, code, link, expires_at),
    )


def invite_link(channel: str, code: str, settings: EnrolmentSettings) -> str | None:
    if channel == WEB:
        separator = "&" if urlsplit(settings.webchat_url).query else "?"
        return f"{settings.webchat_url}{separator}{urlencode({'invite': code})}"
    if channel == TELEGRAM:
        if not settings.telegram_bot:
            raise ValueError("set TELEGRAM_BOT_USERNAME (the bot's user name) to make Telegram invitations")
        return f"https://t.me/{settings.telegram_bot}?start={code}"
    return None


def invitation_text(channel: str, practice: str, code: str, link: str | None, expires_at: datetime) -> str:
    template = " ".join(str(words()["invitations"][channel]).split())
    return template.format(practice=practice, code=code, link=link or "", expires=expiry_date(expires_at))


def expiry_date(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def invitation_status(used_at: datetime | None, expires_at: datetime, now: datetime) -> str:
    """"used", "expired" or "open" (waiting to be used)."""
    if used_at is not None:
        return "used"
    return "expired" if expires_at <= now else "open"


# --------------------------------------------------------------------------- incoming messages


def web_invite_code(value: object) -> str | None:
    """The code a web chat page sent with its session request (`?invite=`), if it has the shape of one."""
    return value if isinstance(value, str) and _LONG.fullmatch(value) else None


def telegram_start_code(text: str) -> str | None:
    """The code of a Telegram deep link: Telegram sends "/start <code>" when the client taps Start."""
    command, _, rest = text.strip().partition(" ")
    if command.split("@")[0] != "/start":
        return None
    return rest.strip()[:64] or None


def sms_code(text: str) -> str | None:
    """The code in an SMS or WhatsApp message, or None when the message is not one.

    "JOIN <code>" (or CODE) is always taken as a try, whatever follows (a wrong code gets a kind
    reply); a message that is just a code must look like one: 6 characters of the code alphabet
    with a letter and a digit, so "thanks" or "4" are read as words."""
    stripped = text.strip()
    first, _, rest = stripped.partition(" ")
    if first.upper() in {w.upper() for w in words()["join_words"]} and rest.strip():
        return normal_short_code(rest)[:32]
    code = normal_short_code(stripped)
    if (len(stripped) <= SHORT_LENGTH + 2 and len(code) == SHORT_LENGTH and set(code) <= set(SHORT_ALPHABET)
            and any(c in _SHORT_DIGITS for c in code) and any(c.isalpha() for c in code)):
        return code
    return None


def sms_keyword(text: str) -> str | None:
    """"stop", "start" or "help" when the whole message is one of their keywords (any case)."""
    word = text.strip().rstrip(".!").strip().upper()
    for kind in SMS_KEYWORDS:
        if word in {str(k).upper() for k in words()["keywords"][kind]}:
            return kind
    return None


def sms_reply(kind: str, practice: str, contact: str) -> str:
    """The one reply to an SMS keyword, in the practice's name."""
    if kind not in SMS_KEYWORDS:
        raise ValueError(f"not an SMS keyword: {kind!r}")
    key = "help_no_contact" if kind == "help" and not contact.strip() else kind
    return " ".join(str(words()["replies"][key]).split()).format(practice=practice, contact=contact.strip())


def is_leave_command(channel: str, text: str) -> bool:
    """Whether `text` is, as a whole message, the leave command of the Rasa channel `channel`."""
    commands = words()["leave_commands"].get(channel) or []
    said = text.strip().lower()
    return any(said == str(c).lower() or said.startswith(str(c).lower() + "@") for c in commands)
