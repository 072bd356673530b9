"""One simulated client's whole check-in, as a person would do it, over any `say` function.

Shared by bench/locustfile.py (locust, in .venv-load) and tests/e2e/test_cluster.py (requests):
plain Python, no dependency beyond the standard library.

The client says "check in", answers the five questions in words at its planned levels (tapping the
button instead if a word was not understood), writes a sentence when invited to say more after a
low answer, and shares the check-in. `say(sender, text, step)` must deliver one message and return
the bot's messages, retrying with the same message id when a message gets no answer.
"""
from __future__ import annotations

import random
import time
import uuid
from typing import Callable

LEVEL_TITLES = ["Not at all", "A little", "Somewhat", "Mostly", "Completely"]
SHARE_TITLES = ["Share with my therapist", "Keep it private"]
MORE_TITLES = ["Let's move on"]
WORDS = {1: "not at all", 2: "a little", 3: "somewhat", 4: "mostly", 5: "completely"}
SAY_MORE = "sometimes she seems distracted and checks the clock"

Say = Callable[[str, str, str], list]


class CheckinFailed(Exception):
    pass


def last_buttons(messages: list[dict]) -> list[str]:
    for message in reversed(messages):
        if message.get("buttons"):
            return [b.get("title") for b in message["buttons"]]
    return []


def question_text(messages: list[dict]) -> str:
    for message in reversed(messages):
        if message.get("buttons") and [b.get("title") for b in message["buttons"]] == LEVEL_TITLES:
            return message.get("text", "")
    return ""


def new_client() -> tuple[str, list[int]]:
    """A fresh unguessable sender id and five planned levels."""
    return uuid.uuid4().hex, [random.randint(1, 5) for _ in range(5)]


def run_checkin(say: Say, sender: str, levels: list[int], pause: Callable[[], None] = lambda: None) -> dict:
    """Goes through one check-in; returns the record bench/load.py checks against the store."""
    record = {"sender": sender, "levels": list(levels), "completed": False, "error": None, "retyped": 0}
    started = time.monotonic()
    try:
        reply = say(sender, "check in", "1 check in")
        if last_buttons(reply) != LEVEL_TITLES:
            raise CheckinFailed(f"no first question: {last_buttons(reply)}")
        for level in levels:
            asked = question_text(reply)
            pause()
            reply = say(sender, WORDS[level], "2 answer")
            if last_buttons(reply) == LEVEL_TITLES and question_text(reply) == asked:
                record["retyped"] += 1  # not understood: tap the button instead
                reply = say(sender, f'/answer{{"level":"{level}"}}', "2 answer (button)")
            if last_buttons(reply) == MORE_TITLES:
                pause()
                reply = say(sender, SAY_MORE, "3 say more")
        if last_buttons(reply) != SHARE_TITLES:
            raise CheckinFailed(f"no share question at the end: {last_buttons(reply)}")
        shared = say(sender, "/share_checkin", "4 share")
        if not any("therapist" in (m.get("text") or "") for m in shared):
            raise CheckinFailed("sharing was not confirmed")
        record["completed"] = True
    except CheckinFailed as error:
        record["error"] = str(error)
    record["seconds"] = round(time.monotonic() - started, 2)
    return record


def retrying_say(post: Callable[[dict], tuple[int, object]], attempts: int = 6,
                 sleep: Callable[[float], None] = time.sleep) -> Say:
    """A `say` over `post(body) -> (status, messages)`, which may raise on a connection error.
    A message without an answer is sent again with the same message id (bounded back-off)."""

    def say(sender: str, text: str, step: str) -> list:
        message_id = uuid.uuid4().hex
        problem = ""
        for attempt in range(attempts):
            try:
                status, messages = post({"sender": sender, "message": text, "message_id": message_id})
            except Exception as error:  # noqa: BLE001 - a dropped connection is retried
                problem = type(error).__name__
            else:
                if status == 200:  # an empty answer is the bot's answer too: sending again replays it
                    return messages or []  # type: ignore[return-value]
                problem = f"HTTP {status}"
            sleep(min(2 ** attempt, 8))
        raise CheckinFailed(f"no answer to a {step!r} message after {attempts} attempts ({problem})")

    return say
