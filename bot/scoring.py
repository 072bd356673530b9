"""Turn a client's free-text answer into a 1-5 score (or None when the words carry no answer).

Levels: 1 not at all · 2 a little · 3 somewhat · 4 mostly · 5 completely.

This is the matcher; the words it matches (answer phrases, yes / no words, frequency and degree
words with their levels, negators, hedges, doubt, words that describe the therapist, emoji,
spellings) and the rules a clinician may want to review live in `scoring.yml`, read and checked
once at start-up (`load_lexicon`: a malformed entry raises ValueError naming it).

How it works, in order:
1. Normalise: lowercase, strip accents, map emoji to positive / negative / shrug markers, fix common
   SMS spellings ("rly", "kinda", "def") and near-miss typos of key words ("mostley", "compleetly").
2. Ratings written as numbers win: "4", "3/5", "4 out of 5", "10/10", "100%", "50/50", "0".
3. Otherwise the words are matched against the phrase lexicon, longest phrase first.
4. The message is split on contrast words ("but", "though"); each part is scored, and parts that
   disagree ("she's kind but I'm not sure she understands me") make a mixed answer, 3.

Choices worth knowing: a bare "yes" is 4 (mostly), not 5 — a plain yes says the answer is positive,
not that nothing could be better; "yes totally" or "yes, she's so kind" reach 5. A bare "no" is 1.
"I don't know", "not sure", "hard to say" give None; `is_unsure` tells those apart from gibberish so
the bot can help the client pick a level instead of re-asking.

Deterministic; the public functions never raise.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.dimensions import band

__all__ = ["score_answer", "is_unsure", "numeric_rating", "leading_answer", "load_lexicon", "SCORING_PATH"]

# --------------------------------------------------------------------------------------------
# Lexicon (bot/scoring.yml, checked when loaded)
# --------------------------------------------------------------------------------------------

SCORING_PATH = Path(__file__).with_name("scoring.yml")

LEVEL, MOD, YES, NO, POS, NEG, NEGATOR, DOUBT, HEDGE, AT_ALL, CONFUSED, IGNORE = (
    "level", "mod", "yes", "no", "pos", "neg", "negator", "doubt", "hedge", "at_all", "confused",
    "ignore",
)


@dataclass(frozen=True)
class _Entry:
    kind: str
    value: int = 0  # the answer level when the word stands on its own (0: none)
    pos: int = 0  # for modifiers: the level when attached to a positive description
    neg: int = 0  # ... and when attached to a negative description


@dataclass(frozen=True)
class Lexicon:
    """bot/scoring.yml, read and checked (see `load_lexicon`)."""
    phrases: Mapping[tuple[str, ...], _Entry]
    longest: int  # words in the longest phrase
    known_words: frozenset[str]  # every word of a phrase or of a spelling's replacement
    short_reply_only: frozenset[tuple[str, ...]]
    alone_only: frozenset[tuple[str, ...]]
    negated_answer: Mapping[int, int]
    present_words: frozenset[str]
    present_phrases: tuple[str, ...]
    contrast: frozenset[str]
    contrast_unless_followed_by: Mapping[str, frozenset[str]]
    filler: frozenset[str]
    word_numbers: Mapping[str, str]
    number_words: frozenset[str]
    unit_words: frozenset[str]
    question_start: re.Pattern[str]
    emoji: Mapping[str, tuple[str, ...]]  # marker ("__pos__", ...) → emoji
    spelling: Mapping[str, str]
    typo_targets: tuple[str, ...]
    common_words: frozenset[str]


# Sections holding phrases the matcher looks for, and the kind each gives.
_PHRASE_KINDS = {
    "yes_words": YES, "no_words": NO, "hedges": HEDGE, "negators": NEGATOR, "doubt": DOUBT,
    "confused": CONFUSED, "at_all": AT_ALL, "positive": POS, "negative": NEG, "ignored": IGNORE,
}
_WORD_LISTS = ("short_reply_only", "alone_only", "present", "contrast", "filler", "number_words",
               "unit_words", "question_starts", "textspeak", "typo_targets", "common_words")
_SECTIONS = frozenset([*_PHRASE_KINDS, *_WORD_LISTS, "answers", "modifiers", "negated_answer",
                       "contrast_unless_followed_by", "word_numbers", "emoji", "spellings"])
_EMOJI_MARKERS = {"positive": "__pos__", "negative": "__neg__", "shrug": "__shrug__"}
_LEVELS = range(1, 6)


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML that refuses a key given twice in one mapping (plain YAML keeps the last silently);
    the C parser when there is one (start-up reads the file in about 20 ms instead of 100)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ValueError(f"scoring.yml: line {key_node.start_mark.line + 1}: {key!r} is listed twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _simple_tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9_]+(?:'[a-z]+)?", text.lower())


def _phrases(where: str, value: object) -> list[str]:
    """A list of phrases written as the reader sees them: lower case, no accents or punctuation."""
    if not isinstance(value, list) or not value:
        raise ValueError(f"scoring.yml: {where} must be a non-empty list of phrases")
    seen: set[str] = set()
    for phrase in value:
        if not isinstance(phrase, str) or " ".join(_simple_tokens(phrase)) != phrase:
            raise ValueError(f"scoring.yml: {where}: {phrase!r} must be words in plain lower case "
                             "(no accents, no punctuation but an apostrophe inside a word)")
        if phrase in seen:
            raise ValueError(f"scoring.yml: {where}: {phrase!r} is listed twice")
        seen.add(phrase)
    return list(value)


def _groups(where: str, value: object) -> dict[str, object]:
    if not isinstance(value, dict) or not value:
        raise ValueError(f"scoring.yml: {where} must be a non-empty mapping")
    return {f"{where}.{key}": item for key, item in value.items()}


def _level(where: str, value: object, allowed: Iterable[int] = _LEVELS) -> int:
    if type(value) is not int or value not in allowed:
        raise ValueError(f"scoring.yml: {where} must be a level {min(allowed)}-{max(allowed)}, not {value!r}")
    return value


def _word_map(where: str, value: object) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise ValueError(f"scoring.yml: {where} must be a non-empty mapping")
    for key, item in value.items():
        if (not isinstance(key, str) or _simple_tokens(key) != [key] or not isinstance(item, (str, int))
                or isinstance(item, bool) or not _simple_tokens(str(item))):
            raise ValueError(f"scoring.yml: {where}: {key!r}: {item!r} must map one word to words")
    return {key: str(item) for key, item in value.items()}


def load_lexicon(path: Path = SCORING_PATH, textspeak_words: Mapping[str, str] | None = None) -> Lexicon:
    """Read and check an answer lexicon file; a malformed entry raises ValueError naming it.

    `textspeak_words` is the `words` map of bot/language/textspeak.yml (read from there if None)."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # a SafeLoader
    if not isinstance(data, dict):
        raise ValueError("scoring.yml: must be a mapping of sections")
    unknown = sorted(map(str, set(data) - _SECTIONS))
    missing = sorted(_SECTIONS - set(data))
    if unknown or missing:
        raise ValueError(f"scoring.yml: unknown sections {unknown}, missing sections {missing}"
                         f" (expected {sorted(_SECTIONS)})")

    phrases: dict[tuple[str, ...], _Entry] = {}
    defined_in: dict[tuple[str, ...], str] = {}

    def add(where: str, value: object, entry: _Entry) -> None:
        for phrase in _phrases(where, value):
            key = tuple(phrase.split())
            if key in phrases:
                raise ValueError(f"scoring.yml: {where}: {phrase!r} is already in {defined_in[key]}; "
                                 "a phrase belongs to one section")
            phrases[key], defined_in[key] = entry, where

    answers = data["answers"]
    if not isinstance(answers, dict) or not answers:
        raise ValueError("scoring.yml: answers must map levels 1-5 to phrases")
    for level, value in answers.items():
        add(f"answers.{level}", value, _Entry(LEVEL, _level(f"answers: {level!r}", level)))
    for group, mods in _groups("modifiers", data["modifiers"]).items():
        for where, levels in _groups(group, mods).items():
            phrase = where[len(group) + 1:]
            if not isinstance(levels, list) or len(levels) != 3:
                raise ValueError(f"scoring.yml: {where} must be [alone, with a good description, "
                                 f"with a bad description], not {levels!r}")
            alone = _level(f"{where} (alone)", levels[0], range(0, 6))
            add(group, [phrase], _Entry(MOD, alone, _level(f"{where} (with a good description)", levels[1]),
                                        _level(f"{where} (with a bad description)", levels[2])))

    for section, kind in _PHRASE_KINDS.items():
        if kind in (POS, NEG):
            for where, value in _groups(section, data[section]).items():
                add(where, value, _Entry(kind, 2 if kind == NEG else 4))
        else:
            value = {YES: 4, NO: 1, HEDGE: 3}.get(kind, 0)
            add(section, data[section], _Entry(kind, value))
    lists = {name: _phrases(name, data[name]) for name in _WORD_LISTS}
    for name in ("short_reply_only", "alone_only"):
        for phrase in lists[name]:
            entry = phrases.get(tuple(phrase.split()))
            if entry is None or not (entry.kind == LEVEL or (entry.kind == MOD and entry.value)):
                raise ValueError(f"scoring.yml: {name}: {phrase!r} must be an answer in `answers` "
                                 "or a modifier that answers alone")
    negated = data["negated_answer"]
    if not isinstance(negated, dict) or set(negated) != set(_LEVELS):
        raise ValueError("scoring.yml: negated_answer must give a level for each of the levels 1-5")
    negated_answer = {level: _level(f"negated_answer.{level}", negated[level]) for level in _LEVELS}
    unless = data["contrast_unless_followed_by"]
    if not isinstance(unless, dict):
        raise ValueError("scoring.yml: contrast_unless_followed_by must map a contrast word to words")
    for word in unless:
        if word not in lists["contrast"]:
            raise ValueError(f"scoring.yml: contrast_unless_followed_by: {word!r} is not in `contrast`")
    numbers = data["word_numbers"]
    if not isinstance(numbers, dict) or not numbers:
        raise ValueError("scoring.yml: word_numbers must map words to numbers")
    for word, number in numbers.items():
        if not isinstance(word, str) or _simple_tokens(word) != [word] or type(number) is not int or number < 0:
            raise ValueError(f"scoring.yml: word_numbers: {word!r}: {number!r} must map a word to a whole number")
    emoji = data["emoji"]
    if not isinstance(emoji, dict) or set(emoji) != set(_EMOJI_MARKERS):
        names = sorted(map(str, set(emoji) ^ set(_EMOJI_MARKERS))) if isinstance(emoji, dict) else []
        raise ValueError(f"scoring.yml: emoji: {names} - it must have exactly {sorted(_EMOJI_MARKERS)}")
    for name, chars in emoji.items():
        if (not isinstance(chars, list) or not chars
                or not all(isinstance(c, str) and len(c) == 1 and not c.isascii() for c in chars)):
            raise ValueError(f"scoring.yml: emoji.{name} must be a list of single emoji")
    for word in lists["typo_targets"]:
        if " " in word or len(word) < 6:
            raise ValueError(f"scoring.yml: typo_targets: {word!r} must be one word of six letters or more")

    if textspeak_words is None:
        from bot.language.normalize import textspeak
        textspeak_words = textspeak().words
    own = _word_map("spellings", data["spellings"])
    spelling: dict[str, str] = {}
    for word in lists["textspeak"]:
        if word not in textspeak_words:
            raise ValueError(f"scoring.yml: textspeak: {word!r} is not in bot/language/textspeak.yml")
        if word in own:
            raise ValueError(f"scoring.yml: spellings: {word!r} is already taken from textspeak.yml")
        spelling[word] = textspeak_words[word]
    spelling.update(own)

    known = {w for key in phrases for w in key}
    known.update(w for value in spelling.values() for w in value.split())
    present = lists["present"]
    return Lexicon(
        phrases=phrases,
        longest=max(len(key) for key in phrases),
        known_words=frozenset(known),
        short_reply_only=frozenset(tuple(p.split()) for p in lists["short_reply_only"]),
        alone_only=frozenset(tuple(p.split()) for p in lists["alone_only"]),
        negated_answer=negated_answer,
        present_words=frozenset(p for p in present if " " not in p),
        present_phrases=tuple(p for p in present if " " in p),
        contrast=frozenset(lists["contrast"]),
        contrast_unless_followed_by={w: frozenset(_phrases(f"contrast_unless_followed_by.{w}", after))
                                     for w, after in unless.items()},
        filler=frozenset(lists["filler"]),
        word_numbers={word: str(number) for word, number in numbers.items()},
        number_words=frozenset(lists["number_words"]),
        unit_words=frozenset(lists["unit_words"]),
        question_start=re.compile(r"^\W*(?:" + "|".join(map(re.escape, lists["question_starts"])) + r")\b"),
        emoji={_EMOJI_MARKERS[name]: tuple(chars) for name, chars in emoji.items()},
        spelling=spelling,
        typo_targets=tuple(lists["typo_targets"]),
        common_words=frozenset(lists["common_words"]),
    )


