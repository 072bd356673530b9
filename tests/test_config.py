"""bot.config: numeric settings are read by one parser whose errors name the setting."""
from __future__ import annotations

import pytest

from bot.config import load_settings, number_setting
from bot.enrolment import EnrolmentSettings
from bot.outbox import OutboxSettings


def test_numeric_settings_default_and_read_whole_and_fractional_values() -> None:
    defaults = load_settings({})
    assert (defaults.retention_days, defaults.scheduler_tick_seconds, defaults.scheduler_interval_seconds,
            defaults.crisis_ack_minutes) == (180, 60.0, 86400.0, 30)
    read = load_settings({"RAPPORT_RETENTION_DAYS": " 30 ", "RAPPORT_SCHEDULER_TICK_SECONDS": "1.5",
                          "RAPPORT_SCHEDULER_INTERVAL_SECONDS": "3600", "RAPPORT_CRISIS_ACK_MINUTES": "0"})
    assert (read.retention_days, read.scheduler_tick_seconds, read.scheduler_interval_seconds,
            read.crisis_ack_minutes) == (30, 1.5, 3600.0, 0)
    assert type(read.retention_days) is int and type(read.scheduler_tick_seconds) is float


DAYS, SECONDS = "a whole number of days (at least 1)", "a number of seconds (at least 1)"
MINUTES = "a whole number of minutes (not negative)"
OUTBOX_SECONDS = "a number of seconds (not negative)"


BAD = {  # setting: (how it is read, bad values, what the setting must be)
    "RAPPORT_RETENTION_DAYS": (load_settings, ["abc", "2.5", "0", "-30"], DAYS),
    "RAPPORT_SCHEDULER_TICK_SECONDS": (load_settings, ["a minute", "0", "0.5", "nan"], SECONDS),
    "RAPPORT_SCHEDULER_INTERVAL_SECONDS": (load_settings, ["daily", "inf"], SECONDS),
    "RAPPORT_CRISIS_ACK_MINUTES": (load_settings, ["half an hour", "-5", "2.5"], MINUTES),
    # The outbox's settings are read the same way.
    "RAPPORT_ALERT_DEDUP_MINUTES": (OutboxSettings.from_env, ["-1"], MINUTES),
    "RAPPORT_ALERT_MAX_ATTEMPTS": (OutboxSettings.from_env, ["many"], "a whole number of attempts (not negative)"),
    "RAPPORT_ALERT_RETRY_SECONDS": (OutboxSettings.from_env, ["soon"], OUTBOX_SECONDS),
    "RAPPORT_ALERT_POLL_SECONDS": (OutboxSettings.from_env, ["-0.1"], OUTBOX_SECONDS),
    "RAPPORT_ALERT_TIMEOUT_SECONDS": (OutboxSettings.from_env, ["nan"], OUTBOX_SECONDS),
}


@pytest.mark.parametrize("name", BAD)
def test_a_bad_numeric_setting_is_refused_with_its_name_and_what_it_must_be(name: str) -> None:
    read, bad_values, what = BAD[name]
    for bad in bad_values:
        with pytest.raises(ValueError) as refused:
            read({name: bad})
        assert str(refused.value) == f"{name} must be {what}, got {bad!r}"


def test_the_outbox_keeps_its_floors_and_fractions() -> None:
    settings = OutboxSettings.from_env({"RAPPORT_ALERT_MAX_ATTEMPTS": "0", "RAPPORT_ALERT_RETRY_SECONDS": "0.5",
                                        "RAPPORT_ALERT_POLL_SECONDS": "0", "RAPPORT_ALERT_DEDUP_MINUTES": "0"})
    assert (settings.max_attempts, settings.retry_seconds, settings.poll_seconds, settings.dedup_minutes) == (
        1, 0.5, 0.05, 0)


def test_invitation_days_are_read_the_same_way_with_an_upper_bound() -> None:
    assert EnrolmentSettings.from_env({"RAPPORT_INVITE_DAYS": "90"}).invite_days == 90
    for bad in ("0", "91", "a week"):
        with pytest.raises(ValueError) as refused:
            EnrolmentSettings.from_env({"RAPPORT_INVITE_DAYS": bad})
        assert str(refused.value) == f"RAPPORT_INVITE_DAYS must be a whole number of days (from 1 to 90), got {bad!r}"


def test_the_parser_returns_the_default_for_an_empty_value_without_checking_it() -> None:
    assert number_setting({"X": "  "}, "X", 7, unit="days", least=1) == 7
    assert number_setting({}, "X", 2.5, unit="seconds") == 2.5
