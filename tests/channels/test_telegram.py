"""channels/telegram.py: private chats only; updates shaped like Telegram's against the real server."""
from __future__ import annotations

import json
import time
import uuid

import requests

from channels.telegram import client_message
from tests.channels.providers import LEVEL_BUTTONS, Bot, texts_to


def test_telegram_answers_private_chats_only_and_start_greets():
    private = {"id": 77, "type": "private"}
    assert client_message({"update_id": 1, "message": {"chat": private, "text": "mostly"}}) == ("77", "mostly", None)
    assert client_message({"update_id": 2, "message": {"chat": private, "text": "/start"}}) == ("77", "/greet", None)
    assert client_message({"update_id": 3, "callback_query": {
        "id": "cb1", "data": "/deny", "message": {"chat": private}}}) == ("77", "/deny", "cb1")
    assert client_message({"update_id": 4, "message": {"chat": {"id": -5, "type": "group"}, "text": "hi"}}) is None
    assert client_message({"update_id": 5, "edited_message": {"chat": private, "text": "not at all"}}) is None
    assert client_message({"update_id": 6, "message": {"chat": private, "sticker": {}}}) is None


# Telegram ------------------------------------------------------------------------------------------

def telegram_post(bot: Bot, update: dict, secret: str | None = None) -> requests.Response:
    headers = {} if secret == "" else {"X-Telegram-Bot-Api-Secret-Token": secret or bot.env["TELEGRAM_SECRET_TOKEN"]}
    return requests.post(f"{bot.url}/webhooks/telegram/webhook", json=update, headers=headers, timeout=60)


def telegram_text(chat_id: int, text: str) -> dict:
    return {"update_id": uuid.uuid4().int % 10**9, "message": {
        "message_id": 1, "date": int(time.time()), "text": text,
        "chat": {"id": chat_id, "type": "private", "first_name": "Test"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Test"}}}


def telegram_tap(chat_id: int, data: str) -> dict:
    return {"update_id": uuid.uuid4().int % 10**9, "callback_query": {
        "id": f"cb{uuid.uuid4().hex[:8]}", "data": data, "chat_instance": "1",
        "from": {"id": chat_id, "is_bot": False, "first_name": "Test"},
        "message": {"message_id": 2, "date": int(time.time()), "chat": {"id": chat_id, "type": "private"}}}}


def telegram_sent_to(bot: Bot, chat_id: int) -> list[dict]:
    return bot.fake.sent(lambda c: c["path"].endswith("/sendMessage") and str(c["body"].get("chat_id")) == str(chat_id))


def test_telegram_update_with_the_secret_is_answered_with_buttons(bot: Bot):
    chat_id = uuid.uuid4().int % 10**9
    response = telegram_post(bot, telegram_text(chat_id, "/start"))
    assert response.status_code == 200
    sent = telegram_sent_to(bot, chat_id)
    assert "not a therapist" in texts_to(sent, "text")
    assert all(c["path"].startswith("/bot123456:TEST-token/") for c in sent)
    keyboard = json.loads(sent[-1]["body"]["reply_markup"]) if isinstance(sent[-1]["body"].get("reply_markup"), str) \
        else sent[-1]["body"]["reply_markup"]
    assert [row[0]["text"] for row in keyboard["inline_keyboard"]] == ["Let's start", "Tell me more", "Not now"]

    tap = telegram_tap(chat_id, "/start_checkin")
    assert telegram_post(bot, tap).status_code == 200
    assert bot.fake.sent(lambda c: c["path"].endswith("/answerCallbackQuery")
                         and c["body"].get("callback_query_id") == tap["callback_query"]["id"])
    question = telegram_sent_to(bot, chat_id)[-1]["body"]
    markup = question["reply_markup"] if isinstance(question["reply_markup"], dict) else json.loads(question["reply_markup"])
    assert [row[0]["text"] for row in markup["inline_keyboard"]] == [b["title"] for b in LEVEL_BUTTONS]
    assert [e["input_channel"] for e in bot.user_events("telegram", str(chat_id))] == ["telegram", "telegram"]


def test_telegram_update_with_a_wrong_or_missing_secret_gets_403(bot: Bot):
    chat_id = uuid.uuid4().int % 10**9
    assert telegram_post(bot, telegram_text(chat_id, "hi"), secret="wrong-secret").status_code == 403
    assert telegram_post(bot, telegram_text(chat_id, "hi"), secret="").status_code == 403
    assert bot.user_events("telegram", str(chat_id)) == []
    assert telegram_sent_to(bot, chat_id) == []


def test_telegram_redelivered_update_is_handled_once(bot: Bot):
    chat_id = uuid.uuid4().int % 10**9
    update = telegram_text(chat_id, "check in")
    assert telegram_post(bot, update).status_code == 200
    assert telegram_post(bot, update).status_code == 200
    assert len(bot.user_events("telegram", str(chat_id))) == 1