# Read once at start-up: a malformed file stops the bot with a message naming the entry.
_LEX = load_lexicon()


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

_EMOTICONS = (
    (re.compile(r"(?<![a-z0-9])(?::|;|=)-?\)+|(?<![a-z0-9]):-?d\b|<3+"), " __pos__ "),
    (re.compile(r"(?<![a-z0-9])(?::|=)'?-?\(+|</3"), " __neg__ "),
)


def _normalise(text: str) -> str:
    """Lowercase, map emoji and emoticons to markers, strip accents and odd characters."""
    text = text.lower()[:2000]
    for pattern, marker in _EMOTICONS:
        text = pattern.sub(marker, text)
    text = text.replace("💯", " 100% ")
    for marker, chars in _LEX.emoji.items():
        for ch in chars:
            text = text.replace(ch, f" {marker} ")
    text = text.replace("ß", "ss").replace("’", "'").replace("‘", "'").replace("`", "'")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text)  # so-so, non-judgmental
    return text


def _collapse_repeats(token: str, known: frozenset[str]) -> str:
    """'yesss' → 'yes', 'goood' → 'good', 'noooo' → 'no'."""
    if not re.search(r"(.)\1\1", token):
        return token
    double = re.sub(r"(.)\1{2,}", r"\1\1", token)
    single = re.sub(r"(.)\1{2,}", r"\1", token)
    for candidate in (double, single):
        if candidate in known or candidate in _LEX.spelling:
            return candidate
    return single


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (adjacent transpositions count 1), capped at limit+1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


