"""bot.safety: the deterministic crisis detector.

These sentences are NOT the held-out set (tests/data/safety_heldout.yml, measured by
`python -m bench.safety`); they pin down behaviour by category, idiom, negation and spelling.
"""
from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.safety import CATEGORIES, CRISIS, NONE, RISK_LEVELS, UNCLEAR, SafetyResult, assess, normalize

# --------------------------------------------------------------------------- categories

CRISIS_BY_CATEGORY = [
    ("suicide", "I want to kill myself"),
    ("suicide", "i'm suicidal"),
    ("suicide", "I've been having thoughts of suicide"),
    ("suicide", "I'm going to end it all tonight"),
    ("suicide", "I'm planning to take my own life"),
    ("self_harm", "I've been self-harming again"),
    ("self_harm", "i hurt myself on purpose last night"),
    ("self_harm", "I keep burning myself with cigarettes"),
    ("self_harm", "been cutting again"),
    ("overdose", "I took 30 tylenol"),
    ("overdose", "I swallowed a handful of sleeping pills"),
    ("overdose", "I drank bleach"),
    ("overdose", "i'm going to overdose"),
    ("plan_or_means", "I've been saving up my pills"),
    ("plan_or_means", "bought a rope"),
    ("plan_or_means", "I'm standing on the edge of the bridge"),
    ("plan_or_means", "I looked up a lethal dose"),
    ("plan_or_means", "I wrote a suicide note"),
    ("wish_to_die", "everyone would be better off without me"),
    ("wish_to_die", "no reason to go on"),
    ("wish_to_die", "I wish I could sleep and never wake up"),
    ("wish_to_die", "I wish I was dead"),
    ("wish_to_die", "I don't want to live anymore"),
    ("wish_to_die", "she makes me feel like I'd be better off dead"),
    ("wish_to_die", "the world would be a better place without me"),
    ("harm_others", "I want to hurt him"),
    ("harm_others", "I'm scared I'll hurt my baby"),
    ("harm_others", "i'm going to stab my roommate"),
    ("abuse_at_home", "my partner hits me"),
    ("abuse_at_home", "my boyfriend hurts me"),
    ("abuse_at_home", "my husband keeps hurting me when he drinks"),
    ("abuse_at_home", "I'm not safe at home"),
    ("abuse_at_home", "he said he'd kill me if I told anyone"),
    ("abuse_at_home", "my stepdad touches me"),
    ("abuse_at_home", "she hit me with a belt"),
]


@pytest.mark.parametrize("category, text", CRISIS_BY_CATEGORY)
def test_crisis_statements_are_caught_with_their_category(category: str, text: str) -> None:
    result = assess(text)
    assert result == SafetyResult(CRISIS, category, False)
    assert result.category in CATEGORIES


@pytest.mark.parametrize(
    "text",
    [
        "Mostly yes, she's on my side. Honestly though I've been thinking about killing myself and haven't told her.",
        "heard - a little. he types while I talk. also i have a stash of pills for when it gets too much",
        "Warm? completely. Worth? She treats me like I matter, which is more than I do, I keep thinking I should just die.",
    ],
)
def test_crisis_in_the_middle_of_an_answer_about_therapy_is_caught(text: str) -> None:
    assert assess(text).level == CRISIS


@pytest.mark.parametrize(
    "text",
    [
        "I've started writing letters to say goodbye to everyone",
        "i don't think i'll be around for much longer",
        "I keep imagining my funeral and who would come",
        "sometimes I hold the knife against my wrist",
        "i wish a car would hit me",
        "I hope I get cancer and die",
        "I want to be with my mom in heaven",
        "i feel like ending things",
        "i'll be dead by friday",
        "my dad hits my mom and me",
        "why should i even bother living",
        "i hate being alive",
        "i'm worthless and should just die",
        "i cut last night",
        "I am a danger to myself",
        "wish i wasn't alive",
        "I drank bleach",
        "I'm sitting on the edge of the roof right now",
        "my stepdad comes into my room at night and I'm scared",
        "my wife threw a plate at me",
        "I'm going to shoot up my school",
        "everyone would be better off if i just died",
    ],
)
def test_indirect_statements_are_crisis(text: str) -> None:
    assert assess(text).level == CRISIS


# --------------------------------------------------------------------------- unclear


