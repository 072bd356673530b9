"""When the practice may see a check-in's answers: the one rule, in one place.

Nothing of a check-in's answers is visible to the practice until the client agrees, in one of two
ways: choosing "Share with my therapist" at the end, or going ahead after the introduction told
them that at this practice answers are shared unless they keep the check-in private
(RAPPORT_SHARE_DEFAULT=share). A check-in started any other way (straight from "check in",
without the introduction) stays private until the client chooses; one left unfinished stays so.
Crisis events are visible to the practice either way: they hold no words.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

# The two introductions (domain.yml): what each tells the client about sharing.
INTRO_SHARED_BY_DEFAULT = "utter_intro"
INTRO_PRIVATE_BY_DEFAULT = "utter_intro_private"


def intro_response(share_default: str) -> str:
    """The introduction to show at this practice."""
    return INTRO_SHARED_BY_DEFAULT if share_default == "share" else INTRO_PRIVATE_BY_DEFAULT


def told_shared_by_default(events: Iterable[Mapping[str, Any]]) -> bool:
    """Whether, in the conversation's current session, the client was shown the introduction that
    says answers are shared unless they keep the check-in private (events as Rasa's JSON)."""
    told = False
    for event in events:
        kind = event.get("event")
        if kind == "session_started":
            told = False
        elif kind == "bot" and (event.get("metadata") or {}).get("utter_action") == INTRO_SHARED_BY_DEFAULT:
            told = True
    return told


def shared_from_start(share_default: str, events: Iterable[Mapping[str, Any]]) -> bool:
    """Whether a check-in starting now may be visible to the practice before the client chooses."""
    return share_default == "share" and told_shared_by_default(events)
