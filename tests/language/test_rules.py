"""bot.language.rules: the crisis rules (crisis_rules.yml) and the scan that runs them.

Behaviour by phrase is in tests/test_safety.py (through bot.safety.assess); here: the data file's
checks, the anchors that make the scan fast (they must never hide a match), the windows of a long
message, and the phrasings the real-language issue named.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.language import corpus
from bot.language.normalize import normalise
from bot.language.rules import (
    CONTEXT, CRISIS, MAX_CONTEXT_READS, NONE, RULES_PATH, STRIDE, UNCLEAR, WINDOW, load_rules, mask_idioms,
    required_pieces, rules, scan, windows,
)


def all_lines() -> list[str]:
    lines = [l.text for name in (corpus.THERAPIST, corpus.CRISIS) for l in corpus.load(name, "train")]
    lines += [i["text"] for name in (corpus.THERAPIST, corpus.CRISIS) for i in corpus.load_authored(name)]
    return lines


def test_every_pattern_compiles_and_the_file_is_checked(tmp_path: Path) -> None:
    rs = load_rules()
    assert len(rs.alternatives) > 150 and not rs.always  # every pattern has an anchor
    data = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    broken = tmp_path / "rules.yml"
    for mutate in (
        lambda d: d["rules"][0].update(level="severe"),
        lambda d: d["rules"][0].update(category="mood"),
        lambda d: d["rules"][0]["patterns"].append("(unclosed"),
        lambda d: d["rules"][0]["patterns"].append("{{no_such_word}}"),
        lambda d: d["rules"][0]["patterns"].append({"mention": "x", "extra": "y"}),
    ):
        copy = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
        mutate(copy)
        broken.write_text(yaml.safe_dump(copy))
        with pytest.raises(ValueError):
            load_rules(broken)
    assert data["rules"]


@pytest.mark.parametrize("pattern, pieces", [
    (r"\bhang(?:ing|ed|s)? myself\b", {"myself"}),
    (r"\b(?:kill|hurt) (?:him|her)\b", {"kill", "hurt"}),
    (r"\bcut(?:ting)? myself\b|\bburn(?:ing)? myself\b", {"myself"}),
    (r"\b(?:a|b)?x\b", None),  # nothing of three letters every match must contain
])
def test_required_pieces_are_read_off_the_pattern(pattern: str, pieces: set[str] | None) -> None:
    found = required_pieces(pattern)
    assert (found is None) if pieces is None else found == frozenset(pieces)


def test_the_anchors_never_hide_a_match() -> None:
    """Every pattern that matches a line (of the whole training corpus and our own lines) has one
    of its anchor pieces in that line: the gate that skips patterns cannot drop a match."""
    rs = rules()
    checked = 0
    for line in all_lines():
        text = normalise(line)
        for alt in rs.alternatives:
            if alt.pattern.search(text):
                checked += 1
                assert alt.pieces is None or any(p in text for p in alt.pieces), (alt.pattern.pattern, line)
    assert checked > 300


def test_a_long_sentence_is_read_in_windows_that_own_every_character_once() -> None:
    text = " ".join(f"word{i}" for i in range(3000))  # one sentence, no punctuation
    spans = list(windows(text))
    owned = [(own_start, own_end) for _, _, own_start, own_end in spans]
    assert owned[0][0] == 0 and owned[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(owned, owned[1:]))  # no gap, no overlap
    for start, end, own_start, own_end in spans:
        assert end - start <= STRIDE + 2 * CONTEXT and start <= own_start <= own_end <= end
        assert own_start - start >= min(CONTEXT - 20, own_start)  # context before what it owns


def test_a_match_at_a_window_edge_keeps_its_context() -> None:
    # "my friend is suicidal", over and over without a full stop: every match is about the friend.
    text = normalise("my friend is suicidal " * 400)
    assert len(text) > WINDOW * 10
    assert scan(text).level == UNCLEAR


def test_too_many_matches_to_read_ask_gently_rather_than_guess() -> None:
    result = scan(normalise("i'm not suicidal. " * (MAX_CONTEXT_READS + 50)))
    assert result.level == UNCLEAR and result.softened


def test_a_crisis_at_the_end_of_a_long_message_is_found() -> None:
    text = "She listens to me and I like her. " * 3000 + "I want to kill myself"
    assert scan(normalise(text)).level == CRISIS


@pytest.mark.parametrize("text, level", [
    # named in the issue as missed or misread
    ("the rope is ready", CRISIS),
    ("I have a knife in my hand", CRISIS),
    ("I'm on the bridge right now", CRISIS),
    ("I've been saving up my pills", CRISIS),
    ("I want to jump", UNCLEAR),
    ("I could kill her for being late again lol", NONE),
    ("she isn't going to hurt me by saying I am stupid", NONE),
    # not alarms
    ("I want to jump in the pool", NONE),
    ("my bag is ready for the trip", NONE),
    ("I'm on the roof fixing tiles", NONE),
])
def test_phrasings_the_issue_named(text: str, level: str) -> None:
    assert scan(normalise(text)).level == level


def test_mentions_and_context_are_reported() -> None:
    mention = scan(normalise("The series mishandled its subject: teen suicide."))
    assert mention.level == CRISIS and mention.mention
    statement = scan(normalise("I am suicidal"))
    assert statement.level == CRISIS and not statement.mention
    affirmed = scan(normalise("she asked if I'd thought about suicide and I said yes"))
    assert affirmed.level == CRISIS and not affirmed.mention
    negated = scan(normalise("I'm not suicidal, just tired"))
    assert negated.level == NONE and negated.softened
    idiom = scan(normalise("this traffic is killing me"))
    assert idiom.level == NONE and idiom.idiom


def test_idioms_are_masked_for_the_classifier() -> None:
    assert "kill me" not in mask_idioms(normalise("my mum will kill me if she finds out"))
    assert mask_idioms(normalise("I want to kill myself")) == normalise("I want to kill myself")


def test_no_pattern_is_unbounded() -> None:
    """The scan stays linear only if no pattern can run over the whole message."""
    for alt in rules().alternatives:
        assert not re.search(r"(?<!\\)\.[*+]", alt.pattern.pattern), alt.pattern.pattern


@pytest.mark.parametrize("text, level, mention", [
    # real lines from the training side of the corpus (corpus/crisis.train.yml) that no rule read
    ("I don’t know how long I can fight with that voice. I need to cut!", CRISIS, False),
    ("I took the rest of my sleeping pills and my painkillers", CRISIS, False),
    ("I took the blades that I had kept in my wallet and sliced my skin for the first time in over a year.",
     CRISIS, False),
    ("It’s been a terrible couple of months and I’m finally ready to do it. I’m finally ready to leave this "
     "world behind.", CRISIS, False),
    ("I called you because I’m in a very rural area. You’re not going to find me. But, I want you to make sure "
     "that someone finds my body", CRISIS, False),
    ("It’s time for me to do that thing I’ve promised myself I would do weeks ago, it’s time to take those pills "
     "and to execute my plan.", CRISIS, False),
    ("So, after midnight, I set off on the streets with a pocket full of pills, looking for a quiet place to take "
     "care of things.", CRISIS, False),
    # phrases that are often harmless: the classifier reads the message before resources are sent
    ("My parents left the house around 9am, and I grabbed the same rope that I used before.", CRISIS, True),
    ("I crafted a note, laid out my plan, and considered how I would take my last breath.", CRISIS, True),
    ("I picked up a knife to chop the onions", CRISIS, True),
    # not alarms
    ("I need to cut my hair", NONE, False),
    ("I ended up cutting my losses and leaving early", NONE, False),
    ("When you drink too much coffee the resulting caffeine overdose makes you jittery", NONE, False),
    ("my therapist said the cuts to her clinic's funding were several", NONE, False),
])
def test_present_plans_means_and_recent_self_harm(text: str, level: str, mention: bool) -> None:
    """Round 4 (crisis_rules.yml): phrasings the training side showed the rules missed."""
    match = scan(normalise(text))
    assert (match.level, match.mention) == (level, mention)


@pytest.mark.parametrize("text, level", [
    # real lines from the training side (indirect warning signs that no rule read)
    ("I’m jealous of the dead.", UNCLEAR),
    ("It wouldn’t be that big of a deal if I didn’t wake up tomorrow", UNCLEAR),
    ("My kids deserve to have a different parent.", UNCLEAR),
    ("I do believe this is the end for me.", UNCLEAR),
    ("Who cares if I’m dead", UNCLEAR),
    ("I, essentially, feel like a huge burden.", UNCLEAR),
    # not alarms: an answer about the therapist, an alarm clock, a gym
    ("No. I feel like a burden to him.", NONE),
    ("What if I don't wake up on time for my session?", NONE),
    ("I wanted to join her at the gym on Saturdays", NONE),
    ("I've had enough of her cancelling at the last minute", NONE),
])
def test_indirect_signs_get_the_gentle_question(text: str, level: str) -> None:
    assert scan(normalise(text)).level == level
