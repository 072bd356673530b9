"""channels/common.py: the plain helpers every channel uses."""
from __future__ import annotations

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.exceptions import InvalidConfigException

from channels.common import (
    channel_settings,
    expand_env,
    latest_buttons,
    numbered_options,
    payload_for_reply,
    replies_after,
)
from tests.channels.providers import LEVEL_BUTTONS


def test_expand_env_fills_set_variables_and_empties_unset_ones():
    env = {"TOKEN": "abc", "EMPTY": ""}
    assert expand_env("${TOKEN}", env) == "abc"
    assert expand_env("pre-${TOKEN}-post", env) == "pre-abc-post"
    assert expand_env("${EMPTY}", env) == ""
    assert expand_env("${NOT_SET}", env) == ""
    assert expand_env(None, env) == ""
    assert expand_env("no variables", env) == "no variables"


def test_a_channel_is_off_when_all_its_settings_are_empty_and_refused_when_half_set(monkeypatch):
    monkeypatch.delenv("X_TOKEN", raising=False)
    monkeypatch.delenv("X_SECRET", raising=False)
    credentials = {"token": "${X_TOKEN}", "secret": "${X_SECRET}", "extra": "fixed"}
    assert channel_settings("x", credentials, required=("token", "secret")) is None
    assert channel_settings("x", None, required=("token", "secret")) is None
    monkeypatch.setenv("X_TOKEN", "tok-4711")
    with pytest.raises(InvalidConfigException, match="secret") as refused:
        channel_settings("x", credentials, required=("token", "secret"))
    assert "tok-4711" not in str(refused.value)  # names the missing setting, never a value
    monkeypatch.setenv("X_SECRET", "s")
    assert channel_settings("x", credentials, required=("token", "secret"), optional=("extra",)) == {
        "token": "tok-4711", "secret": "s", "extra": "fixed"}


def test_numbered_options_read_like_an_sms():
    assert numbered_options(LEVEL_BUTTONS) == (
        "Reply 1-5: 1 not at all, 2 a little, 3 somewhat, 4 mostly, 5 completely")
    assert numbered_options([{"title": "Let's move on", "payload": "/deny"}]) == "Reply 1: let's move on"


def test_a_number_reply_picks_that_button_and_anything_else_stays_text():
    assert payload_for_reply("4", LEVEL_BUTTONS) == '/answer{"level":"4"}'
    assert payload_for_reply(" 1. ", LEVEL_BUTTONS) == '/answer{"level":"1"}'
    assert payload_for_reply("6", LEVEL_BUTTONS) is None
    assert payload_for_reply("0", LEVEL_BUTTONS) is None
    assert payload_for_reply("4 I guess", LEVEL_BUTTONS) is None
    assert payload_for_reply("4", []) is None


def test_only_the_latest_bot_turn_offers_buttons():
    asked = [UserUttered("hi"), BotUttered("How warm?", {"buttons": LEVEL_BUTTONS}), ActionExecuted("action_listen")]
    assert latest_buttons(asked) == LEVEL_BUTTONS
    assert latest_buttons([*asked, UserUttered("4"), BotUttered("Thanks.")]) == []
    assert latest_buttons([]) == []


def test_replies_after_finds_the_answer_to_one_message_or_none():
    events = [
        UserUttered("hi", message_id="m1"), BotUttered("hello"), BotUttered("ready?"),
        UserUttered("yes", message_id="m2"), BotUttered("first question"),
    ]
    assert [e.text for e in replies_after(events, "m1")] == ["hello", "ready?"]
    assert [e.text for e in replies_after(events, "m2")] == ["first question"]
    assert replies_after(events, "m3") is None
