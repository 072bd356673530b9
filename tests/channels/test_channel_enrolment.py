"""Enrolment over the real channels (channels/enrolment.py) against the real server: an invitation
binds the conversation (Telegram deep link, SMS code, web chat link), the check-ins then belong to
the enrolled client, a bad code gets a kind reply, a client leaves, SMS STOP / START / HELP."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest

from bot.config import load_settings
from bot.enrolment import ROUTES, code_hash, new_code
from bot.store import Store
from tests.channels.providers import Bot, texts_to
from tests.channels.test_socketio import ChatSocket, session_in
from tests.channels.test_telegram import telegram_post, telegram_sent_to, telegram_tap, telegram_text
from tests.channels.test_twilio import twilio_post, twilio_sent_to

PRACTICE = "Test Practice"  # tests/harness.server_env's RAPPORT_PRACTICE_NAME


@pytest.fixture(scope="module")
def store(bot: Bot) -> Iterator[Store]:
    s = Store.from_settings(load_settings(bot.env))
    s.migrate()
    yield s
    s.dispose()


def invite(store: Store, bot: Bot, channel: str, *, expired: bool = False) -> tuple[str, str]:
    """A new enrolled client and an invitation for `channel`: (client id, code)."""
    client = store.enrol_client(name="Jo K.", clinician_id=None, preferred_channel=channel, timezone="Europe/London")
    code = new_code(channel)
    expires = datetime.now(timezone.utc) + (timedelta(seconds=-1) if expired else timedelta(days=7))
    store.create_invitation(client, channel, code_hash(code, ROUTES[channel], bot.env["RAPPORT_ID_SECRET"]), expires, None)
    return client, code


def chat_id() -> int:
    return 10**8 + uuid.uuid4().int % 10**8


def phone() -> str:
    return f"+1555{uuid.uuid4().int % 10**7:07d}"


def answered(store: Store, client: str) -> list[tuple[str, int | None]]:
    return [(d, a.score) for c in store.checkins(client) for d, a in c.answers.items()]


# ---------------------------------------------------------------------------- Telegram


def test_a_telegram_deep_link_binds_the_chat_and_its_check_ins_go_to_the_client(bot: Bot, store: Store):
    client, code = invite(store, bot, "telegram")
    chat = chat_id()
    assert telegram_post(bot, telegram_text(chat, f"/start {code}")).status_code == 200
    welcome = texts_to(telegram_sent_to(bot, chat), "text")
    assert PRACTICE in welcome and "Welcome" in welcome and "not a therapist" in welcome
    assert code not in str(bot.tracker("telegram", str(chat))["events"])  # the code is not kept
    [binding] = store.bindings(client)
    assert (binding.conversation_id, binding.channel, binding.address) == (
        bot.conversation("telegram", str(chat)), "telegram", str(chat))

    assert telegram_post(bot, telegram_tap(chat, "/start_checkin")).status_code == 200
    assert telegram_post(bot, telegram_tap(chat, '/answer{"level":"4"}')).status_code == 200
    assert answered(store, client) == [("team", 4)]
    assert store.checkins(bot.conversation("telegram", str(chat))) == []  # not under the pseudonym

    # the same link again from another chat: refused kindly, that chat stays anonymous
    other = chat_id()
    assert telegram_post(bot, telegram_text(other, f"/start {code}")).status_code == 200
    refused = texts_to(telegram_sent_to(bot, other), "text")
    assert "couldn't use that invitation" in refused and PRACTICE in refused
    assert store.client_for_conversation(bot.conversation("telegram", str(other))) is None

    # /stop leaves: confirmed kindly, unbound, nothing more will be sent
    sent = len(telegram_sent_to(bot, chat))
    assert telegram_post(bot, telegram_text(chat, "/stop")).status_code == 200
    goodbye = texts_to(telegram_sent_to(bot, chat)[sent:], "text")
    assert "no longer linked" in goodbye and PRACTICE in goodbye
    assert store.bindings(client) == [] and store.reachable_bindings(client) == []
    assert store.client(client).stopped_at is not None
    assert store.client_for_conversation(bot.conversation("telegram", str(chat))) is None


def test_an_expired_telegram_invitation_gets_a_kind_reply_and_the_chat_can_still_check_in(bot: Bot, store: Store):
    client, code = invite(store, bot, "telegram", expired=True)
    chat = chat_id()
    assert telegram_post(bot, telegram_text(chat, f"/start {code}")).status_code == 200
    assert "couldn't use that invitation" in texts_to(telegram_sent_to(bot, chat), "text")
    assert store.bindings(client) == []
    assert telegram_post(bot, telegram_text(chat, "/start")).status_code == 200  # a plain hello still works
    assert "not a therapist" in texts_to(telegram_sent_to(bot, chat), "text")
    # /stop from a chat that is not bound is read as before (stop for now), not as leaving
    sent = len(telegram_sent_to(bot, chat))
    assert telegram_post(bot, telegram_text(chat, "/stop")).status_code == 200
    assert bot.user_events("telegram", str(chat))[-1]["parse_data"]["intent"]["name"] != "left_practice"
    assert "no longer linked" not in texts_to(telegram_sent_to(bot, chat)[sent:], "text")


def test_typing_the_channel_only_intents_does_not_enrol_anyone(bot: Bot, store: Store):
    chat = chat_id()
    assert telegram_post(bot, telegram_text(chat, "/enrolled")).status_code == 200
    assert "Welcome, and thank you for joining" not in texts_to(telegram_sent_to(bot, chat), "text")
    assert bot.user_events("telegram", str(chat))[-1]["parse_data"]["intent"]["name"] != "enrolled"


# ---------------------------------------------------------------------------- SMS


def test_an_sms_code_binds_the_number_and_stop_start_help_follow_the_rules(bot: Bot, store: Store):
    client, code = invite(store, bot, "sms")
    number = phone()
    assert twilio_post(bot, number, f"join {code.lower()}").status_code == 204
    welcome = texts_to(twilio_sent_to(bot, number), "Body")
    assert PRACTICE in welcome and "Welcome" in welcome
    [binding] = store.reachable_bindings(client)
    assert (binding.channel, binding.address) == ("twilio", number)
    assert twilio_post(bot, number, "1").status_code == 204  # "Let's start"
    assert twilio_post(bot, number, "5").status_code == 204
    assert answered(store, client) == [("team", 5)]

    sent = len(twilio_sent_to(bot, number))
    assert twilio_post(bot, number, "Stop").status_code == 204
    [confirmation] = [c["body"]["Body"] for c in twilio_sent_to(bot, number)[sent:]]
    assert PRACTICE in confirmation and "START" in confirmation
    assert store.reachable_bindings(client) == [] and store.binding(binding.conversation_id).stopped_at
    # after STOP nothing is sent to the number: not a reply to a message, not a second confirmation
    users_before = len(bot.user_events("twilio", number))
    for text in ("hi", "UNSUBSCRIBE", "4"):
        assert twilio_post(bot, number, text).status_code == 204
    assert len(twilio_sent_to(bot, number)) == sent + 1
    assert len(bot.user_events("twilio", number)) == users_before  # the assistant never read them

    assert twilio_post(bot, number, "HELP").status_code == 204  # HELP is still answered
    help_text = twilio_sent_to(bot, number)[-1]["body"]["Body"]
    assert PRACTICE in help_text and bot.env["RAPPORT_PRACTICE_CONTACT"] in help_text

    assert twilio_post(bot, number, "start").status_code == 204
    assert "STOP" in twilio_sent_to(bot, number)[-1]["body"]["Body"]
    assert [b.address for b in store.reachable_bindings(client)] == [number]
    assert twilio_post(bot, number, "hi").status_code == 204
    assert len(twilio_sent_to(bot, number)) > sent + 3  # answered again


def test_sms_stop_from_a_number_never_invited_is_confirmed_once_and_not_read(bot: Bot):
    number = phone()
    assert twilio_post(bot, number, "STOPALL").status_code == 204
    [confirmation] = [c["body"]["Body"] for c in twilio_sent_to(bot, number)]
    assert PRACTICE in confirmation
    assert bot.user_events("twilio", number) == []


def test_a_wrong_sms_code_gets_a_kind_reply_and_ordinary_words_are_not_codes(bot: Bot, store: Store):
    number = phone()
    assert twilio_post(bot, number, "JOIN ZZZZ99").status_code == 204
    assert "couldn't use that invitation" in texts_to(twilio_sent_to(bot, number), "Body")
    assert store.client_for_conversation(bot.conversation("twilio", number)) is None
    # a web chat invitation's code is no good by SMS either
    _, web_code = invite(store, bot, "web")
    sent = len(twilio_sent_to(bot, number))
    assert twilio_post(bot, number, f"JOIN {web_code}").status_code == 204
    assert "couldn't use that invitation" in texts_to(twilio_sent_to(bot, number)[sent:], "Body")
    sent = len(twilio_sent_to(bot, number))
    assert twilio_post(bot, number, "thanks").status_code == 204
    assert "couldn't use that invitation" not in texts_to(twilio_sent_to(bot, number)[sent:], "Body")


# ---------------------------------------------------------------------------- web chat


async def until_text(page: ChatSocket, words: str, count: int = 1, timeout: float = 60) -> None:
    """Until `count` replies hold `words` (in their text or their buttons' titles)."""
    def holds(message: dict) -> bool:
        return words in (message.get("text") or "") + " ".join(b.get("title", "") for b in message.get("quick_replies") or message.get("buttons") or [])

    async def wait() -> None:
        while sum(holds(m) for m in page.replies) < count:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(wait(), timeout)


def test_a_web_chat_invitation_binds_the_session_and_leave_unbinds_it(bot: Bot, store: Store):
    client, code = invite(store, bot, "web")

    async def scenario() -> tuple[dict, list[dict], list[dict]]:
        page = ChatSocket(bot.url)
        try:
            await page.client.connect(page.url, transports=["polling"])
            await page.client.emit("session_request", {"invite": code})
            confirmed = await asyncio.wait_for(page.confirmations.get(), 20)
            await page.until_replies(2)  # the welcome, then the introduction
            welcome = list(page.replies)
            conversation = bot.conversation("socketio", session_in(confirmed["token"]))
            assert store.client_for_conversation(conversation) == client
            await page.say("/start_checkin")
            await until_text(page, "Completely")  # the first question, with its levels
            await page.say('/answer{"level":"4"}')
            await until_text(page, "Completely", count=2)  # the second
            count = len(page.replies)
            await page.say("/leave")
            await until_text(page, "no longer linked")
            return confirmed, welcome, page.replies[count:]
        finally:
            await page.close()

    confirmed, welcome, goodbye = asyncio.run(scenario())
    assert PRACTICE in welcome[0]["text"] and "Welcome" in welcome[0]["text"]
    assert answered(store, client) == [("team", 4)]
    assert PRACTICE in " ".join(m.get("text") or "" for m in goodbye)
    assert store.bindings(client) == [] and store.client(client).stopped_at is not None
    session = session_in(confirmed["token"])
    assert code not in str(bot.tracker("socketio", session)["events"])
