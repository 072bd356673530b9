"""The NLU safety override: the deterministic detector decides, whatever the classifier said."""
from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.safety_override import SafetyOverride, safety_intent

RANKING = [{"name": "crisis", "confidence": 0.7}, {"name": "answer", "confidence": 0.2},
           {"name": "out_of_scope", "confidence": 0.1}]


@pytest.mark.parametrize("text", [
    "mostly, but honestly I want to kill myself",
    "i took all my pills an hour ago",
    "everyone would be better off without me",
])
def test_crisis_language_wins_over_an_answer_intent(text):
    assert safety_intent(text, "answer", [{"name": "answer", "confidence": 0.99}]) == "crisis"


def test_an_idiom_the_classifier_misread_falls_back_to_the_next_intent():
    assert safety_intent("this traffic is killing me", "crisis", RANKING) == "answer"


def test_classifier_crisis_without_detector_support_asks_gently():
    assert safety_intent("it is what it is I suppose", "crisis", RANKING) == "crisis_unclear"


def test_ordinary_answers_are_left_alone():
    assert safety_intent("yeah mostly", "answer", RANKING[1:]) is None


def test_the_component_rewrites_intent_and_ranking_but_not_button_payloads():
    component = SafetyOverride()
    crisis = Message(data={TEXT: "i don't want to be alive anymore",
                           INTENT: {"name": "answer", "confidence": 0.9},
                           INTENT_RANKING_KEY: [{"name": "answer", "confidence": 0.9}]})
    button = Message(data={TEXT: '/answer{"level":"1"}', INTENT: {"name": "answer", "confidence": 1.0}})
    component.process([crisis, button])
    assert crisis.get(INTENT)["name"] == "crisis"
    assert crisis.get(INTENT_RANKING_KEY)[0]["name"] == "crisis"
    assert button.get(INTENT)["name"] == "answer"
