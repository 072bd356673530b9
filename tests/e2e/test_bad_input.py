"""Bad input over the real REST channel: a kind reply or a clear 4xx, never a 500 or lost data."""
from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.conftest import RasaServer
from tests.e2e.test_rest_checkin import LEVEL_TITLES, last_buttons, own_checkins

ODD_MESSAGES = [
    "",
    "   ",
    "x" * 10_000,
    "so so " * 1_500,
    "🙂🙂🙂",
    "\u0000\u0001\u0002 binary \ufffd",
    "我的治疗师很好",
    "مرحبا كيف حالك",
    "<script>alert('hi')</script>",
    "<b>mostly</b>",
    "'; DROP TABLE answer; --",
    "{{7*7}} ${7*7} {team} %s %(x)s",
    "/answer{\"level\":\"9\"}",
    "/answer{broken json",
    "/nonexistent_intent",
]


@pytest.mark.parametrize("text", ODD_MESSAGES, ids=range(len(ODD_MESSAGES)))
def test_odd_messages_mid_checkin_get_a_reply_and_keep_the_checkin(rasa_server: RasaServer, e2e_env, text):
    sender = f"odd-{uuid.uuid4()}"
    rasa_server.send(sender, "check in")
    rasa_server.send(sender, "mostly")
    reply = rasa_server.send(sender, text)
    assert reply, "no reply at all"
    assert all(m.get("text") or m.get("buttons") for m in reply)
    # The check-in goes on: a further answer is still accepted and nothing stored was lost.
    rasa_server.send(sender, "completely")
    [checkin] = own_checkins(e2e_env, rasa_server.conversation(sender))  # private until shared: as the client sees it
    answers = {a["dimension"]: a for a in checkin["answers"]}
    assert answers["team"]["score"] == 4


def test_a_huge_answer_is_stored_whole(rasa_server: RasaServer, e2e_env):
    sender = f"odd-{uuid.uuid4()}"
    rasa_server.send(sender, "check in")
    long_answer = "mostly, " + "she listens and remembers what I said. " * 250
    reply = rasa_server.send(sender, long_answer)
    assert last_buttons(reply) == LEVEL_TITLES  # on to the next question
    [checkin] = own_checkins(e2e_env, rasa_server.conversation(sender))  # private until shared: as the client sees it
    assert checkin["answers"][0]["text"] == long_answer.strip()


@pytest.mark.parametrize("body", [
    b"not json",
    b"[1, 2, 3]",
    b'{"sender": "x"}',
    b'{"sender": "x", "message": 42}',
    b'{"sender": "x", "message": null}',
    b'{"sender": ["x"], "message": "hi"}',
    b'{"sender": "x", "message": {"text": "hi"}}',
    b'{"sender": "nul\\u0000byte", "message": "hi"}',  # PostgreSQL cannot store a NUL: once a 500
])
def test_malformed_rest_payloads_get_a_4xx(rasa_server: RasaServer, body: bytes):
    response = requests.post(f"{rasa_server.url}/webhooks/rest/webhook", data=body,
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])


def test_the_http_api_needs_the_token(rasa_server: RasaServer):
    sender = f"odd-{uuid.uuid4()}"
    response = requests.get(f"{rasa_server.url}/conversations/{sender}/tracker", timeout=30)
    assert response.status_code == 401
    wrong = requests.get(f"{rasa_server.url}/conversations/{sender}/tracker",
                         params={"token": "wrong"}, timeout=30)
    assert wrong.status_code == 401
