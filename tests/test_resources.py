"""bot.resources: crisis resources are configuration, every locale renders, nothing blames."""
from __future__ import annotations

import re

import pytest
import yaml

from bot.resources import (
    RESOURCES_FILE,
    crisis_lines,
    crisis_message,
    load_resources,
    parse_resources,
    resolve_locale,
    safe_ack_message,
    safety_check_question,
)

EXPECTED_NUMBERS = {
    "US": ["988", "911"],
    "UK": ["116 123", "999", "SHOUT", "85258"],
    "IE": ["116 123", "112", "999"],
    "INTL": ["findahelpline.com", "local emergency number"],
}

# Words that blame, judge or diagnose have no place in these messages.
FORBIDDEN = re.compile(
    r"\b(?:fault|blame|should have|shouldn't have|overreact\w*|dramatic|selfish|attention|calm down|"
    r"diagnos\w*|disorder|depressed|depression|mentally ill|illness|crazy|sick|weak|stupid|wrong with you)\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize("locale", sorted(EXPECTED_NUMBERS))
def test_every_locale_renders_with_its_numbers_each_on_its_own_line(locale: str) -> None:
    message = crisis_message(locale)
    for needle in EXPECTED_NUMBERS[locale]:
        assert needle in message
    lines = message.splitlines()
    for resource in crisis_lines(locale):
        assert sum(resource in line for line in lines) == 1
    assert "{" not in message and "}" not in message


def test_every_configured_locale_renders() -> None:
    for code in load_resources().locales:
        message = crisis_message(code)
        assert all(line in message for line in crisis_lines(code))


@pytest.mark.parametrize("locale", ["", "XX", "fr-FR", "de", None])
def test_unknown_locale_falls_back_to_international_and_us(locale: str | None) -> None:
    assert resolve_locale(locale) == ("INTL", "US")
    message = crisis_message(locale)  # type: ignore[arg-type]
    for needle in EXPECTED_NUMBERS["INTL"] + EXPECTED_NUMBERS["US"]:
        assert needle in message


@pytest.mark.parametrize(
    "locale, expected",
    [("us", "US"), ("en-US", "US"), ("en_GB", "UK"), ("GB", "UK"), ("ie", "IE"), ("en-IE", "IE"), ("INTL", "INTL")],
)
def test_locale_spellings_resolve(locale: str, expected: str) -> None:
    assert resolve_locale(locale) == (expected,)


def test_message_says_glad_bot_emergency_and_paused() -> None:
    message = crisis_message("US").lower()
    assert "glad" in message
    assert "automated" in message and "emergency" in message
    assert "paused" in message
    assert "whenever" in message  # can be resumed at any time


def test_message_mentions_a_paused_checkin_only_when_there_was_one() -> None:
    message = crisis_message("US", paused_checkin=False)
    assert "paused" not in message and "pick it up" not in message
    assert message.rstrip().endswith("you don't have to carry this alone.")


def test_oncall_number_is_shown_only_when_configured() -> None:
    with_practice = crisis_message("UK", "Riverside Counselling", "01632 960 123")
    assert "Riverside Counselling" in with_practice and "01632 960 123" in with_practice
    without_name = crisis_message("UK", "", "01632 960 123")
    assert "01632 960 123" in without_name and "on-call" in without_name
    assert "on-call" not in crisis_message("UK", "Riverside Counselling", "")
    assert "on-call" not in crisis_message("UK")


def test_messages_never_blame_or_diagnose() -> None:
    texts = [safe_ack_message()]
    texts += [crisis_message(code, "Practice", "555 0100") for code in load_resources().locales]
    texts += [safety_check_question(code) for code in load_resources().locales]
    for text in texts:
        assert FORBIDDEN.search(text) is None, text


def test_safety_check_asks_directly_and_gently() -> None:
    question = safety_check_question("US")
    assert question.rstrip().endswith("?")
    assert "hurting yourself" in question and "ending your life" in question


def test_safety_check_names_the_locales_helpline_before_any_answer() -> None:
    assert "988" in safety_check_question("US")
    assert "116 123" in safety_check_question("en-GB") and "988" not in safety_check_question("UK")
    assert "findahelpline.com" in safety_check_question("FR")  # a locale not listed: the fallback
    assert "{" not in safety_check_question("US")
    assert "safe" in safe_ack_message()


def test_resources_file_is_validated() -> None:
    raw = yaml.safe_load(RESOURCES_FILE.read_text(encoding="utf-8"))
    raw["fallback"] = ["NOWHERE"]
    with pytest.raises(ValueError, match="NOWHERE"):
        parse_resources(raw)
    raw = yaml.safe_load(RESOURCES_FILE.read_text(encoding="utf-8"))
    del raw["locales"]["US"]["emergency"]
    with pytest.raises(ValueError, match="emergency"):
        parse_resources(raw)
