"""A client's whole check-in over the REST channel of the real Rasa server, read back from the store."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, RasaServer

LEVEL_TITLES = ["Not at all", "A little", "Somewhat", "Mostly", "Completely"]


def texts(messages: list[dict]) -> list[str]:
    return [m.get("text", "") for m in messages]


def last_buttons(messages: list[dict]) -> list[str]:
    for message in reversed(messages):
        if message.get("buttons"):
            return [b["title"] for b in message["buttons"]]
    return []


def export(env: dict[str, str], *options: str) -> list[dict]:
    """`python -m bot.review export --format json [options]`: the practice's view unless `options` say otherwise."""
    result = subprocess.run(
        [sys.executable, "-m", "bot.review", "export", "--format", "json", *options],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def checkins_of(env: dict[str, str], seen_before: set[int]) -> list[dict]:
    return [c for c in export(env) if c["checkin_id"] not in seen_before]


def own_checkins(env: dict[str, str], client_id: str) -> list[dict]:
    """A client's check-ins as the client's own data export shows them, private ones included."""
    return export(env, "--client", client_id, "--include-private")


def test_full_checkin_with_digressions_is_stored_and_exported(rasa_server: RasaServer, e2e_env):
    before = {c["checkin_id"] for c in export(e2e_env)}
    sender = f"client-{uuid.uuid4()}"
    said: list[dict] = []

    def say(text: str) -> list[dict]:
        reply = rasa_server.send(sender, text)
        assert reply, f"no reply to {text!r}"
        said.extend(reply)
        return reply

    intro = " ".join(texts(say("hi")))
    assert "not a therapist" in intro and "emergenc" in intro
    assert "Let's start" in last_buttons(said)

    first = say("yes")
    assert last_buttons(first) == LEVEL_TITLES  # the first question, with the five levels

    say("yeah mostly")
    low = say("not really, she talks over me")
    assert last_buttons(low) == ["Let's move on"]  # invited to say more
    say("she cuts me off when I talk about my dad")

    why = " ".join(texts(say("why are you asking this?")))
    assert "therapist" in why
    say('/answer{"level":"3"}')  # a button tap: somewhat
    say("/deny")  # "Let's move on"
    say("can I skip this one?")
    back = say("go back")
    assert last_buttons(back) == LEVEL_TITLES  # the skipped question again
    say("100%")
    say("nope")
    end = say("no thanks")
    assert "mostly" in " ".join(texts(end)) and "she talks over me" in " ".join(texts(end))  # in their words
    assert last_buttons(end) == ["Share with my therapist", "Keep it private"]
    assert "therapist will be able to see" in " ".join(texts(say("/share_checkin")))

    # Genuineness: no empathic line is repeated (questions, which carry buttons, may be re-asked).
    replies = [m["text"] for m in said if m.get("text") and not m.get("buttons")]
    assert len(replies) == len(set(replies)), replies

    [checkin] = checkins_of(e2e_env, before)
    assert checkin["status"] == "completed"
    answers = {a["dimension"]: a for a in checkin["answers"]}
    assert [a["dimension"] for a in checkin["answers"]] == ["team", "heard", "warmth", "worth", "understood"]
    assert (answers["team"]["score"], answers["team"]["text"]) == (4, "yeah mostly")
    assert answers["heard"]["score"] == 2
    assert answers["heard"]["text"] == "not really, she talks over me"
    assert answers["heard"]["followup"] == "she cuts me off when I talk about my dad"
    assert (answers["warmth"]["score"], answers["warmth"]["text"]) == (3, "somewhat")
    assert not answers["warmth"]["followup"]
    assert (answers["worth"]["score"], answers["worth"]["skipped"]) == (5, False)  # changed after the skip
    assert answers["understood"]["score"] == 1
    assert "she talks over me" in checkin["summary"]


def test_pause_then_resume_where_they_left_off(rasa_server: RasaServer, e2e_env):
    before = {c["checkin_id"] for c in export(e2e_env)}
    sender = f"client-{uuid.uuid4()}"
    rasa_server.send(sender, "check in")
    rasa_server.send(sender, "completely")
    rasa_server.send(sender, "mostly")
    paused = " ".join(texts(rasa_server.send(sender, "let's do this later")))
    assert "saved" in paused or "kept" in paused
    # Started without the introduction, so private until the client chooses: read as the client.
    [checkin] = own_checkins(e2e_env, rasa_server.conversation(sender))
    assert checkin["status"] == "paused" and len(checkin["answers"]) == 2

    welcome = " ".join(texts(rasa_server.send(sender, "hi")))
    assert "2 of the 5" in welcome
    resumed = rasa_server.send(sender, "yes")
    assert last_buttons(resumed) == LEVEL_TITLES
    assert any("warm" in t for t in texts(resumed))  # the third question: warmth
    for answer in ("mostly", "yes completely", "mostly yes"):
        rasa_server.send(sender, answer)
    [checkin] = own_checkins(e2e_env, rasa_server.conversation(sender))  # the same check-in, not a second one
    assert checkin["status"] == "completed"
    assert [a["score"] for a in checkin["answers"]] == [5, 4, 4, 5, 4]


def test_unintelligible_answer_is_reasked_kindly(rasa_server: RasaServer):
    sender = f"client-{uuid.uuid4()}"
    rasa_server.send(sender, "check in")
    reply = rasa_server.send(sender, "asdkjh qwpoe")
    assert last_buttons(reply) == LEVEL_TITLES  # the same question again, with its buttons
    assert len(reply) >= 2  # a kind word first, not just the question
    tracker = rasa_server.tracker(sender)
    assert tracker["slots"]["team"] is None and tracker["slots"]["requested_slot"] == "team"


def test_crisis_mid_checkin_gets_resources_and_pauses(rasa_server: RasaServer, e2e_env):
    before = {c["checkin_id"] for c in export(e2e_env)}
    sender = f"client-{uuid.uuid4()}"
    rasa_server.send(sender, "check in")
    rasa_server.send(sender, "mostly")
    reply = " ".join(texts(rasa_server.send(sender, "honestly I just want to kill myself")))
    assert "988" in reply and "ending your life?" not in reply  # resources at once, not the question
    [practice_view] = checkins_of(e2e_env, before)
    assert [e["kind"] for e in practice_view["events"]] == ["crisis"]  # private, yet the practice sees it
    [checkin] = own_checkins(e2e_env, rasa_server.conversation(sender))
    assert checkin["status"] == "paused"
    assert [e["kind"] for e in checkin["events"]] == ["crisis"]
    assert "kill" not in json.dumps(checkin)  # the crisis words are not copied into the store


def test_hello_mid_checkin_returns_to_the_question(rasa_server: RasaServer):
    sender = f"client-{uuid.uuid4()}"
    rasa_server.send(sender, "check in")
    rasa_server.send(sender, "mostly")
    reply = rasa_server.send(sender, "hi")
    said = " ".join(texts(reply))
    assert "again" in said and "catch" not in said  # not taken as an answer it could not read
    assert last_buttons(reply) == LEVEL_TITLES  # the second question, asked again


def test_who_sees_this_is_answered_from_the_configuration(rasa_server: RasaServer, e2e_env):
    sender = f"client-{uuid.uuid4()}"
    rasa_server.send(sender, "check in")
    reply = " ".join(texts(rasa_server.send(sender, "who will see this?")))
    assert e2e_env["RAPPORT_SHARE_DEFAULT"] == "share" and "your therapist can read them" in reply
    assert f"{e2e_env['RAPPORT_RETENTION_DAYS']} days" in reply and "delete my data" in reply
    # Honest about the one thing a private check-in does not hide (see the crisis test above).
    assert "your practice sees that it happened (never your words)" in reply


def complete_checkin(rasa_server: RasaServer, sender: str, answers=("mostly",) * 5) -> list[dict]:
    rasa_server.send(sender, "check in")
    reply: list[dict] = []
    for answer in answers:
        reply = rasa_server.send(sender, answer)
    return reply


def test_a_private_checkin_is_exported_only_by_its_date(rasa_server: RasaServer, e2e_env):
    before = {c["checkin_id"] for c in export(e2e_env)}
    sender = f"client-{uuid.uuid4()}"
    complete_checkin(rasa_server, sender, ("yes completely", "mostly", "completely", "mostly", "yes"))
    assert "stays private" in " ".join(texts(rasa_server.send(sender, "keep it just for me")))
    [checkin] = checkins_of(e2e_env, before)
    assert checkin["private"] is True and not checkin.get("answers") and "a private check-in on" in checkin["note"]


def test_client_sees_their_last_summary(rasa_server: RasaServer):
    sender = f"client-{uuid.uuid4()}"
    assert "haven't finished a check-in" in " ".join(texts(rasa_server.send(sender, "show my last summary")))
    complete_checkin(rasa_server, sender, ("a little", "/deny", "mostly", "mostly", "mostly", "mostly"))
    rasa_server.send(sender, "/share_checkin")
    shown = " ".join(texts(rasa_server.send(sender, "show my last summary")))
    assert "Your last check-in" in shown and "a little" in shown


def test_delete_my_data_erases_checkins_and_the_conversation(rasa_server: RasaServer, e2e_env):
    before = {c["checkin_id"] for c in export(e2e_env)}
    sender = f"client-{uuid.uuid4()}"
    complete_checkin(rasa_server, sender)
    rasa_server.send(sender, "/share_checkin")
    assert len(checkins_of(e2e_env, before)) == 1
    confirm = rasa_server.send(sender, "please delete my data")
    assert last_buttons(confirm) == ["Yes, delete it all", "No, keep it"]
    assert "deleted" in " ".join(texts(rasa_server.send(sender, "yes")))
    assert checkins_of(e2e_env, before) == []
    tracker_db = Path(e2e_env["RAPPORT_DATA_DIR"]) / "tracker.db"
    with sqlite3.connect(tracker_db) as db:
        [(rows,)] = db.execute("SELECT count(*) FROM events WHERE sender_id = ?",
                               (rasa_server.conversation(sender),)).fetchall()
    assert rows == 0
    # A new conversation starts fresh: no offer to resume, no summary.
    assert "haven't finished a check-in" in " ".join(texts(rasa_server.send(sender, "show my last summary")))


def test_declining_deletion_keeps_everything(rasa_server: RasaServer, e2e_env):
    before = {c["checkin_id"] for c in export(e2e_env)}
    sender = f"client-{uuid.uuid4()}"
    complete_checkin(rasa_server, sender)
    rasa_server.send(sender, "delete my data")
    assert "nothing has been deleted" in " ".join(texts(rasa_server.send(sender, "no")))
    assert len(checkins_of(e2e_env, before)) == 1


def test_logs_never_carry_the_clients_words_or_id(rasa_server: RasaServer, e2e_env):
    sender = f"secret-sender-{uuid.uuid4()}"
    marker = f"zebra{uuid.uuid4().hex[:8]} listens mostly"
    rasa_server.send(sender, "check in")
    rasa_server.send(sender, marker)
    rasa_server.send(sender, "honestly i want to end my life")
    logs = [rasa_server.log, *Path(rasa_server.log).parent.parent.glob("logs*/actions.log")]
    for log in logs:
        content = Path(log).read_text()
        assert sender not in content, log
        assert marker.split()[0] not in content, log
        assert "end my life" not in content, log


def test_the_conversation_store_holds_no_words_in_the_clear(rasa_server: RasaServer, e2e_env):
    sender = f"client-{uuid.uuid4()}"
    marker = f"okapi{uuid.uuid4().hex[:8]}"
    rasa_server.send(sender, "check in")
    rasa_server.send(sender, f"mostly, {marker} aside")
    tracker = rasa_server.tracker(sender)  # the HTTP API reads it back decrypted
    assert any(marker in (e.get("text") or "") for e in tracker["events"])
    with sqlite3.connect(Path(e2e_env["RAPPORT_DATA_DIR"]) / "tracker.db") as db:
        rows = [data for (data,) in db.execute("SELECT data FROM events WHERE sender_id = ?",
                                               (rasa_server.conversation(sender),))]
    assert rows and all(data.startswith("gAAAA") for data in rows)
    assert not any(marker in data for data in rows)


def _checkin_of(env: dict[str, str], before: set[int]) -> dict:
    [checkin] = checkins_of(env, before)
    return checkin


def test_nothing_is_visible_to_the_practice_before_the_client_agrees(rasa_server: RasaServer, e2e_env):
    """Straight into a check-in, without the introduction that says answers are shared: the
    practice sees only that a check-in happened until the client chooses to share it."""
    assert e2e_env["RAPPORT_SHARE_DEFAULT"] == "share"
    before = {c["checkin_id"] for c in export(e2e_env)}
    sender = f"client-{uuid.uuid4()}"
    assert last_buttons(rasa_server.send(sender, "I want to do a check in")) == LEVEL_TITLES
    rasa_server.send(sender, "mostly, she backs me up")
    rasa_server.send(sender, "not really")
    in_progress = _checkin_of(e2e_env, before)
    assert in_progress["private"] and in_progress["answers"] == [] and in_progress["summary"] is None
    # Choosing at the end is what shares it (test_full_checkin_with_digressions_is_stored_and_exported).


def test_going_ahead_after_being_told_answers_are_shared_is_agreeing(rasa_server: RasaServer, e2e_env):
    before = {c["checkin_id"] for c in export(e2e_env)}
    sender = f"client-{uuid.uuid4()}"
    intro = " ".join(texts(rasa_server.send(sender, "hi")))
    assert "your therapist can read them" in intro and "private" in intro
    rasa_server.send(sender, "/affirm")
    rasa_server.send(sender, "mostly, she backs me up")
    in_progress = _checkin_of(e2e_env, before)
    assert not in_progress["private"] and [a["score"] for a in in_progress["answers"]] == [4]
