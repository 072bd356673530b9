"""The deterministic crisis rules (crisis_rules.yml), run in time linear in the message length.

`scan(normalised_text)` returns the strongest rule match: `crisis`, `unclear` or `none`, its
category, and whether a harmless idiom was seen. The text must come from
`bot.language.normalize.normalise`.

Why it is fast on long messages: the text is cut into windows (sentences, and long sentences into
overlapping pieces of at most `WINDOW` characters), and a pattern runs only on windows that contain
a word it cannot match without. Those "anchor" pieces are worked out from each pattern itself
(`required_pieces`), so the gate never hides a match: a pattern with no anchor runs everywhere.
Context checks (negation, someone else, the past, ...) look only inside the match's window, so
the work per match is bounded too.
"""
from __future__ import annotations

import re
import sre_constants as sc
import sre_parse
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Final, Iterable, Iterator, Optional

import yaml

RULES_PATH = Path(__file__).with_name("crisis_rules.yml")

CRISIS: Final = "crisis"
UNCLEAR: Final = "unclear"
NONE: Final = "none"
RANK: Final[dict[str, int]] = {NONE: 0, UNCLEAR: 1, CRISIS: 2}
CATEGORIES: Final[tuple[str, ...]] = (
    "suicide", "self_harm", "overdose", "plan_or_means", "harm_others", "abuse_at_home", "wish_to_die",
    "distress",
)
CONTEXTS: Final[tuple[str, ...]] = ("self", "other", "fixed")

WINDOW = 400  # characters; a longer sentence is read in windows:
STRIDE = 600  # each owns this many characters (matches starting there are judged by it)
CONTEXT = 160  # and sees this many more on either side (longer than any match and its context)
# Matches read in their context, at most, per message. A message with more (thousands of "I'm not
# suicidal") is not read further: it gets at least the gentle question, never silence.
MAX_CONTEXT_READS = 120
MIN_PIECE = 3  # shorter literal pieces ("me", "i") are too common to gate on

_VOCAB_REF = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True)
class RuleMatch:
    level: str = NONE
    category: Optional[str] = None
    idiom: bool = False
    mention: bool = False  # the strongest match was only a mention (see crisis_rules.yml)
    where: tuple[int, int] = (0, 0)  # the window it was found in
    softened: bool = False  # some match was read down by its context (negation, the past, ...)


@dataclass(frozen=True)
class Alternative:
    """One pattern of one rule, with the pieces of text every match of it contains."""

    level: str
    category: str
    context: str
    order: int  # position of its rule in the file
    pattern: re.Pattern[str]
    pieces: Optional[frozenset[str]]  # None: no anchor could be found, runs on every window
    mention: bool = False  # names the subject rather than stating one's own risk


@dataclass
class RuleSet:
    alternatives: list[Alternative]
    idioms: re.Pattern[str]
    idiom_pieces: Optional[frozenset[str]]
    by_piece: dict[str, list[int]] = field(default_factory=dict)  # piece -> alternative indexes
    always: list[int] = field(default_factory=list)  # alternatives without anchors
    by_trigram: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for i, alt in enumerate(self.alternatives):
            if alt.pieces is None:
                self.always.append(i)
                continue
            for piece in alt.pieces:
                self.by_piece.setdefault(piece, []).append(i)
        for piece in set(self.by_piece) | set(self.idiom_pieces or ()):
            self.by_trigram.setdefault(piece[:MIN_PIECE], []).append(piece)

    def pieces_in(self, token: str) -> set[str]:
        """The anchor pieces that occur inside `token`."""
        found: set[str] = set()
        for i in range(len(token) - MIN_PIECE + 1):
            for piece in self.by_trigram.get(token[i:i + MIN_PIECE], ()):
                if token.startswith(piece, i):
                    found.add(piece)
        return found


# --------------------------------------------------------------------------------------------
# Loading, with the anchors worked out from each pattern
# --------------------------------------------------------------------------------------------