@lru_cache(maxsize=4096)
def _correct_typo(token: str) -> str:
    """Map a near-miss of a key word ('compleetly') to the word; other tokens unchanged."""
    if len(token) < 5 or not token.isalpha():
        return token
    best, best_distance = token, 99
    for target in _LEX.typo_targets:
        limit = 2 if len(target) >= 9 and len(token) >= 8 else 1
        distance = _edit_distance(token, target, limit)
        if distance <= limit and distance < best_distance:
            best, best_distance = target, distance
    return best


def _lexicon() -> Mapping[tuple[str, ...], _Entry]:
    return _LEX.phrases


def _known_words() -> frozenset[str]:
    return _LEX.known_words


def _tokens(text: str) -> list[str]:
    """Word tokens, with ',' standing for any punctuation that breaks a phrase."""
    known = _known_words()
    out: list[str] = []
    for raw in re.findall(r"[a-z0-9_]+(?:'[a-z]+)?|[.,;:!?()\[\]/\\|~–—-]+", text):
        if not (raw[0].isalnum() or raw[0] == "_"):
            if out and out[-1] != ",":
                out.append(",")
            continue
        token = _collapse_repeats(raw, known)
        if token in _LEX.spelling:
            out.extend(_LEX.spelling[token].split())
            continue
        if token not in known and token not in _LEX.common_words:
            token = _correct_typo(token)
        out.append(token)
    while out and out[-1] == ",":
        out.pop()
    return out


