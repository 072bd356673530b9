"""The check-in: start or resume, validate each answer, digressions, pause, submit.

The logic (scoring, reply choice, storage) lives in `bot/`; these actions only move values
between the Rasa tracker and those functions.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    button_level,
    channel_of,
    client_of,
    latest_intent,
    own_checkin,
    pause_checkin,
    settings,
    with_store,
)
from bot.consent import intro_response, shared_from_start
from bot.dimensions import DIMENSIONS, LEVELS, MIXED, NEGATIVE, band
from bot.language.answers import Reading, read_answer
from bot.language.reflect import is_long
from bot.replies import choose, choose_reply, choose_tentative, summary_lines
from bot.store import FinalAnswer
from bot.vocabulary import ABANDONED, IN_PROGRESS

FORM = "checkin_form"
MORE = "_more"
STORE_ERROR_NOTICE = "store_error"  # marker in used_replies: the client was told once already
STALE_AFTER = timedelta(days=7)  # an unfinished check-in older than this is abandoned
PENDING = "pending_answer"  # {"dimension", "words"}: words whose level the client is asked to confirm
CONFIRM_WORDS = 6  # a reply this short, after a tentative reflection, confirms the level


def more_slot(dimension: str) -> str:
    return f"{dimension}{MORE}"


def dimension_of(slot: str) -> str:
    return slot[: -len(MORE)] if slot.endswith(MORE) else slot


def invites_more(score: Optional[int]) -> bool:
    """Low and mixed answers get an optional invitation to say more."""
    return score is not None and band(score) in (NEGATIVE, MIXED)


def fresh_answer_slots() -> List[EventType]:
    """Slot events that clear every answer of the check-in."""
    events: List[EventType] = []
    for dimension in DIMENSIONS:
        events += [SlotSet(dimension, None), SlotSet(more_slot(dimension), None)]
    return events + [SlotSet("scores", {}), SlotSet("used_replies", []), SlotSet(PENDING, None)]



def level_buttons(levels) -> List[Dict[Text, Any]]:
    return [{"title": LEVELS[level][:1].upper() + LEVELS[level][1:], "payload": f'/answer{{"level":"{level}"}}'}
            for level in levels]


def reading_of(tracker: Tracker, words: str) -> Reading:
    """The language layer's reading of the latest message (components/language.py attaches it);
    read here from the lexicon alone if the message came without one."""
    attached = tracker.latest_message.get("rapport")
    reading = Reading.from_dict(attached)
    return reading if reading is not None else read_answer(words)


def pending_words(tracker: Tracker, dimension: str) -> Optional[str]:
    pending = tracker.get_slot(PENDING)
    if isinstance(pending, dict) and pending.get("dimension") == dimension and pending.get("words"):
        return str(pending["words"])
    return None


def is_new_input(value: Any, tracker: Tracker) -> bool:
    """True when `value` is what the client just typed (not a value restored or set by an action)."""
    return value is not None and value == tracker.latest_message.get("text")


def start_new_checkin(tracker: Tracker) -> Optional[int]:
    """Creates a check-in in the store; None when the store is unreachable."""
    # Visible before the client chooses only if the introduction told them so (bot/consent.py).
    shared = shared_from_start(settings().share_default, tracker.events)
    _, checkin_id = with_store(
        "start_checkin",
        lambda s: s.start_checkin(client_of(tracker), channel_of(tracker), shared),
    )
    return checkin_id


def ensure_checkin(tracker: Tracker) -> Optional[int]:
    """The id of this conversation's check-in, creating it if an earlier write failed (or if the
    slot names a check-in that is not this client's: a conversation only writes its own)."""
    checkin_id = own_checkin(tracker)
    return checkin_id if checkin_id is not None else start_new_checkin(tracker)


def save(tracker: Tracker, dispatcher: CollectingDispatcher, used: List[str], what: str, fn) -> Dict[Text, Any]:
    """Write to the store for this check-in; tell the client once if it failed. Returns slot updates."""
    checkin_id = ensure_checkin(tracker)
    ok = checkin_id is not None and with_store(what, lambda s: fn(s, checkin_id))[0]
    updates: Dict[Text, Any] = {"checkin_id": checkin_id}
    if not ok and STORE_ERROR_NOTICE not in used:
        dispatcher.utter_message(response="utter_store_error")
        updates["used_replies"] = used + [STORE_ERROR_NOTICE]
    return updates


