"""bot.scoring: a client's words → 1-5 (not at all · a little · somewhat · mostly · completely) or None.

These cases are the behaviour the product asks for plus our own; the held-out evaluation set in
tests/data/answers_heldout.yml is deliberately not used here (see bench/answers.py).
"""
from __future__ import annotations

import re
import time

import pytest

from bot.scoring import is_unsure, score_answer

NEGATIVE, MIXED, POSITIVE = (1, 2), (3,), (4, 5)


@pytest.mark.parametrize(
    "text, expected",
    [
        # numbers and SMS ratings
        ("4", 4), ("1", 1), ("5", 5), ("3/5", 3), ("4 out of 5", 4), ("2 of 5", 2),
        ("five out of five", 5), ("10/10", 5), ("0/10", 1), ("8/10", 4), ("100%", 5),
        ("50/50", 3), ("50-50", 3), ("0", 1), ("25%", 2), ("I'd say a 4", 4), ("4, she's lovely", 4),
        ("4.5/5", 5), ("not 100%", 3),
        # the level labels and their variants
        ("not at all", 1), ("a little", 2), ("somewhat", 3), ("mostly", 4), ("completely", 5),
        ("a bit", 2), ("kind of", 3), ("totally", 5), ("absolutely", 5), ("def", 5),
        ("for sure", 5), ("Not At All.", 1), ("sort of", 3), ("pretty much", 4),
        ("definitely not", 1), ("not completely", 3), ("very much so", 5),
        # yes / no words with hedges
        ("yeah mostly", 4), ("nope", 1), ("no", 1), ("nah", 1), ("not really, she talks over me", 2),
        ("sometimes?", 3), ("yes and no", 3), ("i guess", 3), ("not always", 3), ("never", 1),
        ("always", 5), ("yes totally", 5), ("yeah i guess", 3), ("probably not", 2),
        ("I think so", 4), ("yeah no, not really", 2), ("mostly yes", 4),
        # typos, repeated letters and lowercase SMS
        ("yeah mostley", 4), ("compleetly", 5), ("not rly", 2), ("kinda", 3), ("yesss", 4),
        ("definately", 5), ("absolutly", 5), ("somtimes", 3), ("NOOO", 1),
        # other languages
        ("sí", 4), ("oui", 4), ("ja", 4), ("non", 1), ("nein", 1), ("más o menos", 3),
        ("pas du tout", 1), ("un poco", 2), ("tout à fait", 5), ("auf jeden Fall", 5),
    ],
)
def test_exact_levels(text: str, expected: int) -> None:
    assert score_answer(text) == expected


@pytest.mark.parametrize(
    "text, allowed",
    [
        # negation
        ("not very", NEGATIVE), ("I don't feel heard", NEGATIVE), ("he never feels warm", NEGATIVE),
        ("she doesn't listen to me at all", (1,)), ("he's not kind", NEGATIVE),
        ("they never make me feel small", POSITIVE), ("she doesn't judge me", POSITIVE),
        ("nobody there listens to me", NEGATIVE), ("I don't think she understands me", NEGATIVE),
        # free-text descriptions of the therapist
        ("she really gets me", POSITIVE), ("he's always on his phone during sessions", NEGATIVE),
        ("she's kind but I'm not sure she understands me", MIXED),
        ("Dana listens and remembers the little things", POSITIVE),
        ("they make me feel like I'm wasting their time", NEGATIVE + MIXED),
        ("he cuts me off mid sentence", NEGATIVE), ("she's so patient with me", POSITIVE),
        ("he keeps forgetting what I told him", NEGATIVE), ("she sided with my sister", NEGATIVE),
        ("he takes my side when it counts", POSITIVE), ("she is warm but a bit rushed", MIXED),
        ("he's cold and dismissive", NEGATIVE), ("she's respectful", POSITIVE),
        ("I feel judged", NEGATIVE), ("I feel valued by her", POSITIVE),
        ("she has my back", POSITIVE), ("I'm on my own in there", NEGATIVE),
        ("most days yes, but some days she's distracted", MIXED),
        ("not at first, but now yes", POSITIVE),
        ("yes, but she talks over me sometimes", MIXED),
        ("she listens but then changes the subject", MIXED),
        ("he tries", MIXED), ("it's complicated", MIXED), ("no complaints", POSITIVE),
        # emoji that clearly carry an answer
        ("👍", POSITIVE), ("👎", NEGATIVE), ("❤️", POSITIVE), ("😢", NEGATIVE), ("yes 🙂", POSITIVE),
        (":(", NEGATIVE), ("<3", POSITIVE),
    ],
)
def test_bands(text: str, allowed: tuple[int, ...]) -> None:
    assert score_answer(text) in allowed


