"""Rapport opens the conversation: `python -m deploy.scheduler --once --now ...` against the real
Rasa server with every channel on; what it sends lands at the fake Telegram, Slack and Twilio APIs
(tests/channels/providers.py), addressed to the chat id, Slack user and phone number each
conversation is bound to. The clock is the scheduler's `--now`, never a sleep."""
from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from bot.crypto import TextCipher
from bot.store import Store
from bot.vocabulary import WEEKLY
from tests.channels.providers import Bot, texts_to, twilio_post, twilio_sent_to
from tests.harness import ROOT

MONDAY = datetime(2030, 1, 7, 9, 0, tzinfo=timezone.utc)  # 09:00 in London in winter


def run_scheduler(bot: Bot, now: datetime) -> subprocess.CompletedProcess:
    env = {**bot.env, "RAPPORT_RASA_URL": bot.url, "RASA_AUTH_TOKEN": bot.token}
    result = subprocess.run(
        [sys.executable, "-m", "deploy.scheduler", "--once", "--now", now.isoformat(), "--skip", "purge"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def clients(bot: Bot):
    """Four enrolled clients with a weekly Monday 09:00 check-in: on Telegram, Slack, SMS, and
    one more on SMS whose number sent STOP."""
    tag = uuid.uuid4().hex[:6]
    addresses = {
        "telegram": ("telegram", "telegram", str(700000 + uuid.uuid4().int % 99999)),
        "slack": ("slack", "slack", f"U{tag.upper()}"),
        "sms": ("sms", "twilio", f"+44770090{uuid.uuid4().int % 10**4:04d}"),
        "stopped": ("sms", "twilio", f"+44770091{uuid.uuid4().int % 10**4:04d}"),
    }
    store = Store(bot.env["RAPPORT_DATABASE_URL"], TextCipher([bot.env["RAPPORT_ENCRYPTION_KEYS"]]),
                  clock=lambda: MONDAY - timedelta(days=3))
    store.migrate()
    ids = {}
    for name, (channel, rasa_channel, address) in addresses.items():
        client = store.enrol_client(name=f"{name} {tag}", clinician_id=None, timezone="Europe/London")
        store.bind_conversation(bot.conversation(rasa_channel, address), client, channel, address)
        store.set_schedule(client, kind=WEEKLY, weekday=0, send_time="09:00", quiet_start="21:00", quiet_end="08:00",
                           remind_after_hours=24, max_reminders=1, window_days=3)
        ids[name] = client
    store.set_conversation_stopped(bot.conversation("twilio", addresses["stopped"][2]), True)
    yield store, ids, {name: address for name, (_, _, address) in addresses.items()}
    store.dispose()


def telegram_to(bot: Bot, chat_id: str) -> list[dict]:
    return bot.fake.sent(lambda c: c["path"].endswith("/sendMessage") and str(c["body"].get("chat_id")) == chat_id)


def slack_to(bot: Bot, user: str) -> list[dict]:
    return bot.fake.sent(lambda c: c["path"].endswith("chat.postMessage") and c["body"].get("channel") == user)


def test_the_scheduler_opens_each_conversation_once_on_its_channel_in_the_practices_name(bot: Bot, clients) -> None:
    store, ids, address = clients
    run_scheduler(bot, MONDAY - timedelta(minutes=1))
    assert telegram_to(bot, address["telegram"]) == [] and twilio_sent_to(bot, address["sms"]) == []  # not yet

    run_scheduler(bot, MONDAY)
    telegram = telegram_to(bot, address["telegram"])
    assert len(telegram) == 1
    assert "Rapport, the check-in bot for Test Practice" in telegram[0]["body"]["text"]
    assert "Let's start" in str(telegram[0]["body"].get("reply_markup"))
    slack = slack_to(bot, address["slack"])
    assert len(slack) == 1 and "Test Practice" in texts_to(slack, "text") + str(slack[0]["body"].get("blocks"))
    sms = twilio_sent_to(bot, address["sms"])
    assert len(sms) == 1 and "Test Practice" in sms[0]["body"]["Body"]
    assert "Reply 1-2: 1 let's start, 2 not now" in sms[0]["body"]["Body"]
    assert sms[0]["body"]["From"] == bot.env["TWILIO_NUMBER"]
    assert twilio_sent_to(bot, address["stopped"]) == []  # STOP: nothing, ever

    run_scheduler(bot, MONDAY + timedelta(minutes=1))  # again: nothing twice
    assert len(telegram_to(bot, address["telegram"])) == 1 and len(twilio_sent_to(bot, address["sms"])) == 1

    # the conversation's state is real: "1" answers the invitation and the first question follows
    assert twilio_post(bot, address["sms"], "1").status_code == 204
    question = texts_to(twilio_sent_to(bot, address["sms"])[1:], "Body")
    assert "Reply 1-5: 1 not at all, 2 a little, 3 somewhat, 4 mostly, 5 completely" in question

    # a day later: one reminder each; the client who started is taken back to their question
    run_scheduler(bot, MONDAY + timedelta(hours=24))
    assert "still open" in telegram_to(bot, address["telegram"])[1]["body"]["text"]
    assert len(slack_to(bot, address["slack"])) == 2
    back = texts_to(twilio_sent_to(bot, address["sms"])[2:], "Body")
    assert "partway through your check-in" in back and "Reply 1-5" in back
    run_scheduler(bot, MONDAY + timedelta(hours=48))  # at most one reminder
    assert len(telegram_to(bot, address["telegram"])) == 2
    assert twilio_sent_to(bot, address["stopped"]) == []

    summaries = store.schedule_summaries(list(ids.values()))
    assert summaries[ids["telegram"]].sent == 1 and summaries[ids["stopped"]].sent == 0
