"""The empathic reply bank (bot/replies.yml) and how a reply is chosen from it.

A check-in keeps the ids of the replies it has already sent and passes them back as `used`, so a
client never reads the same line twice while an unused one exists. Pass `used` in the order the
replies were sent (a list or tuple): when every variant has been used, the one sent most recently
is still avoided.
"""
from __future__ import annotations

import random
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.dimensions import DIMENSIONS, LEVELS, band

__all__ = [
    "Reply", "choose_reply", "choose", "choose_tentative", "summary_lines", "safe_quote", "summary_quote",
    "bank", "KINDS", "BANDS", "REPLIES_PATH",
]

REPLIES_PATH = Path(__file__).with_name("replies.yml")

# The kinds `choose` accepts (dimension replies go through `choose_reply`, tentative reflections
# through `choose_tentative`).
KINDS = ("followup_thanks", "skipped", "unsure", "unclear", "neutral", "summary_intro", "thanks_end")
BANDS = ("negative", "mixed", "positive")

MAX_QUOTE_WORDS = 12
MIN_QUOTE_WORDS = 3
MAX_QUOTE_CHARS = 90
SUMMARY_QUOTE_CHARS = 120

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# Anything that could be markup, a link, a template or a formatting trick.
_UNSAFE_QUOTE = re.compile(r"[<>\[\]{}`*_#|\\~^=$]|https?:|www\.|@|\n|\r|[\x00-\x1f\x7f]|[“”]")
# Words that only restate an answer; a quote made of nothing else is not worth reflecting back.
_ANSWER_WORDS = frozenset(
    "yes yeah yea ya yep yup no nope nah not at all a little bit somewhat mostly completely kind "
    "sort of very much pretty really definitely totally absolutely sure maybe i think so guess "
    "suppose honestly just the time most some sometimes always never out of rly kinda sorta lol "
    "ok okay and or but i'd say would it's its is fine".split()
)
_ROUGH_WORDS = re.compile(r"\b(?:fuck\w*|shit\w*|bitch\w*|cunt\w*|asshole\w*|dick\w*)\b", re.I)


@dataclass(frozen=True)
class Reply:
    id: str
    text: str


@dataclass(frozen=True)
class _Variant:
    id: str
    template: str

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(_PLACEHOLDER.findall(self.template))


@dataclass(frozen=True)
class _Bank:
    groups: Mapping[str, tuple[_Variant, ...]]  # "heard.negative", "skipped", ...
    summary_line: Mapping[str, Mapping[str, str]]  # dimension → {"answered", "skipped"}
    summary_no_level: str


def _variants(prefix: str, numbered: object) -> tuple[_Variant, ...]:
    if not isinstance(numbered, Mapping) or not numbered:
        raise ValueError(f"replies.yml: {prefix} must be a non-empty mapping of number → text")
    out = []
    for number, text in numbered.items():
        if not isinstance(number, int) or not isinstance(text, str) or not text.strip():
            raise ValueError(f"replies.yml: {prefix}.{number} must be a number with a text")
        out.append(_Variant(f"{prefix}.{number}", " ".join(text.split())))
    return tuple(out)


def load_bank(path: Path = REPLIES_PATH) -> _Bank:
    """Read and check a reply bank file (use `bank()` for the cached default one)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    groups: dict[str, tuple[_Variant, ...]] = {}
    for dimension in DIMENSIONS:
        for band_name in ("negative", "mixed", "positive"):
            key = f"{dimension}.{band_name}"
            groups[key] = _variants(key, data["dimensions"][dimension][band_name])
        for band_name in BANDS:
            key = f"tentative.{dimension}.{band_name}"
            groups[key] = _variants(key, data["tentative"][dimension][band_name])
    for band_name in BANDS:
        groups[f"confirm.{band_name}"] = _variants(f"confirm.{band_name}", data["confirm"][band_name])
    for kind in KINDS:
        groups[kind] = _variants(kind, data[kind])
    summary_line = {d: dict(data["summary_line"][d]) for d in DIMENSIONS}
    return _Bank(groups, summary_line, str(data["summary_no_level"]))


@lru_cache(maxsize=1)
def bank() -> _Bank:
    """The reply bank from bot/replies.yml, loaded once."""
    return load_bank()


def safe_quote(words: str | None, max_words: int = MAX_QUOTE_WORDS) -> str | None:
    """The client's words cleaned for a {words} reflection, or None when they are not a short,
    plain quote (3 to `max_words` words, at most 90 characters, no markup, links, newlines or
    rough language)."""
    if not words or not isinstance(words, str):
        return None
    if _UNSAFE_QUOTE.search(words) or _ROUGH_WORDS.search(words):
        return None
    text = " ".join(words.split()).strip(" \"'.,;:!?-–—")
    text = re.sub(r"([!?.])[!?.]+", r"\1", text)  # "yes!! she gets me" → "yes! she gets me"
    tokens = text.split()
    if not (MIN_QUOTE_WORDS <= len(tokens) <= max_words) or len(text) > MAX_QUOTE_CHARS:
        return None
    content = [t for t in (re.sub(r"[^a-z']", "", t.lower()) for t in tokens)
               if t and t not in _ANSWER_WORDS]
    return text if content else None


def _pick(variants: Sequence[_Variant], used: Collection[str], rng: random.Random | None) -> _Variant:
    """An unused variant if there is one; otherwise any but the one of these used most recently."""
    rng = rng or random.Random()
    fresh = [v for v in variants if v.id not in used]
    if fresh:
        return rng.choice(fresh)
    last = None
    if isinstance(used, Sequence) and not isinstance(used, str):
        ids = {v.id for v in variants}
        last = next((u for u in reversed(used) if u in ids), None)
    others = [v for v in variants if v.id != last]
    return rng.choice(others or list(variants))


def _fill(template: str, fields: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: fields[m.group(1)], template)


def choose_reply(dimension: str, score: int, used: Collection[str], words: str | None = None,
                 rng: random.Random | None = None, reflect: bool = False) -> Reply:
    """An empathic reply to a 1-5 answer on `dimension`, not already in `used`.

    `words` are the client's own words; a variant quoting them is only eligible when they make a
    short, safe quote (see `safe_quote`). With `reflect` (a long answer, `words` being the part of
    it to reflect), a variant that quotes them is chosen whenever an unused one exists.
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    variants = bank().groups[f"{dimension}.{band(score)}"]
    quote = safe_quote(words)
    eligible = [v for v in variants if not v.fields or (v.fields == {"words"} and quote)]
    if reflect and quote:
        quoting = [v for v in eligible if v.fields == {"words"} and v.id not in used]
        eligible = quoting or eligible
    chosen = _pick(eligible, used, rng)
    return Reply(chosen.id, _fill(chosen.template, {"words": quote or ""}))


