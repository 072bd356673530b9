"""Crisis handling: resources at once, the check-in paused, the event flagged (never the words)."""
from __future__ import annotations

from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import pause_checkin, record_and_alert, settings
from bot import metrics
from bot.resources import crisis_message, safe_ack_message, safety_check_question
from bot.vocabulary import CRISIS, CRISIS_UNCLEAR


def pause_and_flag(tracker: Tracker, kind: str) -> List[EventType]:
    """Pauses any check-in in progress, records a flagged event, alerts the practice if configured."""
    checkin_id: Optional[int] = tracker.get_slot("checkin_id")
    pause_checkin(tracker)
    metrics.CRISIS_EVENTS.labels(kind).inc()
    record_and_alert(tracker, kind, checkin_id)
    return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("pending_answer", None)]


class ActionCrisisResponse(Action):
    """Crisis language: a calm message with crisis resources, before anything else."""

    def name(self) -> Text:
        return "action_crisis_response"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        config = settings()
        under_way = tracker.active_loop_name == "checkin_form"
        dispatcher.utter_message(
            text=crisis_message(config.locale, config.practice_name, config.oncall_number, under_way)
        )
        # "yes, let's carry on" later picks the paused check-in up where it stopped.
        return pause_and_flag(tracker, CRISIS) + [SlotSet("offer", "resume" if under_way else None)]


class ActionSafetyCheck(Action):
    """Unclear words: pause and ask gently whether they are thinking of hurting themselves."""

    def name(self) -> Text:
        return "action_safety_check"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(
            text=safety_check_question(settings().locale),
            buttons=[
                {"title": "Yes", "payload": "/affirm"},
                {"title": "No, I'm safe", "payload": "/deny"},
            ],
        )
        return pause_and_flag(tracker, CRISIS_UNCLEAR) + [SlotSet("offer", "safety_check")]


class ActionSafeAck(Action):
    """They said they are safe: thank them, and offer to carry on with (or start) the check-in."""

    def name(self) -> Text:
        return "action_safe_ack"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(text=safe_ack_message())
        dispatcher.utter_message(response="utter_offer_resume")
        return [SlotSet("offer", "resume")]