class ValidateCheckinForm(FormValidationAction):
    """Scores each answer, replies with empathy, records it, and adds optional follow-ups."""

    def name(self) -> Text:
        return "validate_checkin_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        scores = tracker.get_slot("scores") or {}
        slots: List[Text] = []
        for dimension in DIMENSIONS:
            slots.append(dimension)
            if invites_more(scores.get(dimension)):
                slots.append(more_slot(dimension))
        return slots

    def _validate_answer(
        self, dimension: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[Text, Any]:
        scores = dict(tracker.get_slot("scores") or {})
        if dimension in scores or not is_new_input(value, tracker):
            return {dimension: value}  # restored on resume, or set by skip / go back
        used = list(tracker.get_slot("used_replies") or [])
        typed = str(value).strip()
        earlier = pending_words(tracker, dimension)
        level = button_level(tracker)
        reading = None if level else reading_of(tracker, typed)
        if level:
            score, words = level, earlier or LEVELS[level]  # a tap keeps the words it confirms
        elif reading.level is not None and earlier and reading.how == "lexicon" and len(typed.split()) <= CONFIRM_WORDS:
            score, words = reading.level, earlier  # "a little", typed after a tentative reflection
        elif reading.level is not None:
            score, words = reading.level, typed
        else:
            return self._ask_to_confirm(dimension, typed, reading, used, dispatcher)

        quote = reading.quote if reading is not None else None
        long_answer = is_long(words)
        reply = choose_reply(dimension, score, used, words=quote if long_answer else (None if level else words),
                             reflect=long_answer and quote is not None)
        dispatcher.utter_message(text=reply.text)
        used.append(reply.id)
        scores[dimension] = score
        updates = save(
            tracker, dispatcher, used, "record_answer",
            lambda s, checkin_id: s.record_answer(checkin_id, dimension, score, words),
        )
        return {"used_replies": used, **updates, dimension: words, "scores": scores,
                more_slot(dimension): None, PENDING: None}

    def _ask_to_confirm(self, dimension: str, typed: str, reading: Reading, used: List[str],
                        dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
        """The level is not clear: reflect tentatively and offer the band's levels, validate
        neutrally and offer all five, or (no answer in the words at all) ask again."""
        if reading.band is not None and reading.choices:
            reflection, question = choose_tentative(dimension, reading.band, used)
            opening = f"You said “{reading.quote}”. " if reading.quote else ""
            dispatcher.utter_message(text=f"{opening}{reflection.text} {question.text}",
                                     buttons=level_buttons(reading.choices))
            return {dimension: None, "used_replies": used + [reflection.id, question.id],
                    PENDING: {"dimension": dimension, "words": typed}}
        if reading.how == "model":
            reply = choose("neutral", used)
            dispatcher.utter_message(text=reply.text, buttons=level_buttons(LEVELS))
            return {dimension: None, "used_replies": used + [reply.id],
                    PENDING: {"dimension": dimension, "words": typed}}
        reply = choose("unsure" if reading.how == "unsure" else "unclear", used)
        dispatcher.utter_message(text=reply.text)
        return {dimension: None, "used_replies": used + [reply.id], PENDING: None}

    def _validate_more(
        self, dimension: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[Text, Any]:
        slot = more_slot(dimension)
        if not is_new_input(value, tracker):
            return {slot: value}
        words = str(value).strip()
        intent = latest_intent(tracker)
        if intent == "deny" or not words:
            return {slot: ""}  # "let's move on"
        if intent == "affirm" and len(words.split()) <= 3:
            return {slot: None}  # "yes" - they want to say more: invite again
        used = list(tracker.get_slot("used_replies") or [])
        reply = choose("followup_thanks", used)
        dispatcher.utter_message(text=reply.text)
        used.append(reply.id)
        updates = save(
            tracker, dispatcher, used, "record_followup",
            lambda s, checkin_id: s.record_followup(checkin_id, dimension, words),
        )
        return {"used_replies": used, **updates, slot: words}

    def validate_team(self, value, dispatcher, tracker, domain):
        return self._validate_answer("team", value, dispatcher, tracker)

    def validate_heard(self, value, dispatcher, tracker, domain):
        return self._validate_answer("heard", value, dispatcher, tracker)

    def validate_warmth(self, value, dispatcher, tracker, domain):
        return self._validate_answer("warmth", value, dispatcher, tracker)

    def validate_worth(self, value, dispatcher, tracker, domain):
        return self._validate_answer("worth", value, dispatcher, tracker)

    def validate_understood(self, value, dispatcher, tracker, domain):
        return self._validate_answer("understood", value, dispatcher, tracker)

    def validate_team_more(self, value, dispatcher, tracker, domain):
        return self._validate_more("team", value, dispatcher, tracker)

    def validate_heard_more(self, value, dispatcher, tracker, domain):
        return self._validate_more("heard", value, dispatcher, tracker)

    def validate_warmth_more(self, value, dispatcher, tracker, domain):
        return self._validate_more("warmth", value, dispatcher, tracker)

    def validate_worth_more(self, value, dispatcher, tracker, domain):
        return self._validate_more("worth", value, dispatcher, tracker)

    def validate_understood_more(self, value, dispatcher, tracker, domain):
        return self._validate_more("understood", value, dispatcher, tracker)


class AskQuestion(Action):
    """Asks a dimension's question, unless a reflection with its own buttons was just sent
    (the client is choosing a level for the words they wrote)."""

    dimension = ""

    def name(self) -> Text:
        return f"action_ask_{self.dimension}"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if pending_words(tracker, self.dimension) is None:
            dispatcher.utter_message(response=f"utter_ask_{self.dimension}")
        return []


ASK_ACTIONS = [type(f"Ask{d.title()}", (AskQuestion,), {"dimension": d}) for d in DIMENSIONS]


def open_checkin(tracker: Tracker) -> tuple[bool, Any]:
    """(store reachable, this client's unfinished check-in or None). Stale ones are abandoned."""
    client = client_of(tracker)
    ok, found = with_store("open_checkin", lambda s: s.open_checkin(client))
    if found is not None and datetime.now(timezone.utc) - found.updated_at > STALE_AFTER:
        with_store("set_status", lambda s: s.set_status(found.id, ABANDONED))
        found = None
    return ok, found


class ActionGreet(Action):
    """Hello: offers to resume an unfinished check-in, or introduces Rapport."""

    def name(self) -> Text:
        return "action_greet"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        _, found = open_checkin(tracker)
        if found is not None and found.answers:
            answered = len(found.answers)
            dispatcher.utter_message(
                response="utter_welcome_back", answered=answered, remaining=len(DIMENSIONS) - answered
            )
            return [SlotSet("offer", "resume")]
        dispatcher.utter_message(response=intro_response(settings().share_default))
        return [SlotSet("offer", "start")]


class ActionOpenScheduled(Action):
    """The practice's scheduled check-in or its reminder (the scheduler triggers the intent through
    Rasa's HTTP API, bot/schedule_tick.py): an invitation in the practice's name to start, or to
    carry on with the unfinished check-in; "yes" or "1" then starts it like any other offer."""

    def name(self) -> Text:
        return "action_open_scheduled"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        practice = settings().practice_name
        _, found = open_checkin(tracker)
        if found is not None and found.answers:
            answered = len(found.answers)
            dispatcher.utter_message(
                response="utter_scheduled_resume", practice=practice, answered=answered,
                remaining=len(DIMENSIONS) - answered,
            )
            return [SlotSet("offer", "resume")]
        reminder = (tracker.latest_message or {}).get("intent", {}).get("name") == "checkin_reminder"
        dispatcher.utter_message(response="utter_checkin_reminder" if reminder else "utter_scheduled_checkin", practice=practice)
        return [SlotSet("offer", "start")]


class ActionDeclineOffer(Action):
    """"No" to an offer: nothing happens, and the offer is withdrawn so a later "yes" can't act on it."""

    def name(self) -> Text:
        return "action_decline_offer"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        offer = tracker.get_slot("offer")
        dispatcher.utter_message(response="utter_kept_data" if offer == "delete" else "utter_maybe_later")
        return [SlotSet("offer", None)]


class ActionStartCheckin(Action):
    """Starts a new check-in, or resumes the unfinished one from where the client left off."""

    def name(self) -> Text:
        return "action_start_checkin"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events: List[EventType] = [SlotSet("offer", None), SlotSet("requested_slot", None)]
        ok, found = open_checkin(tracker)
        if not ok and tracker.get_slot("scores"):
            return events  # the store is unreachable: resume from what the tracker holds
        if found is not None:
            with_store("set_status", lambda s: s.set_status(found.id, IN_PROGRESS))
            events += fresh_answer_slots()
            scores: Dict[str, Optional[int]] = {}
            for dimension, answer in found.answers.items():
                scores[dimension] = answer.score
                events.append(SlotSet(dimension, answer.text or ""))
                # An answered question's optional follow-up is never asked again on resuming: a
                # follow-up passed over ("Let's move on") is not in the store, and coming back to it
                # would put the client one question behind where they stopped.
                events.append(SlotSet(more_slot(dimension), answer.followup or ""))
            events += [SlotSet("scores", scores), SlotSet("checkin_id", found.id)]
            if found.answers:
                dispatcher.utter_message(response="utter_resuming")
            return events
        return events + fresh_answer_slots() + [SlotSet("checkin_id", start_new_checkin(tracker))]


class ActionSkipQuestion(Action):
    """Skips the question being asked (a skipped follow-up just moves on)."""

    def name(self) -> Text:
        return "action_skip_question"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        requested = tracker.get_slot("requested_slot")
        if tracker.active_loop_name != FORM or not requested:
            dispatcher.utter_message(response="utter_nothing_to_skip")
            return []
        if requested.endswith(MORE):
            return [SlotSet(requested, "")]
        dimension = dimension_of(requested)
        used = list(tracker.get_slot("used_replies") or [])
        reply = choose("skipped", used)
        dispatcher.utter_message(text=reply.text)
        used.append(reply.id)
        scores = dict(tracker.get_slot("scores") or {})
        scores[dimension] = None
        updates = save(
            tracker, dispatcher, used, "record_answer",
            lambda s, checkin_id: s.record_answer(checkin_id, dimension, None, "", skipped=True),
        )
        updates = {"used_replies": used, **updates, dimension: "", "scores": scores, PENDING: None}
        return [SlotSet(key, value) for key, value in updates.items()]


class ActionGoBack(Action):
    """Goes back to the previous answer so the client can change it."""

    def name(self) -> Text:
        return "action_go_back"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        requested = tracker.get_slot("requested_slot")
        if tracker.active_loop_name != FORM or not requested:
            dispatcher.utter_message(response="utter_nothing_to_skip")
            return []
        dimension = dimension_of(requested)
        if requested.endswith(MORE):
            target = dimension  # the answer they just gave
        else:
            index = DIMENSIONS.index(dimension)
            if index == 0:
                dispatcher.utter_message(response="utter_back_at_first")
                return []
            target = DIMENSIONS[index - 1]
        scores = dict(tracker.get_slot("scores") or {})
        scores.pop(target, None)
        dispatcher.utter_message(response="utter_going_back")
        return [SlotSet(target, None), SlotSet(more_slot(target), None), SlotSet("scores", scores),
                SlotSet(PENDING, None)]


class ActionPauseCheckin(Action):
    """Stops for now; the answers so far are kept and a later hello offers to resume."""

    def name(self) -> Text:
        return "action_pause_checkin"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        pause_checkin(tracker)
        dispatcher.utter_message(response="utter_paused")
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet(PENDING, None)]


class ActionSubmitCheckin(Action):
    """The end: the summary in the client's own words, stored, then thanks."""

    def name(self) -> Text:
        return "action_submit_checkin"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        scores: Dict[str, Optional[int]] = tracker.get_slot("scores") or {}
        used = list(tracker.get_slot("used_replies") or [])
        answers = {
            dimension: (scores.get(dimension), tracker.get_slot(dimension) or "", scores.get(dimension) is None)
            for dimension in DIMENSIONS
        }
        lines = summary_lines(answers)
        intro = choose("summary_intro", used)
        thanks = choose("thanks_end", used + [intro.id])
        summary_text = "\n".join(lines)

        # Every answer is written again with the summary, in one transaction: a write that
        # failed mid-check-in is repaired, and a retried action changes nothing.
        final = [
            FinalAnswer(dimension, score, "" if skipped else words, skipped,
                        tracker.get_slot(more_slot(dimension)) or None)
            for dimension, (score, words, skipped) in answers.items()
        ]
        save(tracker, dispatcher, used, "complete_checkin",
             lambda s, checkin_id: s.complete_checkin(checkin_id, summary_text, final))
        dispatcher.utter_message(text=f"{intro.text}\n{summary_text}")
        dispatcher.utter_message(text=thanks.text)
        dispatcher.utter_message(response="utter_ask_share")
        return fresh_answer_slots() + [
            SlotSet("checkin_id", None), SlotSet("requested_slot", None), SlotSet("offer", "share")
        ]
