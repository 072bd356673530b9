"""Replies to what the channels report about enrolment (channels/enrolment.py sends the intents,
never read from a client's words): an invitation was used, a code did not work, the client left."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import latest_intent, settings
from bot.consent import intro_response
from bot.enrolment import ENROLLED

FORM = "checkin_form"


class ActionEnrolmentReply(Action):
    """In the practice's name: a welcome, then the introduction and the offer to start (unless a
    check-in is under way: the form asks its question again); or a kind word about a code that
    did not work."""

    def name(self) -> Text:
        return "action_enrolment_reply"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        practice = settings().practice_name
        if latest_intent(tracker) != ENROLLED:
            dispatcher.utter_message(response="utter_invitation_not_valid", practice=practice)
            return []
        dispatcher.utter_message(response="utter_enrolled", practice=practice)
        if (tracker.active_loop or {}).get("name") == FORM:
            return []
        dispatcher.utter_message(response=intro_response(settings().share_default))
        return [SlotSet("offer", "start")]


class ActionLeftPractice(Action):
    """The client left (the channel already unbound them): goodbye in the practice's name, and any
    check-in under way stops here."""

    def name(self) -> Text:
        return "action_left_practice"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_left_practice", practice=settings().practice_name)
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("offer", None)]