def test_plain_yes_is_mostly_and_stronger_yes_is_completely() -> None:
    # A plain yes says "positive" without claiming nothing could be better; emphasis reaches 5.
    assert score_answer("yes") == 4
    assert score_answer("Yes.") == 4
    assert score_answer("yes, absolutely") == 5
    assert score_answer("yes she is so kind") == 5


@pytest.mark.parametrize(
    "text",
    ["", "   ", "asdf", "what?", "pizza", "qwertyuiop", "🤔", "😐", "🙃", "ok", "k", "hmm",
     "thanks", "can you repeat the question", "why do you need to know",
     "what does advocate even mean?", "we talk about my mom a lot", "I go on tuesdays",
     "she's my therapist", "12345678", "lol", "...", "?!"],
)
def test_no_answer_in_the_words(text: str) -> None:
    assert score_answer(text) is None


@pytest.mark.parametrize(
    "text",
    ["I don't know", "idk", "not sure", "hard to say", "Honestly I'm not sure", "no idea",
     "dunno tbh", "🤷", "🤷‍♀️", "I really can't say", "it's only been two sessions, hard to tell"],
)
def test_unsure(text: str) -> None:
    assert score_answer(text) is None
    assert is_unsure(text)


@pytest.mark.parametrize(
    "text",
    ["asdf", "", "pizza", "yes", "not at all", "she has no idea why I'm here", "4",
     "not sure she gets me"],
)
def test_not_unsure(text: str) -> None:
    assert not is_unsure(text)


def test_unsure_doubt_about_a_description_is_mixed_not_none() -> None:
    assert score_answer("not sure she really gets me") == 3
    assert score_answer("she has no idea why I'm here") in NEGATIVE


@pytest.mark.parametrize(
    "weird",
    [None, 42, b"yes", "\x00\x01", "💯" * 500, "no " * 5000, "<script>alert(1)</script>", "🏳️‍🌈",
     "1/0", "0/0", "99999999999999999999%", "9" * 400, "not " * 300 + "warm", "\u202eyes"],
)
def test_never_raises(weird: object) -> None:
    result = score_answer(weird)  # type: ignore[arg-type]
    assert result is None or result in (1, 2, 3, 4, 5)
    assert is_unsure(weird) in (True, False)  # type: ignore[arg-type]


def test_deterministic() -> None:
    texts = ["she's kind but I'm not sure she understands me", "yeah mostley", "sometimes?"]
    assert [score_answer(t) for t in texts] == [score_answer(t) for t in texts]


def test_fast_enough_for_every_message() -> None:
    texts = ["she's kind but I'm not sure she understands me, and she forgets stuff a lot"] * 200
    start = time.perf_counter()
    for t in texts:
        score_answer(t)
    assert (time.perf_counter() - start) / len(texts) < 0.005  # well under 5 ms per answer


def test_heldout_set_is_well_formed() -> None:
    """The held-out set (scored by bench/answers.py, never by these tests) stays usable."""
    from pathlib import Path

    import yaml

    from bot.dimensions import DIMENSIONS

    path = Path(__file__).parent / "data" / "answers_heldout.yml"
    items = yaml.safe_load(path.read_text(encoding="utf-8"))["items"]
    assert len(items) >= 150
    assert sum(item["band"] == "none" for item in items) >= 15
    assert {item["dimension"] for item in items} == set(DIMENSIONS)
    for item in items:
        assert isinstance(item["text"], str)
        assert item["band"] in ("negative", "mixed", "positive", "none")
        if "score" in item:
            expected = {"negative": (1, 2), "mixed": (3,), "positive": (4, 5)}[item["band"]]
            assert item["score"] in expected, item


# ------------------------------------------------------------------ properties (hypothesis)
from hypothesis import given, settings, strategies as st  # noqa: E402

from bot.dimensions import LEVELS  # noqa: E402


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_any_text_scores_to_a_level_or_none_and_never_raises(text):
    assert score_answer(text) in (None, 1, 2, 3, 4, 5)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80),
       st.sampled_from(["", " ", "  ", "\n", "\t"]))
