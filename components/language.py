"""Runs Rapport's language layer (bot/language/understand.py) on every message, after the classifier.

For each message it:
- reads the client's words even behind a leading "/" (a typed slash, or a button payload followed
  by words): a message that is exactly a button payload carries no words; anything more is read
  as words, and the text Rasa keeps becomes those words, so Rasa's payload handler cannot turn
  "/answer{"level":"5"} I want to kill myself" into a tap on "Completely";
- sets the intent to `crisis` or `crisis_unclear` when the crisis layer says so, whatever the
  classifier chose (and back from crisis when the classifier alone said it but the layer reads a
  joke or an idiom);
- takes words the classifier filed under a side question ("why...", "keep it private") as an
  answer when they read as an answer about the therapist (long real answers often look unlike
  the short training examples);
- attaches the reading of the answer (`rapport`: level, band, choices, quote) for the actions.
"""
from __future__ import annotations

import logging
import re
import threading
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.language.model import model_path, shared_model
from bot.language.understand import understand
from bot.safety import CRISIS, UNCLEAR

logger = logging.getLogger(__name__)

CRISIS_INTENT = "crisis"
UNCLEAR_INTENT = "crisis_unclear"
ANSWER_INTENT = "answer"
READING_KEY = "rapport"
# Intents whose examples are short side questions and replies; a long message the classifier
# files under one of them, and that reads as an answer about the therapist, is an answer.
SIDE_INTENTS = frozenset({"ask_why", "ask_more", "ask_privacy", "keep_private", "share_checkin", "goodbye",
                          "bot_challenge", "pause", "skip_question", "go_back", "out_of_scope", "nlu_fallback",
                          "thank", "show_summary", "delete_data", "greet", "affirm", "deny"})
LONG_MESSAGE_WORDS = 8
ANSWER_LIKENESS = 0.7
_PAYLOAD = re.compile(r"^/([A-Za-z_][\w-]*)(?:@[0-9.]+)?(?:\{[^{}]*\})?")
# The intents the bot's own buttons (domain.yml) and channel adapters (Telegram's "/start" becomes
# "/greet") send: only those are taps. Any other "/word" is words. tests/components keeps this in
# step with domain.yml.
PAYLOAD_INTENTS = frozenset({"answer", "affirm", "deny", "start_checkin", "ask_more", "share_checkin",
                             "keep_private", "greet"})


def words_of(text: str) -> str:
    """The words a client typed: "" for an exact button payload ("/answer{"level":"3"}"), the
    rest after a payload, and the text without its leading "/" otherwise."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return text
    match = _PAYLOAD.match(stripped)
    if match is not None and match.group(1) in PAYLOAD_INTENTS:
        return stripped[match.end():].strip()
    return stripped.lstrip("/").strip()


def is_exact_payload(text: str) -> bool:
    """True for exactly one of the bot's button payloads, nothing before or after it."""
    stripped = text.strip()
    match = _PAYLOAD.match(stripped)
    return bool(match and match.end() == len(stripped) and match.group(1) in PAYLOAD_INTENTS)


# A short, everyday reply the classifier is sure of ("keep it just for me", "yes please"): the
# learned crisis layer alone (no rule) may not turn it into a safety question. Rules still may.
ORDINARY_INTENTS = frozenset({"keep_private", "share_checkin", "affirm", "deny", "greet", "goodbye", "thank",
                              "start_checkin", "skip_question", "go_back", "ask_privacy", "ask_why", "ask_more",
                              "bot_challenge", "show_summary", "delete_data", "pause"})
ORDINARY_CONFIDENCE = 0.8
ORDINARY_WORDS = 6


def routed_intent(classified: Optional[str], ranking: List[Dict[Text, Any]], safety_level: str,
                  answer_likeness: Optional[float], words: str, confidence: float = 0.0,
                  learned_only: bool = False) -> Optional[str]:
    """The intent to use instead of the classifier's, or None to keep it."""
    if safety_level == CRISIS:
        return CRISIS_INTENT
    ordinary = (classified in ORDINARY_INTENTS and confidence >= ORDINARY_CONFIDENCE
                and len(words.split()) <= ORDINARY_WORDS)
    if safety_level == UNCLEAR and not (learned_only and ordinary):
        return UNCLEAR_INTENT
    if classified in (CRISIS_INTENT, UNCLEAR_INTENT):
        # The classifier alone read crisis language; the layer read none (a joke, an idiom):
        # the next best intent stands.
        for candidate in ranking:
            name = candidate.get(INTENT_NAME_KEY)
            if name not in (CRISIS_INTENT, UNCLEAR_INTENT, None):
                return name
        return "out_of_scope"
    if (classified in SIDE_INTENTS and answer_likeness is not None and answer_likeness >= ANSWER_LIKENESS
            and len(words.split()) >= LONG_MESSAGE_WORDS and "?" not in words):
        return ANSWER_INTENT
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RapportLanguage(GraphComponent):
    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "RapportLanguage":
        if model_path().exists():
            # Load the encoder and heads now, in the background, not on the first client's message.
            threading.Thread(target=shared_model, name="rapport-language-load", daemon=True).start()
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if is_exact_payload(text):
                continue  # a button: the client chose it, there are no words to read
            words = words_of(text)
            if words != text:
                message.set(TEXT, words)  # Rasa's payload handler must not unpack what follows
            if not words:
                continue
            understanding = understand(words)
            intent = message.get(INTENT) or {}
            ranking = message.get(INTENT_RANKING_KEY) or []
            override = routed_intent(intent.get(INTENT_NAME_KEY), ranking, understanding.safety.level,
                                     understanding.answer_likeness, words, float(intent.get("confidence") or 0.0),
                                     understanding.safety.source == "learned")
            message.set(READING_KEY, understanding.as_dict(), add_to_output=True)
            if override is None or override == intent.get(INTENT_NAME_KEY):
                continue
            logger.info("language layer set intent %s", override)  # never the text
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
