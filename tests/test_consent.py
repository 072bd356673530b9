"""bot/consent.py: nothing of a check-in is visible to the practice before the client agrees."""
from __future__ import annotations

from bot.consent import INTRO_PRIVATE_BY_DEFAULT, INTRO_SHARED_BY_DEFAULT, intro_response, shared_from_start


def bot(action: str) -> dict:
    return {"event": "bot", "text": "...", "metadata": {"utter_action": action}}


SESSION = {"event": "session_started"}
HI = {"event": "user", "text": "hi"}


def test_the_introduction_says_what_this_practice_does():
    assert intro_response("share") == INTRO_SHARED_BY_DEFAULT
    assert intro_response("private") == INTRO_PRIVATE_BY_DEFAULT


def test_shared_from_the_start_only_after_being_told_so_in_this_session():
    told = [SESSION, HI, bot(INTRO_SHARED_BY_DEFAULT), {"event": "user", "text": "yes"}]
    assert shared_from_start("share", told)
    assert not shared_from_start("private", told)  # the practice keeps check-ins private by default
    assert not shared_from_start("share", [SESSION, {"event": "user", "text": "check in"}])  # never told
    assert not shared_from_start("share", [SESSION, HI, bot(INTRO_PRIVATE_BY_DEFAULT)])
    assert not shared_from_start("share", [SESSION, HI, {"event": "bot", "text": "hello", "metadata": None}])
    assert not shared_from_start("share", told + [SESSION, {"event": "user", "text": "check in"}])  # a new session
    assert not shared_from_start("share", [])
