"""Runs the deterministic crisis detector (`bot.safety`) on every message, after the classifier.

The classifier alone is not trusted with safety: whatever intent it chose, crisis language
becomes the `crisis` intent, unclear language `crisis_unclear`. When the classifier says
crisis but the detector recognises a harmless idiom ("this traffic is killing me"), the next
best intent is used instead, so idioms do not derail a check-in; when the detector has no
opinion, the bot asks gently rather than guess.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.safety import assess

logger = logging.getLogger(__name__)

CRISIS = "crisis"
UNCLEAR = "crisis_unclear"


def safety_intent(text: str, classified: Optional[str], ranking: List[Dict[Text, Any]]) -> Optional[str]:
    """The intent to use instead of `classified`, or None to keep it."""
    result = assess(text)
    if result.level == "crisis":
        return CRISIS
    if result.level == "unclear":
        return UNCLEAR
    if classified not in (CRISIS, UNCLEAR):
        return None
    if result.idiom:
        for candidate in ranking:
            name = candidate.get(INTENT_NAME_KEY)
            if name not in (CRISIS, UNCLEAR, None):
                return name
        return "out_of_scope"
    return UNCLEAR


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyOverride(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SafetyOverride":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):
                continue  # a button payload: the client chose it, there are no words to read
            intent = message.get(INTENT) or {}
            ranking = message.get(INTENT_RANKING_KEY) or []
            override = safety_intent(text, intent.get(INTENT_NAME_KEY), ranking)
            if override is None or override == intent.get(INTENT_NAME_KEY):
                continue
            logger.info("safety layer set intent %s", override)  # never the text
            message.set(INTENT, {INTENT_NAME_KEY: override, "confidence": 1.0}, add_to_output=True)
            message.set(
                INTENT_RANKING_KEY,
                [{INTENT_NAME_KEY: override, "confidence": 1.0}]
                + [r for r in ranking if r.get(INTENT_NAME_KEY) != override],
                add_to_output=True,
            )
        return messages

    def process_training_data(self, training_data: Any) -> Any:
        return training_data
