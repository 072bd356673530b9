"""components/language.py: the language layer as a Rasa NLU component, on real Rasa Messages."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.language import PAYLOAD_INTENTS, READING_KEY, RapportLanguage, is_exact_payload, routed_intent, words_of

ROOT = Path(__file__).resolve().parents[2]


def message(text: str, intent: str, confidence: float = 0.9) -> Message:
    m = Message({TEXT: text})
    m.set(INTENT, {"name": intent, "confidence": confidence})
    m.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": confidence}, {"name": "answer", "confidence": 0.05}])
    return m


def run(*messages: Message) -> list[Message]:
    return RapportLanguage().process(list(messages))


def test_every_payload_the_bot_sends_is_known_as_one() -> None:
    domain = (ROOT / "domain.yml").read_text(encoding="utf-8")
    sent = set(re.findall(r"payload: ['\"]?/(\w+)", domain))
    sent |= {"greet"}  # channels/telegram.py turns Telegram's /start into /greet
    assert sent <= PAYLOAD_INTENTS


@pytest.mark.parametrize("text, exact, words", [
    ('/answer{"level":"3"}', True, ""),
    ('/affirm', True, ""),
    ('/answer{"level":"5"} I want to kill myself', False, "I want to kill myself"),
    ('/kill_myself', False, "kill_myself"),
    ('/stop', False, "stop"),
    ('hello', False, "hello"),
])
def test_only_an_exact_button_payload_carries_no_words(text: str, exact: bool, words: str) -> None:
    assert is_exact_payload(text) is exact
    assert words_of(text) == words


def test_a_payload_followed_by_crisis_words_is_a_crisis_and_keeps_only_the_words() -> None:
    [m] = run(message('/answer{"level":"5"} I want to kill myself', "answer"))
    assert m.get(INTENT)["name"] == "crisis"
    assert m.get(TEXT) == "I want to kill myself"  # Rasa's payload handler can no longer unpack it


def test_a_button_tap_is_left_alone() -> None:
    [m] = run(message('/answer{"level":"4"}', "answer"))
    assert m.get(INTENT)["name"] == "answer" and m.get(READING_KEY) is None


def test_crisis_words_override_whatever_the_classifier_chose() -> None:
    [crisis, unclear, idiom] = run(message("the rope is ready", "answer"),
                                   message("I want to jump", "out_of_scope"),
                                   message("this traffic is killing me", "crisis"))
    assert crisis.get(INTENT)["name"] == "crisis"
    assert unclear.get(INTENT)["name"] == "crisis_unclear"
    assert idiom.get(INTENT)["name"] not in ("crisis", "crisis_unclear")  # the layer read an idiom


def test_a_long_answer_filed_under_a_side_question_is_an_answer() -> None:
    [m] = run(message("She seemed to be justifying everything that happened and making it all my issue "
                      "rather than listening to me", "keep_private", 0.95))
    assert m.get(INTENT)["name"] == "answer"
    reading = m.get(READING_KEY)
    assert reading["band"] in (None, "negative", "mixed") and reading["level"] not in (4, 5)


def test_short_side_questions_stay_side_questions() -> None:
    [why, skip] = run(message("why are you asking me this?", "ask_why"), message("skip this one", "skip_question"))
    assert why.get(INTENT)["name"] == "ask_why" and skip.get(INTENT)["name"] == "skip_question"


def test_routing_rules() -> None:
    ranking = [{"name": "crisis", "confidence": 0.6}, {"name": "answer", "confidence": 0.3}]
    assert routed_intent("answer", [], "crisis", None, "x") == "crisis"
    assert routed_intent("crisis", ranking, "none", 0.9, "my feet are killing me") == "answer"
    assert routed_intent("ask_why", [], "none", 0.95, "so she kept asking me why I never talk about my dad") == "answer"
    assert routed_intent("ask_why", [], "none", 0.95, "why does she keep asking me why I never talk about it?") is None


def test_the_pipeline_uses_this_component_last() -> None:
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    assert pipeline[-1]["name"] == "components.language.RapportLanguage"
