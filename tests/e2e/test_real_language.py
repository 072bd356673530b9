"""Real-language turns over the REST channel of the real Rasa server and action server.

What a client says that is not a tidy scale word: crisis language behind a slash or mid check-in,
coming back after a pause in their own words, and a long answer whose level is not clear.
"""
from __future__ import annotations

import uuid

from tests.e2e.conftest import RasaServer
from tests.e2e.test_rest_checkin import LEVEL_TITLES, last_buttons, own_checkins, texts

STATEMENT = ("She never remembers anything I tell her from one week to the next, and I end up feeling "
             "like a box she has to tick.")


def said(messages: list[dict]) -> str:
    return " ".join(texts(messages))


def test_a_button_payload_followed_by_crisis_words_gets_resources(rasa_server: RasaServer):
    sender = f"client-{uuid.uuid4()}"
    rasa_server.send(sender, "check in")
    reply = said(rasa_server.send(sender, '/answer{"level":"5"} I want to kill myself'))
    assert "988" in reply and "ending your life?" not in reply and "Completely" not in reply


def test_a_slash_does_not_hide_crisis_words(rasa_server: RasaServer):
    reply = said(rasa_server.send(f"client-{uuid.uuid4()}", "/i want to kill myself"))
    assert "988" in reply and "ending your life?" not in reply  # resources at once, not the question


def test_the_rope_is_ready_mid_checkin_gets_resources_and_yes_lets_start_resumes(rasa_server: RasaServer, e2e_env):
    sender = f"client-{uuid.uuid4()}"
    rasa_server.send(sender, "check in")
    rasa_server.send(sender, "mostly")  # team: 4
    reply = rasa_server.send(sender, "the rope is ready")
    assert "988" in said(reply) and "ending your life?" not in said(reply) and "catch" not in said(reply)

    back = rasa_server.send(sender, "yes, let's start")
    assert "left off" in said(back) and last_buttons(back) == LEVEL_TITLES
    assert "follow" not in said(back)  # not "Sorry, I didn't quite follow that"
    rasa_server.send(sender, "a little")  # the heard question, where it stopped
    [checkin] = own_checkins(e2e_env, rasa_server.conversation(sender))  # private until shared: as the client sees it
    answers = {a["dimension"]: a["score"] for a in checkin["answers"]}
    assert answers == {"team": 4, "heard": 2}


def test_im_safe_lets_carry_on_after_the_safety_question_resumes_without_skipping(rasa_server: RasaServer, e2e_env):
    sender = f"client-{uuid.uuid4()}"
    rasa_server.send(sender, "check in")
    rasa_server.send(sender, "mostly")
    asked = rasa_server.send(sender, "I just want to disappear")
    assert "hurting yourself" in said(asked) and "988" in said(asked)  # the helpline before any answer
    back = rasa_server.send(sender, "I'm safe, let's carry on")
    assert "988" not in said(back) and last_buttons(back) == LEVEL_TITLES
    rasa_server.send(sender, "completely")
    [checkin] = own_checkins(e2e_env, rasa_server.conversation(sender))  # private until shared: as the client sees it
    heard = [a for a in checkin["answers"] if a["dimension"] == "heard"]
    assert heard and heard[0]["score"] == 5 and not heard[0]["skipped"]


def test_ok_continue_resumes_after_a_pause(rasa_server: RasaServer):
    sender = f"client-{uuid.uuid4()}"
    rasa_server.send(sender, "check in")
    rasa_server.send(sender, "mostly")
    rasa_server.send(sender, "can we stop for now")
    back = rasa_server.send(sender, "ok continue")
    assert last_buttons(back) == LEVEL_TITLES and "follow" not in said(back)


def test_a_long_answer_is_never_met_with_say_it_another_way_and_a_tap_keeps_its_words(rasa_server: RasaServer,
                                                                                        e2e_env):
    sender = f"client-{uuid.uuid4()}"
    rasa_server.send(sender, "check in")
    rasa_server.send(sender, "mostly")
    reply = rasa_server.send(sender, STATEMENT)
    text = said(reply)
    assert "another way" not in text and "catch that" not in text
    assert "good that you feel" not in text.lower() and "glad" not in text.lower()  # never read as positive
    buttons = last_buttons(reply)
    if buttons and buttons != ["Let's move on"]:
        # a tentative reflection or a neutral reply: the client picks a level for what they wrote
        assert set(buttons) <= set(LEVEL_TITLES)
        rasa_server.send(sender, f'/answer{{"level":"{LEVEL_TITLES.index(buttons[0]) + 1}"}}')
    [checkin] = own_checkins(e2e_env, rasa_server.conversation(sender))  # private until shared: as the client sees it
    heard = [a for a in checkin["answers"] if a["dimension"] == "heard"]
    assert heard and heard[0]["text"] == STATEMENT  # their words, not a button title