def expand_vocabulary(pattern: str, vocabulary: dict[str, str]) -> str:
    def replace(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in vocabulary:
            raise ValueError(f"crisis_rules.yml: unknown vocabulary {{{{{name}}}}}")
        return expand_vocabulary(vocabulary[name], vocabulary)

    return _VOCAB_REF.sub(replace, pattern)


def _minimal(pieces: set[str]) -> frozenset[str]:
    """Drops pieces that contain another piece: a text with "cutting" also contains "cut"."""
    ordered = sorted(pieces, key=len)
    kept: list[str] = []
    for piece in ordered:
        if not any(k in piece for k in kept):
            kept.append(piece)
    return frozenset(kept)


def _requirements(items: Iterable[tuple]) -> Optional[set[str]]:
    """Pieces such that every match of this sequence contains one of them, or None."""
    candidates: list[set[str]] = []
    run = ""

    def flush() -> None:
        nonlocal run
        words = [w for w in re.split(r"[ .!?,;:]+", run) if len(w) >= MIN_PIECE]
        if words:
            candidates.append({max(words, key=len)})
        run = ""

    for op, av in items:
        if op is sc.LITERAL:
            run += chr(av)
            continue
        if op in (sc.AT, sc.ASSERT, sc.ASSERT_NOT):
            continue  # zero width: the literal run goes on
        flush()
        if op is sc.SUBPATTERN:
            found = _requirements(av[-1])
        elif op is sc.BRANCH:
            found = _branch_requirements(av[1])
        elif op in (sc.MAX_REPEAT, sc.MIN_REPEAT):
            low, _, sub = av
            found = _requirements(sub) if low >= 1 else None
        else:
            found = None
        if found:
            candidates.append(found)
    flush()
    if not candidates:
        return None
    # The most selective requirement: long pieces, few of them.
    return max(candidates, key=lambda s: (min(len(p) for p in s), -len(s)))


def _branch_requirements(alternatives: Iterable) -> Optional[set[str]]:
    union: set[str] = set()
    for alternative in alternatives:
        found = _requirements(alternative)
        if not found:
            return None
        union |= found
    return union


def required_pieces(pattern: str) -> Optional[frozenset[str]]:
    """Literal pieces (no spaces, 3+ characters) of which every match of `pattern` contains at
    least one; None when no such set can be read off the pattern."""
    found = _requirements(sre_parse.parse(pattern))  # type: ignore[arg-type]  # a SubPattern iterates as tuples
    return _minimal(found) if found else None


def load_rules(path: Path = RULES_PATH) -> RuleSet:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    vocabulary = {str(k): str(v) for k, v in (data.get("vocabulary") or {}).items()}
    alternatives: list[Alternative] = []
    for order, rule in enumerate(data.get("rules") or []):
        level, category, context = rule.get("level"), rule.get("category"), rule.get("context")
        if level not in (CRISIS, UNCLEAR) or category not in CATEGORIES or context not in CONTEXTS:
            raise ValueError(f"crisis_rules.yml: rule {order + 1} needs level, category and context "
                             f"from {(CRISIS, UNCLEAR)}, {CATEGORIES}, {CONTEXTS}")
        patterns = rule.get("patterns") or []
        if not patterns:
            raise ValueError(f"crisis_rules.yml: rule {order + 1} has no patterns")
        for entry in patterns:
            mention = isinstance(entry, dict)
            source = entry.get("mention") if mention else entry
            if not isinstance(source, str) or (mention and set(entry) != {"mention"}):
                raise ValueError(f"crisis_rules.yml: rule {order + 1}: a pattern is a string or {{mention: string}}")
            expanded = expand_vocabulary(str(source), vocabulary)
            try:
                compiled = re.compile(expanded)
            except re.error as error:
                raise ValueError(f"crisis_rules.yml: rule {order + 1}: {error}: {source}") from None
            alternatives.append(Alternative(level, category, context, order, compiled,
                                            required_pieces(expanded), mention))
    idiom_sources = [expand_vocabulary(str(p), vocabulary) for p in data.get("idioms") or []]
    idioms = re.compile("|".join(f"(?:{p})" for p in idiom_sources) or r"(?!x)x")
    idiom_pieces: Optional[set[str]] = set()
    for source in idiom_sources:
        pieces = required_pieces(source)
        if pieces is None or idiom_pieces is None:
            idiom_pieces = None
            break
        idiom_pieces |= pieces
    return RuleSet(alternatives, idioms, frozenset(idiom_pieces) if idiom_pieces is not None else None)


@lru_cache(maxsize=1)
def rules() -> RuleSet:
    return load_rules()


# --------------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.!?;]+")


def windows(text: str) -> Iterator[tuple[int, int, int, int]]:
    """(start, end, own_start, own_end) for each sentence of `text`; a long sentence is read in
    windows that each own a stretch of STRIDE characters and see CONTEXT more on either side, so
    every match is judged once, by the window that owns its start, with its context in view."""
    start = 0
    for m in _SENTENCE_END.finditer(text):
        yield from _spans(text, start, m.end())
        start = m.end()
    if start < len(text):
        yield from _spans(text, start, len(text))


def _spans(text: str, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    while start < end and text[start] == " ":
        start += 1
    if start >= end:
        return
    if end - start <= WINDOW:
        yield start, end, start, end
        return
    own = start
    while own < end:
        own_end = min(end, own + STRIDE)
        if own_end < end:
            space = text.rfind(" ", own + STRIDE // 2, own_end)
            own_end = space if space > own else own_end
        yield max(start, own - CONTEXT), min(end, own_end + CONTEXT), own, own_end
        own = own_end


# --------------------------------------------------------------------------------------------
# Context checks, all inside one window
# --------------------------------------------------------------------------------------------

_CLAUSE_BREAK = re.compile(r"[.!?;]+|\bbut\b|\bthough\b|\balthough\b|\bhowever\b|\banyway\b|\banyways\b")
_TOKEN = re.compile(r"[a-z0-9']+|,")
_NEGATION_NOISE = re.compile(
    r"\b(?:not a day goes by(?: that| when| where| without)?(?: i don't)?"
    r"|\w+n't (?:stop|stopped|help|shake|escape|get rid of|get over)|\w+n't been able to stop|can't stop|couldn't stop"
    r"|can't help|can't get|can't shake|not sure|don't know|didn't know"
    r"|not going to lie|no one|nobody|not even|not only|not just|don't care|doesn't matter"
    r"|never stop|never stopped|not a day|won't stop|don't think i can|never thought i'd|never thought i would"
    r"|never (?:felt|been|was) (?:this|so|more)|never felt like this|not this"
    r")\b"
)
_NEGATORS = frozenset({"not", "never", "without", "nor", "neither"})
_BARRIERS = frozenset({",", "and", "so", "because", "then", "or", "cause", "that", "if"})
_REPORTED = re.compile(
    r"\b(?:asked|asks|asking|ask|question|questions|questionnaire|screening|form|checked|checks)\b(?! myself)"
    r"[^.!?]{0,25}?\b(?:if|whether|about|how often|any|ever)\b"
)
_AFFIRM = re.compile(
    r"\b(?:yes|yeah|yep|yea|i said yes|i am|i'm|i do|i have|i've|i was|sometimes|i did|kind of|a bit|i think so"
    r"|honestly yes|often|lately)\b"
)
_DENY = re.compile(
    r"\b(?:no|nope|i haven't|i've not|i never|never have|never did|i'm not|i am not|i don't|i didn't(?! know)"
    r"|not at all|i wouldn't|not really|never)\b"
)
_THIRD_PARTY = re.compile(
    r"\b(?:he|she|they|his|her|their|him|them|someone|somebody|people|person|anyone|everyone|"
    r"(?:my|a|his|her|their|our|your) (?:best friend|friend|brother|sister|mom|mum|mother|dad|father|cousin|uncle"
    r"|aunt|son|daughter|partner|husband|wife|boyfriend|girlfriend|ex|roommate|flatmate|classmate|coworker"
    r"|colleague|client|patient|neighbou?r|grandma|grandmother|grandpa|grandfather|kid|child|teen|student"
    r"|niece|nephew|pupil|buddy|mate|boss|therapist)s?)\b"
)
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|me|my|myself|mine)\b")
_TOPIC = re.compile(
    r"\b(?:news|article|documentary|film|movie|show|series|book|novel|podcast|lecture|class|course|training"
    r"|research|study|statistics|stats|rates?|prevention|awareness|campaign|essay|paper|song|lyrics|episode"
    r"|character|video game|history lesson|volunteer|volunteering|charity|fundraiser|helpline number|poster)\b"
)
_PAST = re.compile(
    r"\b(?:used to|years ago|months ago|a long time ago|long ago|when i was (?:a |younger|little|young|in|at|\d+)"
    r"|as a (?:kid|child|teen|teenager)|in (?:high school|middle school|college|university|my teens|my twenties)"
    r"|back then|back in|in the past|at \d+|age \d+|last year|once before|previously|history of|been clean"
    r"|clean for|\d+ (?:days|weeks|months|years) clean|recovered|in recovery|still clean"
    r"|(?:stopped|quit) (?:self harm\w*|cutting|hurting myself|harming myself|burning myself)"
    r"|helped me stop|when i (?:started|began|first)|at first"
    # "before I started therapy" is the past; "before I started this chat" is minutes ago.
    r"|before i (?:met|started|found|began) (?:therapy|seeing|treatment|counsel\w*|meds|medication|my |her\b|him\b|them\b)"
    r"|at the start|back when"
    # resolved: "two years self-harm free", "the last time I cut myself was...", an anniversary
    r"|(?:self harm\w*|cut|cutting|injury|self injury|harm|suicide attempt|relapse) free|\d+ (?:days|weeks|months|years) free"
    r"|last time i (?:cut|self harmed|hurt myself|harmed myself|tried|attempted)|anniversary|celebrated"
    r"|furthest thing from my mind|would have missed|if i had (?:completed|succeeded|died)"
    r"|in (?:\w+ )?(?:of )?(?:19[5-9]\d|20[0-2]\d))\b"
)
# Resolved, whatever else the sentence says ("today I am two years cut free from self-harming").
_RESOLVED = re.compile(
    r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|a few|many) (?:days?|weeks?|months?|years?) "
    r"(?:clean|free|cut free|self harm free|harm free|sober)\b"
)
_PRESENT = re.compile(
    r"\b(?:again|still(?! clean)|lately|recently|these days|right now|tonight|today|this week|currently|every day"
    r"|every night|most nights|at the moment|relapsed|relapse)\b"
)
# Laughter or a wink in the same sentence: a joke, not a plan ("I could kill her lol").
_JOKE = re.compile(r"\b(?:lol+|lmao+|lmfao|rofl|haha\w*|hehe\w*|jk|just kidding|kidding)\b|:\)|;\)|:p\b|xd\b")

_NOUN_MENTIONS: Final = ("suicid", "self ", "overdos")
_PERSON_AFTER = re.compile(
    r" (?:ex|friend|friends|brother|sister|mom|mum|mother|dad|father|partner|husband|wife|boyfriend|girlfriend"
    r"|cousin|uncle|aunt|son|daughter|client|clients|patient|patients|roommate|colleague|coworker|teen|teens|kid"
    r"|kids|child|student|students|neighbou?r|people|person|character|relative|family member)\b"
)
_MENTIONED = re.compile(
    r"\b(?:talked|talk|talking|discussed|discuss|discussing|spoke|speak|speaking|chatted|covered|mentioned"
    r"|brought up|bring up|read)(?: to \w+| with \w+)? (?:about|on|of|regarding)?(?: \w+)? ?$"
)


def _negated(before: str) -> bool:
    """True when one of the last four words before a match negates it ("I'm not suicidal")."""
    cleaned = _NEGATION_NOISE.sub(" ~ ", before[-120:])
    tokens = _TOKEN.findall(cleaned)[-4:]
    for distance, token in enumerate(reversed(tokens), start=1):
        if token in _BARRIERS:
            return False
        if token in _NEGATORS or token.endswith("n't") and token != "can't":
            return True
        if token == "no" and distance == 1:
            return True
    return False


def _third_party(before: str, matched: str) -> bool:
    """True when the clause is about someone else ("my friend attempted suicide")."""
    if _FIRST_PERSON.search(matched) and not matched.startswith(("my ", "myself")):
        return False
    last = None
    for last in _THIRD_PARTY.finditer(before):
        pass
    if last is None:
        return False
    return not _FIRST_PERSON.search(before, last.end())


def _topical(before: str, after: str) -> bool:
    """True for a mention of the subject as a topic ("a documentary about suicide")."""
    near = " ".join(_TOKEN.findall(before)[-3:] + _TOKEN.findall(after)[:2])
    return bool(_TOPIC.search(near))


def contextual_level(alt: Alternative, window: str, m: re.Match[str], breaks: list[int], ends: list[int],
                     following: str = "") -> tuple[str, bool]:
    """The level a match stands for once its clause is read: negation, a reported question,
    someone else, a topic, the past or a joke can soften it. `following` is the text just after
    the window (where the answer to a reported question often is). The flag is True when the
    client affirmed it as their own ("she asked if I'd thought about suicide and I said yes"):
    then even a mere mention is a statement."""
    if alt.context == "fixed":
        return alt.level, False
    i = bisect_right(ends, m.start()) - 1
    clause_start = max(ends[i] if i >= 0 else 0, m.start() - CONTEXT)
    j = bisect_right(breaks, m.end())
    clause_end = min(breaks[j] if j < len(breaks) else len(window), m.end() + CONTEXT)
    before = window[clause_start:m.start()]
    clause = window[clause_start:clause_end]
    if _negated(before):
        return NONE, False
    if alt.context == "self":
        if _REPORTED.search(before):
            rest = window[m.end():] + " " + following
            affirmed, denied = bool(_AFFIRM.search(rest)), bool(_DENY.search(rest))
            if affirmed and not denied:
                return alt.level, True
            if denied and not affirmed:
                return NONE, False
            return UNCLEAR, False
        if _third_party(before, m.group(0)):
            return (UNCLEAR if alt.level == CRISIS else NONE), False
        after = window[m.end():clause_end]
        if _topical(before, after):
            return NONE, False
        if alt.level == CRISIS and m.group(0).startswith(_NOUN_MENTIONS):
            if _PERSON_AFTER.match(after) or _MENTIONED.search(before):
                return UNCLEAR, False  # "my suicidal ex", "we talked about self harm"
    if _RESOLVED.search(clause) and not re.search(r"\b(?:again|relapsed?|slipped)\b", clause):
        return NONE, False
    if _PAST.search(clause) and not _PRESENT.search(clause):
        return (UNCLEAR if alt.level == CRISIS else NONE), False
    if alt.level == CRISIS and _JOKE.search(window):
        # A laugh in the same sentence: about someone else it is a figure of speech, about
        # oneself it is still worth a gentle question.
        return (NONE if alt.category in ("harm_others", "abuse_at_home") else UNCLEAR), False
    return alt.level, False


# --------------------------------------------------------------------------------------------
# The scan
# --------------------------------------------------------------------------------------------


def mask_idioms(text: str, ruleset: Optional[RuleSet] = None) -> str:
    """`text` (normalised, a sentence or a short message) with harmless idioms replaced by "~":
    what the learned crisis classifier reads, so "my mum will kill me if she finds out" is not
    judged by its words "kill me"."""
    rs = ruleset or rules()
    if rs.idiom_pieces is not None:
        present: set[str] = set()
        for token in set(text.split()):
            present |= rs.pieces_in(token)
        if present.isdisjoint(rs.idiom_pieces):
            return text
    return rs.idioms.sub(" ~ ", text)


def scan(text: str, ruleset: Optional[RuleSet] = None) -> RuleMatch:
    """The strongest rule match in a normalised text (see the module docstring)."""
    rs = ruleset or rules()
    token_pieces: dict[str, set[str]] = {}
    best_rank, best_order, best_category, idiom = 0, 10**9, None, False
    best_mention, best_where = False, (0, 0)
    reads, softened = 0, False
    for start, end, own_start, own_end in windows(text):
        window = text[start:end]
        present: set[str] = set()
        for token in set(window.split()):
            pieces = token_pieces.get(token)
            if pieces is None:
                pieces = token_pieces[token] = rs.pieces_in(token)
            present |= pieces
        candidates = set(rs.always)
        for piece in present:
            candidates.update(rs.by_piece.get(piece, ()))
        masked = window
        if rs.idiom_pieces is None or not present.isdisjoint(rs.idiom_pieces):
            masked, count = rs.idioms.subn(" ~ ", window)
            idiom = idiom or count > 0
        if not candidates:
            continue
        breaks: list[int] = []
        ends: list[int] = []
        clauses_read = False  # clause breaks are found only when a match needs its context
        for index in sorted(candidates):
            alt = rs.alternatives[index]
            if RANK[alt.level] < best_rank or (RANK[alt.level] == best_rank and alt.order >= best_order
                                                and not (best_mention and not alt.mention)):
                continue
            for m in alt.pattern.finditer(masked, own_start - start, own_end - start + CONTEXT):
                if m.start() >= own_end - start:
                    break  # the next window owns it
                reads += 1
                if reads > MAX_CONTEXT_READS:  # too many to read each in context: ask, don't guess
                    if best_rank == RANK[CRISIS]:
                        return RuleMatch(CRISIS, best_category, idiom, best_mention, best_where, softened)
                    return RuleMatch(UNCLEAR, best_category or alt.category, idiom, False, (start, end), True)
                if not clauses_read:
                    for b in _CLAUSE_BREAK.finditer(masked):
                        breaks.append(b.start())
                        ends.append(b.end())
                    clauses_read = True
                level, affirmed = contextual_level(alt, masked, m, breaks, ends, text[end:end + CONTEXT])
                rank = RANK[level]
                mention = alt.mention and not affirmed
                softened = softened or rank < RANK[alt.level]
                better = rank > best_rank or (rank == best_rank and rank and (
                    alt.order < best_order or (best_mention and not mention)))
                if better:
                    best_rank, best_order, best_category = rank, alt.order, alt.category
                    best_mention, best_where = mention, (start, end)
                if rank == RANK[alt.level]:
                    break
        if best_rank == RANK[CRISIS] and not best_mention:
            break  # nothing ranks higher; the rest of a long message need not be read
    level = {0: NONE, 1: UNCLEAR, 2: CRISIS}[best_rank]
    return RuleMatch(level, best_category if best_rank else None, idiom, best_mention and bool(best_rank),
                     best_where, softened)
