"""bot.language.reflect: the part of a long answer worth quoting back."""
from __future__ import annotations

from bot.language.reflect import is_long, quote_for
from bot.replies import safe_quote


def test_a_clause_that_carries_the_meaning_is_chosen() -> None:
    text = ("Honestly she is lovely, she remembered my dog's name and asked how my exam went, "
            "which nobody else did.")
    quote = quote_for(text, "positive")
    assert quote and quote in text and safe_quote(quote, 15) == quote


def test_the_clause_agrees_with_the_band_it_reflects() -> None:
    text = "I like her as a person, but she never listens to anything I say in our sessions."
    assert "never listens" in quote_for(text, "negative")


def test_a_scorer_can_pick_what_the_lexicon_cannot_read() -> None:
    text = "I've been seeing her for a year. Last week she checked the clock twice, and I felt like a box to tick."
    def scorer(clauses):
        return [{"negative": 0.9 if "box to tick" in c else 0.2} for c in clauses]
    assert quote_for(text, "negative", scorer) == "I felt like a box to tick"


def test_nothing_quotable_gives_none() -> None:
    assert quote_for("ok", "positive") is None
    assert quote_for("<b>she is great</b> http://example.com", "positive") is None
    assert quote_for(None, "positive") is None  # type: ignore[arg-type]


def test_long_means_fifteen_words_or_more() -> None:
    assert not is_long("she listens to me")
    assert is_long("she listens to me every single week and she remembers what I said the week before")
