"""bot.replies and the reply bank bot/replies.yml (product copy, reviewed like code)."""
from __future__ import annotations

import dataclasses
import random
import re
from pathlib import Path

import pytest
import yaml

from bot.dimensions import DIMENSIONS, LEVELS
from bot.replies import (
    KINDS, REPLIES_PATH, Reply, bank, choose, choose_reply, load_bank, safe_quote, summary_lines,
)

BANDS = {"negative": (1, 2), "mixed": (3,), "positive": (4, 5)}
MAX_CHARS = 220
# The longest quote choose_reply will ever put into {words}.
LONGEST_QUOTE = "x" * 90

# Blaming the client, diagnosing, defending or excusing the therapist, gushing, promising.
BANNED = (
    "your fault", "you should have", "you should", "you need to", "disorder", "diagnos", "depressed",
    "depression", "anxiety", "anxious", "ptsd", "bipolar", "adhd", "narciss", "borderline",
    "trauma", "symptom", "means well", "mean well", "she means well", "he means well",
    "they mean well", "i'm sure", "i am sure", "therapists are", "busy", "doing their best",
    "doing her best", "doing his best", "give her a chance", "give him a chance",
    "give them a chance", "to be fair", "at least", "overreact", "too sensitive", "calm down",
    "!!", "!", "amazing", "perfect", "wonderful", "fantastic", "awesome", "incredible",
    "she will", "he will", "they will", "your therapist will", "will make sure", "promise",
    "guarantee", "will get better", "will improve", "not a big deal",
)


def all_strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in all_strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in all_strings(value)]
    return []


RAW = yaml.safe_load(REPLIES_PATH.read_text(encoding="utf-8"))
ALL_TEXTS = all_strings(RAW)


def test_every_dimension_and_band_has_at_least_four_plain_variants() -> None:
    for dimension in DIMENSIONS:
        for band_name in BANDS:
            variants = bank().groups[f"{dimension}.{band_name}"]
            plain = {v.template for v in variants if "{" not in v.template}
            assert len(plain) >= 4, (dimension, band_name)


@pytest.mark.parametrize("kind, minimum", [
    ("followup_thanks", 6), ("skipped", 4), ("unsure", 3), ("unclear", 4), ("summary_intro", 3),
    ("thanks_end", 3),
])
def test_other_kinds_have_enough_variants(kind: str, minimum: int) -> None:
    assert len({v.template for v in bank().groups[kind]}) >= minimum


def test_every_line_in_the_bank_is_distinct() -> None:
    templates = [v.template for group in bank().groups.values() for v in group]
    assert len(templates) == len(set(templates))


def test_ids_are_stable_readable_strings() -> None:
    for key, group in bank().groups.items():
        for variant in group:
            assert re.fullmatch(rf"{re.escape(key)}\.\d+", variant.id)
    assert bank().groups["heard.negative"][1].id == "heard.negative.2"


@pytest.mark.parametrize("phrase", BANNED)
def test_no_banned_phrase_anywhere_in_the_bank(phrase: str) -> None:
    offenders = [text for text in ALL_TEXTS if phrase in text.lower()]
    assert not offenders, f"{phrase!r} in {offenders}"


def test_no_reply_is_too_long_for_a_phone() -> None:
    for group in bank().groups.values():
        for variant in group:
            filled = variant.template.replace("{words}", LONGEST_QUOTE)
            assert len(filled) <= MAX_CHARS, variant.id


def test_only_known_placeholders() -> None:
    for group in bank().groups.values():
        for variant in group:
            assert variant.fields <= {"words"}, variant.id
    for dimension in DIMENSIONS:
        lines = bank().summary_line[dimension]
        assert set(re.findall(r"\{(\w+)\}", lines["answered"])) == {"level", "quote"}
        assert "{" not in lines["skipped"]


def test_reply_is_a_frozen_dataclass() -> None:
    reply = choose_reply("heard", 2, [])
    assert isinstance(reply, Reply)
    with pytest.raises(dataclasses.FrozenInstanceError):
        reply.text = "changed"  # type: ignore[misc]


@pytest.mark.parametrize("seed", range(40))
def test_five_answers_in_a_row_never_repeat_a_line(seed: int) -> None:
    rng = random.Random(seed)
    used: list[str] = []
    texts: list[str] = []
    for dimension in DIMENSIONS:
        if rng.random() < 0.3:
            reply = choose(rng.choice(["unclear", "unsure"]), used, rng=rng)
            used.append(reply.id)
            texts.append(reply.text)
        score = rng.choice([1, 2, 3, 4, 5])
        words = rng.choice([None, "mostly", "she talks over me a lot", "he gets me"])
        reply = choose_reply(dimension, score, used, words=words, rng=rng)
        used.append(reply.id)
        texts.append(reply.text)
        if score <= 3:
            reply = choose("followup_thanks", used, rng=rng)
            used.append(reply.id)
            texts.append(reply.text)
    assert len(used) == len(set(used))
    assert len(texts) == len(set(texts))


