"""channels/twilio.py against the real server: requests shaped like Twilio's, signed right or
wrong; replies through Twilio's SDK to the fake provider API.
"""
from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import requests

from bot.identity import client_id
from tests.channels.providers import Bot, export_checkins, texts_to, twilio_post, twilio_sent_to

# Twilio --------------------------------------------------------------------------------------------

def test_twilio_signed_sms_check_in_with_numbered_replies(bot: Bot):
    sender = f"+1555{uuid.uuid4().int % 10**7:07d}"
    assert twilio_post(bot, sender, "hi").status_code == 204
    intro = texts_to(twilio_sent_to(bot, sender), "Body")
    assert "not a therapist" in intro and "Reply 1-3: 1 let's start, 2 tell me more, 3 not now" in intro
    assert {c["body"]["From"] for c in twilio_sent_to(bot, sender)} == {"+15559990000"}  # the number they wrote to

    sent = len(twilio_sent_to(bot, sender))
    assert twilio_post(bot, sender, "1").status_code == 204  # "Let's start"
    question = texts_to(twilio_sent_to(bot, sender)[sent:], "Body")
    assert "Reply 1-5: 1 not at all, 2 a little, 3 somewhat, 4 mostly, 5 completely" in question
    assert twilio_post(bot, sender, "4").status_code == 204  # "mostly"

    tracker = bot.tracker("twilio", sender)
    assert tracker["slots"]["team"] is not None and tracker["slots"]["requested_slot"] == "heard"
    assert [e["input_channel"] for e in tracker["events"] if e["event"] == "user"] == ["twilio"] * 3
    stored = export_checkins(bot.env)
    mine = [c for c in stored if c["client_id"] == client_id("twilio", sender, bot.env["RAPPORT_ID_SECRET"])]
    assert len(mine) == 1 and [(a["dimension"], a["score"]) for a in mine[0]["answers"]] == [("team", 4)]


def test_twilio_whatsapp_replies_come_from_the_whatsapp_number(bot: Bot):
    sender = f"whatsapp:+1555{uuid.uuid4().int % 10**7:07d}"
    assert twilio_post(bot, sender, "hi", to="whatsapp:+14155238886").status_code == 204
    assert {c["body"]["From"] for c in twilio_sent_to(bot, sender)} == {"whatsapp:+14155238886"}


def test_twilio_request_with_a_bad_signature_gets_403_and_never_reaches_the_bot(bot: Bot):
    sender = f"+1555{uuid.uuid4().int % 10**7:07d}"
    forged = twilio_post(bot, sender, "hi", sign_with="a-guessed-token")
    unsigned = requests.post(f"{bot.url}/webhooks/twilio/webhook", timeout=30,
                             data={"From": sender, "To": "+15559990000", "Body": "hi"})
    assert forged.status_code == 403 and unsigned.status_code == 403
    assert bot.user_events("twilio", sender) == []
    assert twilio_sent_to(bot, sender) == []


def test_twilio_redelivered_message_is_not_answered_twice(bot: Bot):
    sender = f"+1555{uuid.uuid4().int % 10**7:07d}"
    sid = "SM" + uuid.uuid4().hex
    assert twilio_post(bot, sender, "check in", sid=sid).status_code == 204
    assert twilio_post(bot, sender, "check in", sid=sid).status_code == 204
    assert len(bot.user_events("twilio", sender)) == 1
    bodies = [c["body"]["Body"] for c in twilio_sent_to(bot, sender)]
    assert len(bodies) == 2 * len(set(bodies))  # the same answer sent again, nothing new


def test_the_same_number_on_twilio_and_rest_is_two_conversations(bot: Bot):
    """Knowing a client's phone number must not let anyone post into their SMS conversation."""
    sender = f"+1555{uuid.uuid4().int % 10**7:07d}"
    assert twilio_post(bot, sender, "hi").status_code == 204
    assert twilio_post(bot, sender, "1").status_code == 204  # at the first question now
    taken = requests.post(f"{bot.url}/webhooks/rest/webhook", json={"sender": sender, "message": "5"}, timeout=60)
    assert taken.status_code == 200
    sms = bot.tracker("twilio", sender)
    assert sms["slots"]["team"] is None and sms["slots"]["requested_slot"] == "team"
    assert [e["text"] for e in sms["events"] if e["event"] == "user"] == ["hi", "/start_checkin"]  # "1": the 1st button
    assert [(e["text"], e["input_channel"]) for e in bot.user_events("rest", sender)] == [("5", "rest")]
    mine = [c for c in export_checkins(bot.env) if c["client_id"] == bot.conversation("twilio", sender)]
    assert len(mine) == 1 and mine[0]["answers"] == []


def test_the_conversation_store_holds_no_raw_sender_id_and_no_crisis_flag(bot: Bot):
    sender = f"+1555{uuid.uuid4().int % 10**7:07d}"
    assert twilio_post(bot, sender, "hi").status_code == 204
    assert twilio_post(bot, sender, "i want to end my life").status_code == 204
    assert "988" in texts_to(twilio_sent_to(bot, sender), "Body")  # it was read as a crisis
    with sqlite3.connect(Path(bot.env["RAPPORT_DATA_DIR"]) / "tracker.db") as db:
        dump = "\n".join(db.iterdump())
    assert bot.conversation("twilio", sender) in dump
    assert sender.lstrip("+") not in dump
    assert "crisis" not in dump.lower()
