"""bot.language.answers: a level when it is clear, a band to reflect when only that is."""
from __future__ import annotations

import pytest

from bot.language.answers import BAND_LEVELS, Reading, polarity, read_answer
from bot.language.decisions import decisions
from bot.language.model import Analysis
from bot.language.understand import understand


def analysis(negative: float, mixed: float, positive: float, level: dict[str, float] | None = None,
             other: float = 0.05) -> Analysis:
    return Analysis(crisis={"none": 1.0, "indirect": 0.0, "direct": 0.0},
                    band={"negative": negative, "mixed": mixed, "positive": positive},
                    level=level or {"1": 0.2, "2": 0.2, "3": 0.2, "4": 0.2, "5": 0.2},
                    relevance={"answer": 1 - other, "other": other})


@pytest.mark.parametrize("text, level", [("4", 4), ("3/5", 3), ("mostly", 4), ("not at all", 1),
                                          ("yes totally", 5), ("not really, she talks over me", 2)])
def test_numbers_and_the_scale_s_own_words_are_read_by_the_lexicon(text: str, level: int) -> None:
    # whatever the model would say: the floor decides what it reads reliably
    reading = read_answer(text, analysis(0.1, 0.1, 0.8))
    assert (reading.level, reading.how) == (level, "lexicon")


def test_sure_words_get_a_level_when_the_level_is_sure_too() -> None:
    t = decisions().answers
    sure = analysis(0.02, 0.02, 0.96, level={"1": 0, "2": 0, "3": 0.05, "4": 0.15, "5": 0.8})
    reading = read_answer("She has been in my corner every single week since we started", sure)
    assert polarity(sure.band)[1] >= t.band_sure
    assert (reading.level, reading.band, reading.how) == (5, "positive", "model")


def test_a_sure_band_with_an_unsure_level_offers_the_band_s_levels() -> None:
    reading = read_answer("She has been in my corner every single week since we started",
                          analysis(0.02, 0.02, 0.96, level={"1": 0, "2": 0, "3": 0, "4": 0.5, "5": 0.5}))
    assert reading.level is None and reading.band == "positive" and reading.choices == BAND_LEVELS["positive"]


def test_a_leaning_answer_is_reflected_tentatively() -> None:
    lean = analysis(0.74, 0.0, 0.26)  # leans negative, not surely
    t = decisions().answers
    assert t.band_tentative <= polarity(lean.band)[1] < t.band_sure
    reading = read_answer("I keep telling her about my week and she changes the subject", lean)
    assert (reading.level, reading.band, reading.choices) == (None, "negative", (1, 2))


def test_unclear_words_get_no_band_at_all() -> None:
    reading = read_answer("It is what it is with her and the sessions honestly", analysis(0.45, 0.1, 0.45))
    assert reading.level is None and reading.band is None and reading.how == "model"


def test_a_mostly_mixed_reading_offers_the_middle_levels() -> None:
    reading = read_answer("Some weeks she is there for me and some weeks she really is not", analysis(0.3, 0.4, 0.3))
    assert reading.band == "mixed" and reading.choices == (2, 3, 4)


def test_not_knowing_is_told_apart() -> None:
    assert read_answer("I don't know, hard to say", analysis(0.3, 0.4, 0.3)).how == "unsure"


def test_without_a_model_the_lexicon_still_answers() -> None:
    assert read_answer("she always listens to me and remembers everything").level is not None
    assert read_answer("banana banana banana").level is None


def test_a_reading_survives_the_trip_through_rasa_and_bad_ones_are_refused() -> None:
    reading = Reading(None, "negative", (1, 2), 0.8, "model", quote="she forgets what I tell her")
    assert Reading.from_dict(reading.as_dict()) == Reading(None, "negative", (1, 2), 0.8, "model",
                                                           quote="she forgets what I tell her")
    for bad in (None, "x", {"level": 9}, {"level": "5"}, {"band": "great"}):
        assert Reading.from_dict(bad) is None


def test_the_whole_layer_reads_a_real_sounding_answer() -> None:
    understanding = understand("She never remembers anything I tell her from one week to the next, "
                               "and I end up feeling like a box she has to tick.")
    assert understanding.safety.level == "none"
    assert understanding.reading.band != "positive" and understanding.reading.level not in (4, 5)
    if understanding.reading.band is not None:
        assert understanding.reading.quote  # a long answer gets words to reflect