def test_surrounding_whitespace_and_case_do_not_change_the_score(text, pad):
    assert score_answer(f"{pad}{text}{pad}") == score_answer(text)
    assert score_answer(text.upper()) == score_answer(text.lower()) or not text.isascii()


@given(st.sampled_from(sorted(LEVELS)))
def test_digits_and_level_words_map_to_their_level(level):
    assert score_answer(str(level)) == level
    assert score_answer(LEVELS[level]) == level
    assert score_answer(LEVELS[level].upper()) == level


# ------------------------------------------------------------------ the lexicon file (bot/scoring.yml)
import yaml  # noqa: E402

from bot.scoring import SCORING_PATH, load_lexicon  # noqa: E402


def _lexicon_file(tmp_path, change=None, text=None):
    """bot/scoring.yml, changed by `change(data)` or replaced by `text`, written to tmp_path."""
    if text is None:
        data = yaml.safe_load(SCORING_PATH.read_text(encoding="utf-8"))
        change(data)
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    path = tmp_path / "scoring.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_lexicon_loads_and_each_phrase_is_in_one_section_once():
    lexicon = load_lexicon()
    data = yaml.safe_load(SCORING_PATH.read_text(encoding="utf-8"))
    listed = [*[p for phrases in data["answers"].values() for p in phrases],
              *[p for group in data["modifiers"].values() for p in group],
              *[p for group in (*data["positive"].values(), *data["negative"].values()) for p in group],
              *[p for key in ("yes_words", "no_words", "hedges", "negators", "doubt", "confused",
                              "at_all", "ignored") for p in data[key]]]
    assert len(listed) == len(set(listed)) == len(lexicon.phrases)
    assert lexicon.phrases[("not", "at", "all")].value == 1
    assert lexicon.phrases[("always",)].pos == 5 and lexicon.phrases[("always",)].neg == 1


@pytest.mark.parametrize("change, named", [
    (lambda d: d.update(maybes=["perhaps"]), "maybes"),  # an unknown section
    (lambda d: d["emoji"].update(sparkle=["✨"]), "emoji: ['sparkle']"),
    (lambda d: d["answers"].update({2: "not much"}), "answers.2"),  # a string, not a list
    (lambda d: d["answers"].update({6: ["off the scale"]}), "answers: 6"),  # a level outside 1-5
    (lambda d: d["modifiers"]["frequency"].update(always=[6, 5, 1]), "modifiers.frequency.always"),
    (lambda d: d["modifiers"]["degree"].update(quite="4"), "modifiers.degree.quite"),
    (lambda d: d["negated_answer"].update({5: 0}), "negated_answer.5"),
    (lambda d: d["positive"]["warmth"].append("Kind-hearted"), "'Kind-hearted'"),
    (lambda d: d["answers"][1].append("überhaupt"), "'überhaupt'"),  # never matches: accents are stripped
    (lambda d: d["hedges"].append(3), "hedges: 3"),
    (lambda d: d["short_reply_only"].append("kind"), "'kind'"),  # not an answer
    (lambda d: d["textspeak"].append("nonesuchword"), "'nonesuchword'"),
    (lambda d: d["typo_targets"].append("kind of"), "'kind of'"),
    (lambda d: d["word_numbers"].update(eleven="11"), "'eleven'"),
])
def test_a_malformed_lexicon_is_refused_naming_the_entry(tmp_path, change, named):
    with pytest.raises(ValueError, match=re.escape(named)):
        load_lexicon(_lexicon_file(tmp_path, change))


@pytest.mark.parametrize("change, message", [
    (lambda d: d["doubt"].append("not sure"), "doubt: 'not sure' is listed twice"),
    (lambda d: d["negative"]["coldness"].append("kind"), "'kind' is already in positive.warmth"),
    (lambda d: d["yes_words"].append("claro"), "'claro' is already in answers.5"),
    (lambda d: d["spellings"].update(dont="don't"), "'dont' is already taken from textspeak.yml"),
])
def test_a_phrase_listed_twice_is_refused_naming_both_places(tmp_path, change, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        load_lexicon(_lexicon_file(tmp_path, change))


def test_a_key_given_twice_in_the_file_is_refused_not_silently_overwritten(tmp_path):
    text = SCORING_PATH.read_text(encoding="utf-8").replace(
        '    "always": [5, 5, 1]\n', '    "always": [5, 5, 1]\n    "always": [1, 1, 5]\n')
    with pytest.raises(ValueError, match=r"line \d+: 'always' is listed twice"):
        load_lexicon(_lexicon_file(tmp_path, text=text))