# --------------------------------------------------------------------------------------------
# Matching and scoring
# --------------------------------------------------------------------------------------------


@dataclass
class _Hit:
    entry: _Entry
    start: int  # token index of the first token
    end: int  # one past the last token
    score: int = 0  # for descriptions: the level this description implies
    attached: bool = False  # modifier or negator already used
    modified_by: str = ""  # "", "intensifier", "other"
    negated: bool = False


def _match(tokens: list[str]) -> list[_Hit]:
    lexicon = _LEX.phrases
    longest = _LEX.longest
    hits: list[_Hit] = []
    i = 0
    while i < len(tokens):
        if tokens[i] == ",":
            i += 1
            continue
        for length in range(min(longest, len(tokens) - i), 0, -1):
            key = tuple(tokens[i:i + length])
            if "," in key:
                continue
            entry = lexicon.get(key)
            if entry is not None:
                if entry.kind != IGNORE:
                    hits.append(_Hit(entry, i, i + length))
                i += length
                break
        else:
            i += 1
    return hits


def _attach(modifier: _Hit, description: _Hit) -> None:
    modifier.attached = True
    entry = modifier.entry
    description.score = entry.pos if description.entry.kind == POS else entry.neg
    description.modified_by = "intensifier" if entry.pos == 5 and entry.value in (0, 4, 5) else "other"


