"""The client's data rights: delete everything (after a confirmation), see the last summary,
and choose whether a check-in is shared with the therapist."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import alert_practice, client_of, latest_intent, pause_checkin, with_store
from bot.dimensions import is_very_low
from bot.vocabulary import ERASE_SLOT

# Set only after a confirmed deletion succeeded; components/tracker_store.py then erases the
# stored conversation instead of saving it.


class ActionConfirmDelete(Action):
    """Asks before deleting; a check-in in progress is paused meanwhile."""

    def name(self) -> Text:
        return "action_confirm_delete"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.active_loop_name:
            pause_checkin(tracker)
        dispatcher.utter_message(response="utter_confirm_delete")
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("offer", "delete")]


class ActionDeleteData(Action):
    """Deletes the client's check-ins, answers, summaries and events, then this conversation."""

    def name(self) -> Text:
        return "action_delete_data"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        client = client_of(tracker)
        ok, _ = with_store("delete_client", lambda s: s.delete_client(client))
        if not ok:
            dispatcher.utter_message(response="utter_delete_failed")
            return [SlotSet("offer", None)]
        dispatcher.utter_message(response="utter_deleted")
        # The tracker store erases the whole conversation when it sees this slot.
        return [SlotSet("offer", None), SlotSet(ERASE_SLOT, True)]


class ActionShowSummary(Action):
    """Shows the client their own last completed check-in."""

    def name(self) -> Text:
        return "action_show_summary"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        client = client_of(tracker)
        ok, last = with_store("last_completed", lambda s: s.last_completed(client))
        if not ok:
            dispatcher.utter_message(response="utter_store_unavailable")
        elif last is None or not last.summary:
            dispatcher.utter_message(response="utter_no_summary_yet")
        else:
            date = (last.completed_at or last.started_at).strftime("%d %B %Y").lstrip("0")
            dispatcher.utter_message(response="utter_last_summary", date=date, summary=last.summary)
        return []


class ActionSetSharing(Action):
    """Records the client's choice: share the check-in with the therapist, or keep it private."""

    def name(self) -> Text:
        return "action_set_sharing"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        shared = latest_intent(tracker) in ("share_checkin", "affirm")
        client = client_of(tracker)
        ok, last = with_store("last_completed", lambda s: s.last_completed(client))
        if ok and last is not None:
            ok, _ = with_store("set_shared", lambda s: s.set_shared(last.id, shared))
        if not ok or last is None:
            dispatcher.utter_message(response="utter_store_unavailable")
            return [SlotSet("offer", None)]
        dispatcher.utter_message(response="utter_shared" if shared else "utter_kept_private")
        # Only a shared check-in may tell the practice anything about how it went.
        if shared and is_very_low({d: a.score for d, a in last.answers.items()}):
            alert_practice(tracker, "very_low_checkin", last.id)
        return [SlotSet("offer", None)]
