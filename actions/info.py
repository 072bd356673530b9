"""Answers about what Rapport stores and who can read it, from the deployment's configuration."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import settings


class ActionExplainPrivacy(Action):
    def name(self) -> Text:
        return "action_explain_privacy"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        config = settings()
        who = (
            "your therapist can read them once you've agreed (by going ahead after I've said so at "
            "the start, or by choosing to share at the end), unless you keep a check-in private"
            if config.share_default != "private"
            else "they stay private unless you choose to share a check-in with your therapist"
        )
        dispatcher.utter_message(
            response="utter_privacy", who=who, retention_days=config.retention_days
        )
        return []
