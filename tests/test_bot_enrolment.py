"""bot/enrolment.py: invitation codes, their keyed hashes, links and words; reading codes, SMS
keywords and leave commands from incoming messages."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from bot import enrolment
from bot.enrolment import (
    EnrolmentSettings,
    code_hash,
    invitation_status,
    is_leave_command,
    make_invitation,
    new_code,
    sms_code,
    sms_keyword,
    sms_reply,
    telegram_start_code,
    web_invite_code,
)
from tests.test_replies import BANNED, all_strings  # what no line may say (blame, diagnosis, gushing)

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)
SECRET = "test-id-secret"
SETTINGS = EnrolmentSettings(invite_days=7, webchat_url="https://chat.example.org/", telegram_bot="RapportBot",
                             practice_name="Hillside Therapy")


def test_short_codes_are_six_unambiguous_characters_with_a_letter_and_a_digit() -> None:
    codes = {new_code("sms") for _ in range(300)}
    assert len(codes) > 295
    for code in codes:
        assert re.fullmatch(r"[ABCDEFGHJKMNPQRSTUVWXYZ2-9]{6}", code)
        assert re.search(r"[A-Z]", code) and re.search(r"[2-9]", code)
        assert not set(code) & set("01OIL")


def test_link_codes_are_long_url_safe_tokens_that_telegram_accepts() -> None:
    for channel in ("web", "telegram"):
        code = new_code(channel)
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", code)  # Telegram: [A-Za-z0-9_-], at most 64


def test_the_hash_is_keyed_and_bound_to_where_the_code_may_be_used() -> None:
    code = "4K7P2Q"
    hashed = code_hash(code, "twilio", SECRET)
    assert re.fullmatch(r"[0-9a-f]{64}", hashed) and code not in hashed
    assert code_hash("4k7 p2q", "twilio", SECRET) == code_hash("4K7-P2Q", "twilio", SECRET) == hashed
    assert code_hash(code, "twilio", "another secret") != hashed
    assert code_hash(code, "socketio", SECRET) != hashed  # an SMS code is no good in the web chat
    with pytest.raises(ValueError):
        code_hash(code, "twilio", "")


def test_invitations_expire_after_the_configured_days_and_carry_the_link() -> None:
    web = make_invitation("web", NOW, SETTINGS, SECRET)
    assert web.expires_at == NOW + timedelta(days=7)
    assert web.link == f"https://chat.example.org/?invite={web.code}"
    assert web.code_hash == code_hash(web.code, "socketio", SECRET)
    telegram = make_invitation("telegram", NOW, SETTINGS, SECRET)
    assert telegram.link == f"https://t.me/RapportBot?start={telegram.code}"
    assert telegram.code_hash == code_hash(telegram.code, "telegram", SECRET)
    sms = make_invitation("sms", NOW, SETTINGS, SECRET)
    assert sms.link is None and sms.code in sms.text
    with_query = EnrolmentSettings(webchat_url="https://example.org/chat?lang=en")
    assert make_invitation("web", NOW, with_query, SECRET).link.startswith("https://example.org/chat?lang=en&invite=")
    with pytest.raises(ValueError, match="TELEGRAM_BOT_USERNAME"):
        make_invitation("telegram", NOW, EnrolmentSettings(), SECRET)
    with pytest.raises(ValueError):
        new_code("slack")


@pytest.mark.parametrize("channel", ["web", "telegram", "sms", "whatsapp"])
def test_invitation_words_are_in_the_practices_name_and_never_name_the_client(channel: str) -> None:
    invitation = make_invitation(channel, NOW, SETTINGS, SECRET)
    text = invitation.text
    assert "Hillside Therapy" in text and "2 December 2026" not in text  # 7 days later
    assert "9 December 2026" in text
    assert (invitation.link or invitation.code) in text
    assert "{" not in text and "  " not in text
    if channel in ("sms", "whatsapp"):
        assert "STOP" in text and len(text) <= 320  # two SMS segments at most


def test_settings_from_the_environment() -> None:
    settings = EnrolmentSettings.from_env({"RAPPORT_INVITE_DAYS": "3", "RAPPORT_WEBCHAT_URL": "https://c.example.org/",
                                           "TELEGRAM_BOT_USERNAME": "@RapportBot", "RAPPORT_PRACTICE_NAME": "Hillside"})
    assert (settings.invite_days, settings.webchat_url, settings.telegram_bot, settings.practice_name) == (
        3, "https://c.example.org/", "RapportBot", "Hillside")
    assert EnrolmentSettings.from_env({"RAPPORT_WEBCHAT_PORT": "9090"}).webchat_url == "http://127.0.0.1:9090/"
    assert EnrolmentSettings.from_env({}).invite_days == 7
    for bad in ({"RAPPORT_INVITE_DAYS": "0"}, {"RAPPORT_INVITE_DAYS": "a week"}, {"RAPPORT_INVITE_DAYS": "91"},
                {"RAPPORT_WEBCHAT_URL": "javascript:alert(1)"}, {"TELEGRAM_BOT_USERNAME": "bad name!"}):
        with pytest.raises(ValueError):
            EnrolmentSettings.from_env(bad)


def test_status_of_an_invitation() -> None:
    later = NOW + timedelta(days=1)
    assert invitation_status(None, later, NOW) == "open"
    assert invitation_status(None, NOW, NOW) == "expired"
    assert invitation_status(NOW, NOW - timedelta(days=1), NOW) == "used"


@pytest.mark.parametrize("text, code", [
    ("JOIN 4K7P2Q", "4K7P2Q"), ("join 4k7p2q", "4K7P2Q"), ("  4k7-p2q ", "4K7P2Q"), ("4K7 P2Q", "4K7P2Q"),
    ("Code 4K7P2Q", "4K7P2Q"), ("JOIN nonsense", "NONSENSE"),  # "JOIN" is always a try
    ("thanks", None), ("MOSTLY", None), ("4", None), ("222222", None), ("hi there", None), ("JOIN", None),
    ("I feel heard", None), ("4K7P2Q9", None),
])
def test_sms_codes_are_read_only_where_a_message_is_one(text: str, code: str | None) -> None:
    assert sms_code(text) == code


@pytest.mark.parametrize("text, kind", [
    ("STOP", "stop"), ("stop", "stop"), (" Stop. ", "stop"), ("STOPALL", "stop"), ("unsubscribe", "stop"),
    ("CANCEL", "stop"), ("end", "stop"), ("Quit", "stop"), ("START", "start"), ("unstop", "start"),
    ("HELP", "help"), ("help!", "help"), ("info", "help"),
    ("stop asking me", None), ("please stop", None), ("I want to end it", None), ("helpful", None), ("", None),
])
def test_sms_keywords_are_the_whole_message_in_any_case(text: str, kind: str | None) -> None:
    assert sms_keyword(text) == kind


def test_sms_replies_name_the_practice_and_its_contact() -> None:
    assert "Hillside" in sms_reply("stop", "Hillside", "") and "START" in sms_reply("stop", "Hillside", "")
    assert "STOP" in sms_reply("start", "Hillside", "")
    help_text = sms_reply("help", "Hillside", "020 7946 0000")
    assert "Hillside" in help_text and "020 7946 0000" in help_text and "STOP" in help_text
    assert "{" not in sms_reply("help", "Hillside", "  ")
    for kind in ("stop", "start", "help"):
        assert len(sms_reply(kind, "Hillside Therapy Partnership", "hello@hillside.example.org")) <= 320
    with pytest.raises(ValueError):
        sms_reply("join", "Hillside", "")


def test_telegram_deep_link_and_web_invite_codes() -> None:
    code = new_code("telegram")
    assert telegram_start_code(f"/start {code}") == code
    assert telegram_start_code(f"/start@RapportBot {code}") == code
    assert telegram_start_code("/start") is None and telegram_start_code("start now") is None
    assert telegram_start_code("/start " + "x" * 100) == "x" * 64
    assert web_invite_code(code) == code
    assert web_invite_code("short") is None and web_invite_code(None) is None and web_invite_code({"a": 1}) is None
    assert web_invite_code("<script>" + "a" * 30) is None


def test_leave_commands() -> None:
    assert is_leave_command("telegram", "/stop") and is_leave_command("telegram", "/STOP@RapportBot")
    assert is_leave_command("socketio", " /leave ")
    assert not is_leave_command("socketio", "/stop") and not is_leave_command("socketio", "leave me alone")
    assert not is_leave_command("rest", "/leave")


def test_the_words_file_has_every_section() -> None:
    data = enrolment.words()
    assert set(data["invitations"]) >= {"web", "telegram", "sms", "whatsapp"}
    assert {k.upper() for k in data["keywords"]["stop"]} >= {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
    assert {k.upper() for k in data["keywords"]["start"]} >= {"START", "UNSTOP"}


def test_no_enrolment_line_blames_diagnoses_or_gushes() -> None:
    texts = [t.lower() for t in all_strings(enrolment.words()["invitations"]) + all_strings(enrolment.words()["replies"])]
    offenders = [(phrase, text) for phrase in BANNED for text in texts if phrase in text]
    assert not offenders