def choose_tentative(dimension: str, band_name: str, used: Collection[str],
                     rng: random.Random | None = None) -> tuple[Reply, Reply]:
    """A tentative reflection of what the client seems to say on `dimension` ("It sounds like you
    haven't felt listened to.") and the question that offers the band's levels."""
    if dimension not in DIMENSIONS or band_name not in BANDS:
        raise ValueError(f"unknown dimension or band {dimension!r}, {band_name!r}")
    reflection = _pick(bank().groups[f"tentative.{dimension}.{band_name}"], used, rng)
    question = _pick(bank().groups[f"confirm.{band_name}"], used, rng)
    return Reply(reflection.id, reflection.template), Reply(question.id, question.template)


def choose(kind: str, used: Collection[str], rng: random.Random | None = None,
           **fields: str) -> Reply:
    """A reply of another kind (see KINDS), not already in `used`.

    Variants that need a placeholder not given in `fields` are skipped.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown reply kind {kind!r}; expected one of {KINDS}")
    variants = bank().groups[kind]
    eligible = [v for v in variants if v.fields <= fields.keys()] or [
        v for v in variants if not v.fields]
    chosen = _pick(eligible, used, rng)
    return Reply(chosen.id, _fill(chosen.template, {k: str(v) for k, v in fields.items()}))


def summary_quote(words: str | None, limit: int = SUMMARY_QUOTE_CHARS) -> str:
    """The client's words as one plain line, without markup characters, cut to `limit` chars."""
    if not words:
        return ""
    text = re.sub(r"[\x00-\x1f\x7f]", " ", str(words))
    text = text.replace("“", "'").replace("”", "'").replace('"', "'")
    text = re.sub(r"[<>`{}\[\]*_#|\\]", "", text)
    text = " ".join(text.split())
    if len(text) > limit:
        cut = text[: limit - 1]
        if " " in cut[limit // 2:]:
            cut = cut[: cut.rfind(" ")]
        text = cut.rstrip(" ,.;:-–—") + "…"
    return text


def _adds_nothing(words: str, score: int | None) -> bool:
    """Words that only restate the level ("mostly", "4", "4/5") are not worth quoting."""
    plain = re.sub(r"[^a-z0-9 ]", " ", words.lower())
    plain = " ".join(plain.split())
    if not plain or re.fullmatch(r"[0-9 ]+(?:out of [0-9]+)?", plain):
        return True
    return score is not None and plain == LEVELS[score]


def summary_lines(answers: Mapping[str, tuple[int | None, str, bool]]) -> list[str]:
    """One line per answered dimension, in dimension order, in the client's own terms.

    `answers` maps a dimension to (score or None, the client's words, skipped).
    """
    b = bank()
    lines = []
    for dimension in DIMENSIONS:
        if dimension not in answers:
            continue
        score, words, skipped = answers[dimension]
        templates = b.summary_line[dimension]
        if skipped:
            lines.append(templates["skipped"])
            continue
        level = LEVELS.get(score, b.summary_no_level) if score is not None else b.summary_no_level
        quoted = summary_quote(words)
        quote = "" if not quoted or _adds_nothing(quoted, score) else f" — “{quoted}”"
        lines.append(_fill(templates["answered"], {"level": level, "quote": quote}))
    return lines
