"""corpus/: the real-language data, split by source, and our own lines kept out of the held-out side."""
from __future__ import annotations

import re
from collections import Counter

import pytest

from bot.language import corpus


@pytest.mark.parametrize("name", [corpus.THERAPIST, corpus.CRISIS])
def test_no_source_is_on_both_sides_and_every_line_is_on_its_side(name: str) -> None:
    train, heldout = corpus.load(name, "train"), corpus.load(name, "heldout")  # load() checks sides
    assert not corpus.sources(train) & corpus.sources(heldout)
    assert all(line.url.startswith(("http://", "https://")) for line in train + heldout)


def test_there_is_enough_real_language() -> None:
    therapist = corpus.load(corpus.THERAPIST, "train") + corpus.load(corpus.THERAPIST, "heldout")
    crisis = corpus.load(corpus.CRISIS, "train") + corpus.load(corpus.CRISIS, "heldout")
    labels = Counter(line.fields["label"] for line in crisis)
    assert len(therapist) >= 400
    assert labels["direct"] + labels["indirect"] >= 200 and labels["none"] >= 200
    assert len({line.url for line in therapist + crisis}) >= 400


def test_the_split_is_by_site_except_where_many_people_write() -> None:
    assert corpus.source_key("https://someblog.wordpress.com/2014/05/a") == "someblog.wordpress.com"
    assert corpus.source_key("https://www.themighty.com/topic/a/") == "themighty.com/topic/a"
    assert corpus.source_key("https://mysupportforums.org/1-post2.html") != corpus.source_key(
        "https://mysupportforums.org/1-post3.html")


@pytest.mark.parametrize("name", [corpus.THERAPIST, corpus.CRISIS])
def test_each_file_says_how_it_was_split(name: str) -> None:
    for side in ("train", "heldout"):
        header = corpus.path(name, side).read_text(encoding="utf-8").split("items:")[0]
        assert "Split by source" in header and "SHA-256" in header


def test_our_own_lines_are_never_held_out() -> None:
    heldout = {re.sub(r"\W", "", l.text.lower()) for name in (corpus.THERAPIST, corpus.CRISIS)
               for l in corpus.load(name, "heldout")}
    for name in (corpus.THERAPIST, corpus.CRISIS):
        for item in corpus.load_authored(name):
            assert "url" not in item
            assert re.sub(r"\W", "", item["text"].lower()) not in heldout


def test_round_5_took_its_lines_from_new_sources() -> None:
    """Collection round 5 (`round: 5`) added pages the corpus did not have: no source of it is also a
    source of the lines from rounds 1-4, so its held-out lines are held out as whole new pages."""
    lines = [line for name in (corpus.THERAPIST, corpus.CRISIS) for side in ("train", "heldout")
             for line in corpus.load(name, side)]
    round5 = {line.source for line in lines if line.fields.get("round") == 5}
    earlier = {line.source for line in lines if "round" not in line.fields}
    assert round5 and not round5 & earlier
    assert {line.fields["round"] for line in lines if "round" in line.fields} == {5}