def _boundary_between(tokens: list[str], a: int, b: int) -> bool:
    return "," in tokens[min(a, b):max(a, b)]


def _round_toward_middle(x: float) -> int:
    """Round to the nearest level, breaking ties toward 3 (the less extreme answer)."""
    value = math.ceil(x - 0.5) if x > 3 else math.floor(x + 0.5)
    return max(1, min(5, value))


def _stands_as_answer(hit: _Hit, tokens: list[str], hits: list[_Hit], words: int) -> bool:
    """A loose answer word counts in a short reply, or when only yes/no/filler come before it."""
    phrase = tuple(tokens[hit.start:hit.end])
    if phrase in _LEX.alone_only:
        return words <= 2
    if phrase not in _LEX.short_reply_only or words <= 4:
        return True
    covered = {i for h in hits if h.end <= hit.start and h.entry.kind in (YES, NO, HEDGE)
               for i in range(h.start, h.end)}
    return all(i in covered or tokens[i] in _LEX.filler or tokens[i] == ","
               for i in range(hit.start))


@dataclass
class _Segment:
    score: int | None
    doubt: bool
    content: int  # number of word tokens
    now: bool = False  # speaks about the present ("now", "these days", "lately")


def _score_segment(tokens: list[str]) -> _Segment:
    hits = _match(tokens)
    words = sum(1 for t in tokens if t != ",")
    descriptions = [h for h in hits if h.entry.kind in (POS, NEG)]

    # "no" inside a sentence before a description is a negator ("no respect"), not an answer.
    for h in hits:
        if h.entry.kind == NO and h.start > 0 and tokens[h.start - 1] != ",":
            if any(0 <= d.start - h.end <= 1 for d in descriptions):
                h.entry = _Entry(NEGATOR)

    # Attach modifiers to the nearest description: forward first, then backward.
    for d in descriptions:
        d.score = 4 if d.entry.kind == POS else 2
    # The modifier closest to a description wins: "really not that warm" is "not that warm".
    mods = [h for h in hits if h.entry.kind == MOD]
    for h in reversed(mods):
        target = next((d for d in descriptions if 0 <= d.start - h.end <= 3
                       and not _boundary_between(tokens, h.end, d.start)), None)
        if target is not None and not target.modified_by:
            _attach(h, target)
    for h in mods:
        if h.attached:
            continue
        target = next((d for d in reversed(descriptions) if 0 <= h.start - d.end <= 2
                       and not _boundary_between(tokens, d.end, h.start)), None)
        if target is not None and not target.modified_by:
            _attach(h, target)

    # Negators flip the first description within reach.
    at_all = any(h.entry.kind == AT_ALL for h in hits)
    for h in hits:
        if h.entry.kind != NEGATOR:
            continue
        for d in descriptions:
            if 0 <= d.start - h.end <= 4 and not _boundary_between(tokens, h.end, d.start) and not d.negated:
                h.attached = True
                d.negated = True
                if d.modified_by == "other":
                    d.score = 6 - d.score
                elif d.entry.kind == POS:
                    d.score = 1 if at_all else 2
                else:
                    d.score = 4
                break

    answers = [h for h in hits if (h.entry.kind == LEVEL or (h.entry.kind == MOD and h.entry.value))
               and not h.attached and _stands_as_answer(h, tokens, hits, words)]
    for h in hits:
        if h.entry.kind == NEGATOR and not h.attached:
            for a in answers:
                if 0 <= a.start - h.end <= 2 and not _boundary_between(tokens, h.end, a.start):
                    h.attached = True
                    a.entry = _Entry(a.entry.kind, _LEX.negated_answer[a.entry.value], a.entry.pos,
                                     a.entry.neg)
                    break
    yes = any(h.entry.kind == YES for h in hits)
    no = any(h.entry.kind == NO for h in hits)
    doubt = any(h.entry.kind == DOUBT for h in hits)
    hedge = any(h.entry.kind == HEDGE for h in hits)
    confused = any(h.entry.kind == CONFUSED for h in hits)
    loose_negator = any(h.entry.kind == NEGATOR and not h.attached for h in hits)

    score: int | None
    if answers:
        score = answers[0].entry.value
        if yes and no and score != 3:
            score = 3
    elif yes and no:
        score = 3
    elif yes or no:
        score = 4 if yes else 1
        if descriptions:
            mean = sum(d.score for d in descriptions) / len(descriptions)
            if (yes and mean < 3) or (no and mean > 3):
                score = 3  # "yes, she talks over me": the words pull against the yes / no
            elif yes and mean >= 4.5:
                score = 5
    elif descriptions:
        score = _round_toward_middle(sum(d.score for d in descriptions) / len(descriptions))
    elif hedge:
        score = 3
    elif loose_negator and words <= 3 and not doubt and not confused:
        score = 1
    else:
        score = None

    if score is not None and not answers:
        if doubt:
            score = 3
        elif hedge and score != 3:
            score += 1 if score < 3 else -1
    now = bool(_LEX.present_words & set(tokens)) or any(p in " ".join(tokens) for p in _LEX.present_phrases)
    return _Segment(score, doubt, words, now)


