"""The crisis layer, run on every message the client sends.

`assess(text)` returns a `SafetyResult`:

* ``crisis``  - suicidal intent, a plan or means, danger now, self-harm, a wish to die, wanting to
  hurt someone, or being hurt / unsafe at home. The bot answers with crisis resources at once.
* ``unclear`` - warning signs that may or may not mean danger ("what's the point", "I want to
  disappear"), or a mention whose meaning is not clear. The bot asks gently whether they are safe.
* ``none``    - nothing found (``idiom`` is True when only a harmless idiom was present).

Three layers, in this order:
1. Normalising (bot/language/normalize.py): text-speak, digits for letters, stretched letters,
   look-alike letters from other scripts.
2. Deterministic rules (bot/language/crisis_rules.yml, run by bot/language/rules.py): direct
   statements always get `crisis`, whatever the learned layer says. A rule that only *mentions* the
   subject ("a film about suicide") lets the learned layer read the message first.
3. A classifier on sentence embeddings (bot/language/model.py), trained on real warning-sign
   language and real look-alikes: it tells a mention from a statement, and catches phrasings no
   rule lists. It cannot read context (the past, someone else, a joke, an accident) the way the
   rules do, so on its own it only ever asks the gentle question, and never against what the rules
   read down. (Letting it send resources alone when all but certain read 5 points more direct
   statements in cross-validation, but also sent them for "this is the plan for Saturday as I am
   going on holiday" and a box knife through a thumb.)

Recall matters more than precision. Thresholds live in bot/language/decisions.yml. `assess` never
raises; a missing model leaves the rules in charge (logged).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Optional

from bot.language.decisions import decisions
from bot.language.model import Analysis, LanguageModel, shared_model
from bot.language.normalize import has_stretched_letters, normalise
from bot.language.rules import CATEGORIES as RULE_CATEGORIES
from bot.language.rules import CRISIS, NONE, RANK, UNCLEAR, RuleMatch, scan

__all__ = ["CRISIS", "UNCLEAR", "NONE", "RISK_LEVELS", "CATEGORIES", "SafetyResult", "assess", "decide",
           "normalize", "read", "read_rules"]

RISK_LEVELS: Final[tuple[str, ...]] = (CRISIS, UNCLEAR, NONE)
LEARNED: Final = "learned"  # the category when only the classifier saw the risk
CATEGORIES: Final[tuple[str, ...]] = RULE_CATEGORIES + (LEARNED,)
LEARNED_MIN_WORDS: Final = 3  # "for", "ok lol": too little for the classifier to act on alone


@dataclass(frozen=True)
class SafetyResult:
    level: str  # "crisis" | "unclear" | "none"
    category: Optional[str] = None
    idiom: bool = False
    source: str = field(default="rules", compare=False)  # "rules", "learned" or "both": which layer decided

    @property
    def is_crisis(self) -> bool:
        return self.level == CRISIS


NO_RISK: Final = SafetyResult(NONE)


def normalize(text: str) -> str:
    """The normalised form the rules read (kept for callers of the old detector)."""
    return normalise(text)


def read_rules(text: str) -> tuple[str, RuleMatch]:
    """The normalised text and the strongest rule match in it. Stretched letters ("diiiie") are
    also read with every long run shortened to one letter."""
    normalised = normalise(text)
    match = scan(normalised)
    if match.level != CRISIS and has_stretched_letters(text):
        again = scan(normalise(text, runs_to=1))
        if RANK[again.level] > RANK[match.level]:
            match = again
    return normalised, match


def decide(rules: RuleMatch, analysis: Optional[Analysis]) -> SafetyResult:
    """Combines the rules' match and the classifier's reading into one level.

    The rules read context (negation, someone else, the past, a joke) and the classifier does not,
    so the classifier never raises what the rules read down: it decides a bare mention, and it adds
    what no rule lists. Thresholds: decisions.yml.
    """
    t = decisions().crisis
    if rules.level == CRISIS and not rules.mention:
        return SafetyResult(CRISIS, rules.category, False, "rules")
    if analysis is None:
        if rules.level == NONE:
            return SafetyResult(NONE, None, rules.idiom)
        return SafetyResult(rules.level, rules.category, False)
    direct = analysis.crisis.get("direct", 0.0)
    risk = analysis.crisis_risk
    if rules.level == CRISIS:  # only a mention ("suicide", "overdose"): read before sending resources
        if direct >= t.mention_crisis:
            return SafetyResult(CRISIS, rules.category, False, "both")
        if risk < t.mention_none:
            return SafetyResult(NONE, None, rules.idiom, "learned")
        return SafetyResult(UNCLEAR, rules.category, False, "both")
    if rules.level == UNCLEAR:
        return SafetyResult(UNCLEAR, rules.category, False, "rules")
    if rules.softened or rules.idiom:
        # Risk words the rules read as negated, someone else's, past, or an idiom: the classifier
        # may still ask gently when it is very sure, never more.
        if risk >= t.softened_unclear:
            return SafetyResult(UNCLEAR, LEARNED, False, "learned")
        return SafetyResult(NONE, None, rules.idiom)
    if analysis.words < LEARNED_MIN_WORDS:
        return SafetyResult(NONE, None, rules.idiom)  # too few words for the classifier alone
    if risk >= t.learned_unclear:
        return SafetyResult(UNCLEAR, LEARNED, False, "learned")
    return SafetyResult(NONE, None, rules.idiom)


def read(text: str, model: Optional[LanguageModel] = None) -> tuple[str, RuleMatch, Optional[Analysis]]:
    """The normalised text, the rules' strongest match, and the classifier's reading (None
    without a trained model): everything the crisis decision and the answer reader need."""
    normalised, rules = read_rules(text)
    model = model or shared_model()
    if model is None or not normalised:
        return normalised, rules, None
    risky = [normalised[rules.where[0]:rules.where[1]]] if rules.level != NONE else []
    return normalised, rules, model.analyse(normalised, risky)


def assess(text: object, model: Optional[LanguageModel] = None) -> SafetyResult:
    """Assess one message for crisis language. Never raises."""
    try:
        if text is None:
            return NO_RISK
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8", errors="replace")
        elif not isinstance(text, str):
            text = str(text)
        if not text.strip():
            return NO_RISK
        _, rules, analysis = read(text, model)
        return decide(rules, analysis)
    except Exception:  # pragma: no cover - defensive: a detector bug must never break a chat
        return SafetyResult(UNCLEAR, None, False)