def test_same_band_again_and_again_uses_every_variant_then_never_the_last_one() -> None:
    rng = random.Random(7)
    used: list[str] = []
    group = bank().groups["warmth.negative"]
    plain = [v for v in group if not v.fields]
    for _ in range(len(plain)):
        reply = choose_reply("warmth", 1, used, rng=rng)
        assert reply.id not in used
        used.append(reply.id)
    for _ in range(50):
        reply = choose_reply("warmth", 2, used, rng=rng)
        assert reply.id != used[-1]
        used.append(reply.id)


def test_choose_never_returns_the_last_one_when_all_are_used() -> None:
    ids = [v.id for v in bank().groups["skipped"]]
    for last in ids:
        used = [i for i in ids if i != last] + [last]
        for seed in range(20):
            assert choose("skipped", used, rng=random.Random(seed)).id != last


def test_a_safe_short_quote_is_reflected() -> None:
    words = "she talks over me"
    replies = {choose_reply("heard", 2, [], words=words, rng=random.Random(s)).text
               for s in range(60)}
    quoting = [t for t in replies if f"“{words}”" in t]
    assert quoting and all("{" not in t for t in replies)


@pytest.mark.parametrize("words", [
    "<b>she</b> talks over me", "he is [link](http://x.y) rude", "see https://example.com now",
    "line one\nline two of it", "one two three four five six seven eight nine ten eleven twelve thirteen",
    "{words} {level} and more", "she said “no” to me", "x" * 200, "`rm -rf` is what he did",
    "he's a fucking jerk honestly", "yes", "mostly",
])
def test_words_placeholder_never_takes_markup_or_long_text(words: str) -> None:
    for seed in range(30):
        reply = choose_reply("heard", 2, [], words=words, rng=random.Random(seed))
        assert "“" not in reply.text and "{" not in reply.text
        assert len(reply.text) <= MAX_CHARS


def test_safe_quote() -> None:
    assert safe_quote("  she talks   over me.  ") == "she talks over me"
    assert safe_quote("no") is None  # too short to be worth quoting
    assert safe_quote(" ".join(["word"] * 13)) is None
    assert safe_quote(" ".join(["word"] * 12)) is not None
    assert safe_quote("<i>hi</i> there you") is None
    assert safe_quote(None) is None


def test_unknown_dimension_or_kind_is_an_error() -> None:
    with pytest.raises(ValueError):
        choose_reply("trust", 3, [])
    with pytest.raises(ValueError):
        choose_reply("heard", 6, [])
    with pytest.raises(ValueError):
        choose("cheerleading", [])


def test_choose_fills_fields_and_skips_variants_needing_missing_ones() -> None:
    for kind in KINDS:
        for seed in range(10):
            reply = choose(kind, [], rng=random.Random(seed))
            assert "{" not in reply.text and reply.text.strip()


def test_summary_lines_in_dimension_order_in_the_clients_words() -> None:
    answers = {
        "understood": (4, "she gets how my brain works", False),
        "heard": (2, "she talks over me", False),
        "team": (None, "", True),
        "warmth": (4, "mostly", False),
        "worth": (5, "5", False),
    }
    lines = summary_lines(answers)
    assert len(lines) == 5
    assert lines[0] == bank().summary_line["team"]["skipped"]
    assert lines[1] == "On feeling heard: a little — “she talks over me”."
    assert "mostly" in lines[2] and "“" not in lines[2]  # the level alone is not quoted back
    assert LEVELS[5] in lines[3] and "“" not in lines[3]
    assert "“she gets how my brain works”" in lines[4]


def test_summary_lines_quote_safely_and_truncate() -> None:
    long_words = "she " + "really " * 60 + "listens"
    lines = summary_lines({
        "heard": (4, long_words, False),
        "worth": (2, 'he said "whatever" <script>x</script>\nand left', False),
        "team": (None, "hard to put into a number", False),
    })
    team, heard, worth = lines
    assert bank().summary_no_level in team and "“hard to put into a number”" in team
    quote = heard.split("“", 1)[1].rsplit("”", 1)[0]
    assert len(quote) <= 121 and quote.endswith("…")
    assert "<" not in worth and ">" not in worth and "\n" not in worth
    assert worth.count("“") == 1 and worth.count("”") == 1


def test_summary_lines_leave_out_dimensions_not_given() -> None:
    assert summary_lines({}) == []
    assert len(summary_lines({"warmth": (3, "so-so", False)})) == 1


def test_bank_loads_once() -> None:
    assert bank() is bank()


def test_a_broken_bank_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load(REPLIES_PATH.read_text(encoding="utf-8"))
    data["dimensions"]["heard"]["mixed"] = {}
    path = tmp_path / "replies.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError):
        load_bank(path)


@pytest.mark.parametrize("words", ["yes i think so", "4 out of 5", "not at all honestly", "yeah mostly i guess"])
def test_words_that_only_restate_the_answer_are_not_quoted(words: str) -> None:
    assert safe_quote(words) is None


def test_quote_calms_exclamation_runs() -> None:
    assert safe_quote("yes!! she totally gets me!!!") == "yes! she totally gets me"
