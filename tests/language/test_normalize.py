"""bot.language.normalize: one normalised form for the crisis rules and the answer reader."""
from __future__ import annotations

import pytest
import yaml

from bot.language.normalize import TEXTSPEAK_PATH, TextSpeak, has_stretched_letters, normalise


@pytest.mark.parametrize("written, read", [
    ("і want to dіе", "i want to die"),  # Cyrillic і and е
    ("ѕuісіdаl", "suicidal"),  # Cyrillic throughout
    ("ＫＩＬＬ mysеlf", "kill myself"),  # full-width letters, Cyrillic е
    ("k1ll mys3lf", "kill myself"),  # digits for letters
    ("d!e", "die"),
    ("su1c1d3", "suicide"),  # a digit at the end of the word too
    ("k\u200bill myself", "kill myself"),  # an invisible character inside the word
    ("k m s", "kill myself"),  # spaced out
    ("kms rn", "kill myself right now"),
    ("im gonna end it tonite", "i'm going to end it tonight"),
    ("I can\u2019t go on", "i can't go on"),
    ("i can not do this any more", "i can't do this anymore"),
    ("unaliving myself", "killing myself"),
    ("sh urges again", "self harm urges again"),
    ("o.d.'d on my meds", "overdosed on my meds"),
])
def test_what_hides_words_from_the_rules_is_undone(written: str, read: str) -> None:
    assert normalise(written) == read


def test_stretched_letters_keep_two_or_become_one() -> None:
    assert has_stretched_letters("diiiiie") and not has_stretched_letters("good")
    assert normalise("diiiiie") == "diie"
    assert normalise("diiiiie", runs_to=1) == "die"
    assert normalise("soooo good") == "soo good"


def test_ordinary_words_and_numbers_are_left_alone() -> None:
    assert normalise("r u ok") == "are you ok"  # text-speak, not a spaced-out risk word
    assert normalise("She said 10/10, I'd go back at 3pm") == "she said 10 10 , i'd go back at 3pm"
    assert normalise("naïve café") == "naive cafe"


def test_surrounding_space_and_case_do_not_change_the_result() -> None:
    assert normalise("  \nI want to DIE \t") == normalise("i want to die")


def test_punctuation_stands_apart_and_newlines_end_sentences() -> None:
    assert normalise("dont   wanna\n\ngo") == "don't want to . go"


def test_the_textspeak_file_is_checked_when_loaded() -> None:
    data = yaml.safe_load(TEXTSPEAK_PATH.read_text(encoding="utf-8"))
    TextSpeak(data)  # the shipped file is valid
    with pytest.raises(ValueError):
        TextSpeak({**data, "lookalikes": {"ab": "a"}})
    with pytest.raises(ValueError):
        TextSpeak({**data, "phrases": {"one": "1"}})