# Ratings written as numbers.
_NUMBER = r"(?<![\d.,])(\d{1,4}(?:[.,]\d{1,2})?)"  # bounded: no slow backtracking
_RE_FIFTY = re.compile(r"(?<![\d.])50\s*(?:/|-|:)\s*50(?![\d.])")
_RE_RATIO = re.compile(_NUMBER + r"\s*(?:/|out of|of|outta|from)\s*(\d{1,3})(?![\d.])")
_RE_PERCENT = re.compile(r"(?<![\d.])" + _NUMBER + r"\s*(?:%|percent|pc\b|per cent)")
_RE_LEADING = re.compile(r"^\W*(?:(?:i'?d|i would|i'll|id)\s+(?:say|give(?: (?:it|her|him|them))?)\s+"
                         r"|(?:maybe|about|around|like|prob(?:ably)?|a solid|solid|a)\s+)*"
                         + r"(\d{1,4}(?:[.,]\d{1,2})?)(?![\d%/.,])(.*)$", re.S)

def _to_float(s: str) -> float:
    return float(s.replace(",", "."))


def _scale(fraction: float) -> int:
    """0.0-1.0 of the way from 'not at all' to 'completely' → 1-5."""
    fraction = max(0.0, min(1.0, fraction))
    return max(1, min(5, 1 + math.floor(fraction * 4 + 0.5)))


def _numeric_score(text: str) -> int | None:
    if re.search(r"(?:100|hundred)\s*(?:%|percent)?\s*sure", text):
        return None  # "not 100% sure" is doubt, "100% sure she gets me" is words: leave to the lexicon
    if re.search(r"\bnot\s+(?:100|a hundred)\s*(?:%|percent)", text):
        return 3
    if _RE_FIFTY.search(text):
        return 3
    m = _RE_RATIO.search(text)
    if m:
        value, scale = _to_float(m.group(1)), int(m.group(2))
        if scale == 5 and value <= 5:
            return max(1, min(5, math.floor(value + 0.5)))
        if scale in (3, 4, 7, 10, 100) and value <= scale:
            return _scale(value / scale)
    m = _RE_PERCENT.search(text)
    if m:
        return _scale(_to_float(m.group(1)) / 100)
    short = text.strip()
    words = short.split()
    if 1 <= len(words) <= 4 and all(w.strip(".,!?") in _LEX.word_numbers
                                    or w.strip(".,!?") in _LEX.number_words for w in words):
        short = " ".join(_LEX.word_numbers.get(w.strip(".,!?"), w.strip(".,!?")) for w in words)
        return _numeric_score(short) if re.search(r"\d", short) else None
    m = _RE_LEADING.match(short)
    if m:
        rest = m.group(2)
        next_word = re.match(r"\s*([a-z]+)", rest)
        if rest.strip() and not re.match(r"\s*[.,;:!?)\-–—]", rest):
            if next_word is None or next_word.group(1) in _LEX.unit_words:
                return None
            if len(rest.split()) > 6:
                return None
        value = _to_float(m.group(1))
        if value <= 5:
            return max(1, min(5, math.floor(value + 0.5)))
        if value <= 10:
            return _scale(value / 10)
    return None


_LEAD = re.compile(r"^\s*([^,;.!?:\n]+?)\s*(?:[,;.!?:\n]|\s[-–—]\s)")