@pytest.mark.parametrize(
    "text",
    [
        "I can't do this anymore",
        "what's the point",
        "I just want it all to stop",
        "I'm so done",
        "i feel so hopeless",
        "I give up",
        "I don't want to be here anymore",
        "I can't cope",
        "i dont think i can keep going",
        "not sure I can hold on much longer",
    ],
)
def test_ambiguous_distress_is_unclear(text: str) -> None:
    assert assess(text) == SafetyResult(UNCLEAR, "distress", False)


def test_someone_elses_risk_is_at_most_unclear() -> None:
    assert assess("my friend attempted suicide last year").level == UNCLEAR
    assert assess("my brother tried to kill himself").level == UNCLEAR
    assert assess("my sister says she wants to die").level == UNCLEAR


@pytest.mark.parametrize(
    "text",
    [
        "we talked about my suicidal ex and how to set boundaries",
        "she helped me stop self-harming two years ago and I'm still clean",
        "I'd rather die than go back to my old therapist lol",
        "i have a plan and i know when",
    ],
)
def test_mentions_in_passing_are_unclear_not_crisis(text: str) -> None:
    assert assess(text).level == UNCLEAR


def test_a_past_attempt_is_unclear_but_a_recurrence_is_crisis() -> None:
    assert assess("I attempted suicide when I was 15").level == UNCLEAR
    assert assess("I used to self harm").level == UNCLEAR
    assert assess("I used to self harm and I started again this week").level == CRISIS


# --------------------------------------------------------------------------- idioms


@pytest.mark.parametrize(
    "text",
    [
        "this traffic is killing me",
        "I'd die for a coffee",
        "killing it at work",
        "dying to know",
        "my feet are killing me",
        "I'd kill for a nap",
        "she killed it in session today",
        "I nearly died laughing",
        "I'm scared to death of driving",
        "my mum will kill me if she finds out",
        "I'm killing myself trying to get everything done",
        "I want to end things with my therapist",
        "I jumped at the chance to see her twice a week",
    ],
)
def test_idioms_are_not_crisis_and_are_flagged(text: str) -> None:
    assert assess(text) == SafetyResult(NONE, None, True)


@pytest.mark.parametrize(
    "text",
    [
        "I hate how she talks over me",
        "my therapist killed it today",
        "I'm dead tired",
        "she cut me off mid-sentence",
        "I cut my hair and she noticed",
        "we talked about my grandmother who died",
        "she pushed me to open up",
        "she hit me with a hard truth today",
        "I'd hurt her feelings if I said that",
        "I shot her an email",
        "completely, 5",
        "not at all, he seems bored",
        "I'm done with my homework",
        "I give up on sugar every January",
        "I don't feel safe telling her everything yet",
        "i dont think i can keep going with this question",
        "my boyfriend hurt my feelings",
        "my dad hurts me with his comments",
    ],
)
def test_strong_words_in_ordinary_answers_are_not_alarms(text: str) -> None:
    assert assess(text).level == NONE


def test_idiom_does_not_hide_a_real_crisis_in_the_same_message() -> None:
    assert assess("this traffic is killing me and honestly I want to kill myself").level == CRISIS
    assert assess("my feet are killing me. I wish I was dead.") == SafetyResult(CRISIS, "wish_to_die", False)


# --------------------------------------------------------------------------- negation


@pytest.mark.parametrize(
    "text",
    [
        "I'm not suicidal",
        "I'm not suicidal, just frustrated",
        "my therapist asked if I'd ever self-harmed, I haven't",
        "she asked if I ever hurt myself. I never have.",
        "I would never kill myself",
        "I don't want to die, I want therapy to work",
        "no suicidal thoughts at all",
    ],
)
def test_negated_mentions_are_not_crisis(text: str) -> None:
    assert assess(text).level != CRISIS


def test_reported_question_answered_yes_is_crisis() -> None:
    assert assess("she asked if I'd thought about suicide and I said yes").level == CRISIS


def test_reported_question_without_an_answer_is_unclear() -> None:
    assert assess("she asked me about self harm and I didn't know what to say").level == UNCLEAR


def test_negation_does_not_reach_across_clauses() -> None:
    assert assess("I'm not okay and I want to die").level == CRISIS
    assert assess("I'm not suicidal but I've been cutting").level == CRISIS
    assert assess("I can't stop thinking about killing myself").level == CRISIS
    assert assess("I've never felt this suicidal").level == CRISIS


