"""One normalised form of a client's message, shared by the crisis layer and the answer reader.

`fold` undoes what hides words from a reader that matches them: compatibility forms, invisible
characters, letters from other scripts that look Latin (a Cyrillic "і" in "kіll"), accents, digits
and symbols typed for letters ("k1ll", "d!e"), stretched letters ("diiiie"), letters spaced out
("k m s"). `expand` then maps text-speak and missing apostrophes to plain words ("im" -> "i'm",
"wanna" -> "want to", "kms" -> "kill myself") with the one map in `textspeak.yml`.

Everything here is linear in the length of the text: a few regular-expression passes whose patterns
cannot backtrack, and one pass over the words.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import yaml

TEXTSPEAK_PATH = Path(__file__).with_name("textspeak.yml")

_QUOTES = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'",
    "\u00b4": "'", "`": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u0131": "i", "\u017f": "s",
}
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u180e]")
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i", "|": "l"}
# Patterns start with what they look for (a character class or a literal), so the engine skips
# ahead to it instead of trying every position: a leading look-behind or \b would not.
_LEET_CHARS = frozenset("013457@$!|")
_LEET_INSIDE = re.compile(r"[013457@$!|]+(?=[a-z])")
_LEET_END = re.compile(r"[0135](?<=[a-z][a-z][0135])(?![a-z0-9])")  # "su1c1d3" ends in a digit
_RUNS = re.compile(r"([a-z])\1{2,}")
_NEWLINES = re.compile(r"[\r\n\u2028\u2029\u0085]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_SYMBOLS = re.compile(r"[^\w\s'.!?,;:]|_")
_ASCII_SYMBOLS = str.maketrans({c: " " for c in "\"#%&()*+-/<=>@[\\]^_`{|}~$"})
_LONE_QUOTE = re.compile(r"(?<![a-z0-9])'|'(?![a-z0-9])")
_SPACES = re.compile(r"\s+")
_SPACED_LETTERS = re.compile(r"\b(?:[a-z][ .]){2,5}[a-z]\b")
_DOTTED_OD = re.compile(r"\bo\.d\.?(?=')")
_PUNCT = re.compile(r"([.!?,;:]+)")
_SUICIDE_FUZZY = re.compile(r"su(?<!\wsu)[ae]?(?:i[cs]{1,2}i?|[cs]{1,2}i)[iea]?d(\w*)")
_UNALIVE_SELF = re.compile(r"\bunaliv(e|ing|ed) ?(my|him|her|them|your) ?sel(f|ves)\b")
_SH_BEFORE = re.compile(r"s(?<!\ws)\.?h\.?\b(?= (?:urges?|relapse|scars?|again|cuts?))")
_SELF_JOINED = re.compile(r"self(?<!\wself) ?(harm|injur|mutilat|destruct|hat)")
_OD_VERB = re.compile(r"\b(going to|want to|might|could|almost|nearly|i'll|i|to) od\b")


class TextSpeak:
    """The map in textspeak.yml, checked when loaded."""

    def __init__(self, data: Mapping) -> None:
        words, phrases = data.get("words") or {}, data.get("phrases") or {}
        if not isinstance(words, Mapping) or not isinstance(phrases, Mapping):
            raise ValueError("textspeak.yml: words and phrases must be mappings")
        self.words = {str(k): str(v) for k, v in words.items()}
        self.phrases: dict[tuple[str, ...], str] = {}
        for key, value in phrases.items():
            parts = tuple(str(key).split())
            if not 2 <= len(parts) <= 3:
                raise ValueError(f"textspeak.yml: phrase {key!r} must have two or three words")
            self.phrases[parts] = str(value)
        self.phrase_heads = {p[0] for p in self.phrases}
        self.spaced_words = frozenset(str(w) for w in data.get("spaced_words") or ())
        lookalikes = data.get("lookalikes") or {}
        for char, letter in lookalikes.items():
            if len(str(char)) != 1 or not re.fullmatch(r"[a-z]", str(letter)):
                raise ValueError(f"textspeak.yml: lookalike {char!r} -> {letter!r} must map one character to a-z")
        self.translation = str.maketrans({**_QUOTES, **{str(k): str(v) for k, v in lookalikes.items()}})


@lru_cache(maxsize=1)
def textspeak() -> TextSpeak:
    return TextSpeak(yaml.safe_load(TEXTSPEAK_PATH.read_text(encoding="utf-8")))


def has_stretched_letters(text: str) -> bool:
    """True when a letter repeats three or more times ("diiiie"), before any normalising."""
    return _RUNS.search(text.casefold()) is not None


def fold(text: str, runs_to: int = 2) -> str:
    """Lower case, plain letters and spaces; sentence punctuation kept. Runs of three or more of the
    same letter become `runs_to` letters (2 keeps "good", 1 turns "diiie" into "die")."""
    ts = textspeak()
    s = unicodedata.normalize("NFKC", text)
    s = _INVISIBLE.sub("", s).strip().casefold().translate(ts.translation)
    if not s.isascii():
        s = _NON_ASCII.sub(_plain_letters, s)
    if not _LEET_CHARS.isdisjoint(s):
        s = _LEET_INSIDE.sub(_unleet, s)
        s = _LEET_END.sub(lambda m: _LEET[m.group(0)], s)
    s = _RUNS.sub(lambda m: m.group(1) * runs_to, s)
    s = _NEWLINES.sub(" . ", s)
    if "o.d" in s:
        s = _DOTTED_OD.sub("od", s)
    s = s.translate(_ASCII_SYMBOLS)
    if "'" in s:
        s = _LONE_QUOTE.sub(" ", s)
    s = " ".join(s.split())
    return _SPACED_LETTERS.sub(lambda m: _join_spaced(m, ts.spaced_words), s)


def _plain_letters(m: re.Match[str]) -> str:
    """A run of non-ASCII characters: accents dropped ("é" -> "e"), look-alike letters mapped,
    anything else that is not a letter or digit (emoji, symbols) becomes a space."""
    decomposed = unicodedata.normalize("NFKD", m.group(0))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(textspeak().translation)
    return _SYMBOLS.sub(" ", plain)


def _unleet(m: re.Match[str]) -> str:
    start = m.start()
    if start == 0 or not ("a" <= m.string[start - 1] <= "z"):
        return m.group(0)  # only between letters: "k1ll", not "1 hour"
    return "".join(_LEET[c] for c in m.group(0))


def _join_spaced(m: re.Match[str], words: frozenset[str]) -> str:
    """"d i e" -> "die", only for a few risk words (so "r u ok" keeps its spaces)."""
    joined = re.sub(r"[ .]", "", m.group(0))
    return joined if joined in words else m.group(0)


def _suicide_word(m: re.Match[str]) -> str:
    suffix = m.group(1)
    if suffix in ("", "e", "es", "io", "a", "ed"):
        return "suicide"
    return "suicidal" if "l" in suffix else "suicide"


def _unalive(m: re.Match[str]) -> str:
    verb = {"e": "kill", "ing": "killing", "ed": "killed"}[m.group(1)]
    return f"{verb} {m.group(2)}sel{m.group(3)}"


def expand(folded: str) -> str:
    """Text-speak and contractions in a `fold`ed text replaced by plain words; punctuation marks
    stand apart as their own words."""
    ts = textspeak()
    s = _SUICIDE_FUZZY.sub(_suicide_word, folded) if "su" in folded else folded
    if "unaliv" in s:
        s = _UNALIVE_SELF.sub(_unalive, s)
    if "sh" in s:
        s = _SH_BEFORE.sub("self harm", s)
    tokens = _PUNCT.sub(r" \1 ", s).split()
    get = ts.words.get
    heads = [i for i, token in enumerate(tokens) if token in ts.phrase_heads]
    if not heads:
        out = [get(token, token) for token in tokens]
    else:  # two- and three-word forms ("i am", "can not"), only where one can start
        replaced: dict[int, tuple[int, str]] = {}
        skip_to = -1
        for i in heads:
            if i < skip_to:
                continue
            for size in (3, 2):
                key = tuple(tokens[i:i + size])
                if len(key) == size and key in ts.phrases:
                    replaced[i] = (size, ts.phrases[key])
                    skip_to = i + size
                    break
        out, i = [], 0
        while i < len(tokens):
            if i in replaced:
                size, value = replaced[i]
                out.append(value)
                i += size
            else:
                out.append(get(tokens[i], tokens[i]))
                i += 1
    s = " ".join(out)
    if "self" in s:
        s = _SELF_JOINED.sub(r"self \1", s)
    return _OD_VERB.sub(r"\1 overdose", s) if " od" in s else s


def normalise(text: str, runs_to: int = 2) -> str:
    """`expand(fold(text))`: the form the crisis rules and the answer reader work on."""
    return expand(fold(text, runs_to))