def leading_answer(text: str) -> int | None:
    """The level when the answer opens with the scale's own words and nothing else before a break
    ("a little, she checks her phone a lot", "mostly - though..."). Yes and no do not count here:
    "Sure, I sat on your couch for 45 minutes..." and "no judgement, no advice" are not answers."""
    try:
        m = _LEAD.match(text) if isinstance(text, str) else None
        if m is None or len(m.group(1).split()) > 4:
            return None
        tokens = _tokens(_normalise(m.group(1)))
        hits = [h for h in _match(tokens) if h.entry.kind == LEVEL or (h.entry.kind == MOD and h.entry.value)]
        covered = {i for h in hits for i in range(h.start, h.end)}
        if not hits or any(i not in covered and t not in _LEX.filler and t != "," for i, t in enumerate(tokens)):
            return None
        return _score_answer(m.group(1))
    except Exception:  # pragma: no cover - never break the conversation
        return None


def numeric_rating(text: str) -> int | None:
    """The 1-5 level when the answer gives a rating in numbers ("4", "3/5", "80%", "7 out of 10")."""
    try:
        return _numeric_score(_normalise(text)) if isinstance(text, str) and text.strip() else None
    except Exception:  # pragma: no cover - never break the conversation
        return None


def score_answer(text: str) -> int | None:
    """Score a client's answer 1-5 (not at all … completely), or None if it carries no answer."""
    try:
        return _score_answer(text)
    except Exception:  # pragma: no cover - a scoring bug must never break the conversation
        return None


def _score_answer(text: str) -> int | None:
    if not isinstance(text, str) or not text.strip():
        return None
    norm = _normalise(text)
    numeric = _numeric_score(norm)
    if numeric is not None:
        return numeric
    tokens = _tokens(norm)
    if not tokens or _is_unsure_tokens(tokens):
        return None
    if all(t in ("ok", ",") for t in tokens):
        return None  # a bare "ok" / "k" acknowledges the question, it does not answer it

    segments: list[list[str]] = [[]]
    for i, token in enumerate(tokens):
        if token in _LEX.contrast and not (i + 1 < len(tokens) and tokens[i + 1]
                                           in _LEX.contrast_unless_followed_by.get(token, ())):
            segments.append([])
        else:
            segments[-1].append(token)
    scored = [_score_segment(seg) for seg in segments if any(t != "," for t in seg)]
    present = [s.score for s in scored if s.score is not None]
    if not present:
        return None
    if _LEX.question_start.match(norm) and not _has_answer_words(tokens):
        return None

    if len(present) == 1:
        score = present[0]
        first = scored[0]
        if (len(scored) > 1 and first.score is not None and first.score >= 4
                and any(s.score is None and s.content >= 2 for s in scored[1:])):
            return 3  # "she listens but then goes straight to her worksheet"
        return score
    last = next(s for s in reversed(scored) if s.score is not None)
    if last.now and last.score is not None:
        return last.score  # "not at first, but now yes": the present is what's asked
    bands = {band(s) for s in present}
    if len(bands) > 1:
        return 3
    return _round_toward_middle(sum(present) / len(present))


def _has_answer_words(tokens: list[str]) -> bool:
    return any(h.entry.kind in (LEVEL, YES, NO) or (h.entry.kind == MOD and h.entry.value)
               for h in _match(tokens))


def is_unsure(text: str) -> bool:
    """True when the client says they don't know ("not sure", "hard to say", "idk", 🤷) and
    gives no answer besides; score_answer returns None for these."""
    try:
        if not isinstance(text, str) or not text.strip():
            return False
        norm = _normalise(text)
        if _numeric_score(norm) is not None:
            return False
        tokens = _tokens(norm)
        if _is_unsure_tokens(tokens):
            return True
        # "it's only been two sessions so hard to tell": doubt, and nothing that answers.
        return any(h.entry.kind == DOUBT for h in _match(tokens)) and _score_answer(text) is None
    except Exception:  # pragma: no cover
        return False


def _is_unsure_tokens(tokens: list[str]) -> bool:
    """Doubt phrases plus filler only: nothing that would answer the question."""
    hits = _match(tokens)
    if not any(h.entry.kind == DOUBT for h in hits):
        return False
    covered: set[int] = set()
    for h in hits:
        if h.entry.kind == DOUBT:
            covered.update(range(h.start, h.end))
    rest = [t for i, t in enumerate(tokens) if i not in covered and t != "," and t not in _LEX.filler]
    return not rest