def test_double_negatives_and_cannot_stop_are_not_negation() -> None:
    assert assess("i haven't stopped thinking about killing myself").level == CRISIS
    assert assess("not a day goes by that i don't think about killing myself").level == CRISIS
    assert assess("I haven't been able to stop thinking about suicide").level == CRISIS


def test_stopping_self_harm_is_unclear() -> None:
    assert assess("I stopped cutting last year") == SafetyResult(UNCLEAR, "self_harm", False)


def test_a_wish_not_to_live_is_crisis_despite_its_negative_words() -> None:
    assert assess("I don't want to be alive anymore").level == CRISIS
    assert assess("i dont see any reason to live").level == CRISIS


# --------------------------------------------------------------------------- spelling


@pytest.mark.parametrize(
    "text",
    [
        "kms",
        "kys",
        "k.m.s",
        "i want to unalive myself",
        "unalive",
        "feeling suicidle",
        "thinking about sucide",
        "i od'd last night",
        "wanna die",
        "end it all",
        "cant go on",
        "I WANT TO KILL MYSELF",
        "i want to diiiiie",
        "i want to kiiiiill myself",
        "i want to d i e",
        "k1ll mys3lf",
        "I\u2019m going to kill my self",
        "\uff49 \uff57\uff41\uff4e\uff54 \uff54\uff4f \uff44\uff49\uff45",  # full-width letters (NFKC)
        "i want to\u200b die",
        "im gonna end my life",
    ],
)
def test_typos_text_speak_and_unicode_are_normalised(text: str) -> None:
    assert assess(text).level == CRISIS


def test_normalize_handles_quotes_contractions_and_slang() -> None:
    assert normalize("I\u2019M GONNA") == "i'm going to"
    assert normalize("dont   wanna\n\ngo") == "don't want to . go"
    assert normalize("kys rn") == "kill yourself right now"


# --------------------------------------------------------------------------- robustness


@pytest.mark.parametrize(
    "value",
    ["", "   ", "\n\n", "\x00\x01\xff", "\ud800", "💀" * 500, "a" * 10_000, "ありがとう", "Ça va très bien",
     b"\xff\xfe bytes", None, 42],
)
def test_never_raises_on_odd_input(value: object) -> None:
    result = assess(value)  # type: ignore[arg-type]
    assert result.level in RISK_LEVELS


def test_result_is_frozen() -> None:
    result = assess("I want to kill myself")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.level = NONE  # type: ignore[misc]


def test_other_languages_catch_a_few_common_phrases() -> None:
    assert assess("quiero morir").level == CRISIS
    assert assess("je veux mourir").level == CRISIS


def test_long_message_with_crisis_at_the_end() -> None:
    text = "She listens well and I feel heard. " * 250 + "I have pills saved up to end my life."
    assert len(text) > 8_000
    assert assess(text).level == CRISIS


_RISKY_WORDS = st.sampled_from(
    ["kill", "myself", "die", "want", "to", "I", "not", "suicide", "pills", "killing", "me", "dead",
     "end", "it", "all", "hurt", "him", "never", "wake", "up", "better", "off", "without", "she", "asked",
     "if", "'", ",", ".", "self-harm", "kms", "coffee", "for", "dying", "know", "\u2019", "!!", "\n"]
)
_TEXTS = st.one_of(
    st.text(max_size=300),
    st.lists(_RISKY_WORDS, max_size=25).map(" ".join),
    st.lists(st.one_of(_RISKY_WORDS, st.text(max_size=5)), max_size=15).map("".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXTS)
def test_property_valid_and_stable_under_case_and_surrounding_whitespace(text: str) -> None:
    result = assess(text)
    assert isinstance(result, SafetyResult)
    assert result.level in RISK_LEVELS
    assert result.category is None or result.category in CATEGORIES
    assert not (result.idiom and result.level != NONE)
    assert (result.category is None) == (result.level == NONE)
    assert assess(text.upper()) == result
    assert assess(text.lower()) == result
    assert assess("  \n" + text + " \t ") == result


def test_an_overdose_before_this_chat_is_now_not_the_past():
    # "before I started therapy" dates something; "before I started talking to you" does not.
    assert assess("i took a whole bottle of pills before i started talking to you").level == "crisis"
    assert assess("before i started therapy i used to cut myself").level == "unclear"
