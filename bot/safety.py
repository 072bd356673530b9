"""Deterministic crisis-language detector, run on every message the client sends.

`assess(text)` returns a `SafetyResult`:

* ``crisis``  - suicidal thoughts, self-harm, plans or means, an overdose, a wish to die,
  wanting to hurt someone, or being hurt / unsafe at home. The bot answers with crisis resources.
* ``unclear`` - distress that may or may not mean danger ("what's the point", "I'm so done"),
  or a mention that is negated-but-asked-about, in the past, or about someone else. The bot
  asks gently whether the person is safe.
* ``none``    - nothing found (``idiom`` is True when only a harmless idiom such as
  "my feet are killing me" was present).

Recall matters more than precision: when in doubt a match is kept as ``unclear`` rather than
dropped. Pure Python and precompiled regular expressions; `assess` never raises.
"""
from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from typing import Final

CRISIS: Final = "crisis"
UNCLEAR: Final = "unclear"
NONE: Final = "none"
LEVELS: Final[tuple[str, ...]] = (CRISIS, UNCLEAR, NONE)
_RANK: Final[dict[str, int]] = {NONE: 0, UNCLEAR: 1, CRISIS: 2}

CATEGORIES: Final[tuple[str, ...]] = (
    "suicide",
    "self_harm",
    "overdose",
    "plan_or_means",
    "harm_others",
    "abuse_at_home",
    "wish_to_die",
    "distress",
)


@dataclass(frozen=True)
class SafetyResult:
    level: str  # "crisis" | "unclear" | "none"
    category: str | None = None
    idiom: bool = False

    @property
    def is_crisis(self) -> bool:
        return self.level == CRISIS


NO_RISK: Final = SafetyResult(NONE)

# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

_QUOTES = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'",
        "\u00b4": "'", "`": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
        "\u0131": "i", "\u017f": "s",
    }
)
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
_LEET_RE = re.compile(r"(?<=[a-z])[013457@$!](?=[a-z])")
_RUNS_RE = re.compile(r"([a-z])\1{2,}")
_NEWLINES_RE = re.compile(r"[\r\n\u2028\u2029]+")
_SYMBOLS_RE = re.compile(r"[^\w\s'.!?,;:]|_")
_LONE_QUOTE_RE = re.compile(r"(?<![a-z0-9])'|'(?![a-z0-9])")
_SPACES_RE = re.compile(r"\s+")

_SUICIDE_FUZZY = re.compile(r"\bsu[ae]?(?:i[cs]{1,2}i?|[cs]{1,2}i)[iea]?d(\w*)")


_SPACED_LETTERS_RE = re.compile(r"\b(?:[a-z][ .]){2,}[a-z]\b")
_SPACED_WORDS = frozenset({"die", "kms", "kys", "kill", "suicide", "suicidal", "dead", "myself", "selfharm", "overdose"})


def _join_spaced(m: re.Match[str]) -> str:
    """"d i e" -> "die", only for a few risk words (so "r u ok" keeps its spaces)."""
    joined = re.sub(r"[ .]", "", m.group(0))
    return joined if joined in _SPACED_WORDS else m.group(0)


def _suicide_word(m: re.Match[str]) -> str:
    suffix = m.group(1)
    if suffix in ("", "e", "es", "io", "a", "ed"):
        return "suicide"
    return "suicidal" if "l" in suffix else "suicide"


def _verb_form(m: re.Match[str]) -> str:
    ending = m.group(1)
    verb = {"e": "kill", "ing": "killing", "ed": "killed"}[ending]
    return f"{verb} {m.group(2)}sel{m.group(3)}"


def _word_map() -> dict[str, str]:
    """Whole-word spellings, text-speak and missing apostrophes -> the form the patterns expect."""
    words: dict[str, str] = {
        "unaliving": "dying", "unalived": "died", "unalive": "kill myself",
        "sewer slide": "suicide", "sewerslide": "suicide",
        "kms": "kill myself", "k.m.s": "kill myself", "k m s": "kill myself",
        "kys": "kill yourself", "k.y.s": "kill yourself", "k y s": "kill yourself",
        "sh'ing": "self harming", "sh'd": "self harmed", "sh'ed": "self harmed",
        "mysle": "myself", "myelf": "myself", "mself": "myself", "meself": "myself",
        "him self": "himself", "her self": "herself", "them selves": "themselves", "your self": "yourself",
        "wanna": "want to", "wana": "want to", "wanta": "want to", "wan2": "want to", "want2": "want to",
        "gonna": "going to", "gunna": "going to", "finna": "going to", "gona": "going to", "goin to": "going to",
        "gotta": "got to", "tryna": "trying to", "hafta": "have to", "kinda": "kind of", "outta": "out of",
        "cannot": "can't", "can not": "can't", "cnt": "can't", "cannt": "can't", "cant": "can't",
        "will not": "won't", "wont": "won't", "aint": "ain't", "dnt": "don't",
        "im": "i'm", "i m": "i'm", "i am": "i'm", "ive": "i've", "i have": "i've",
        "id": "i'd", "i would": "i'd", "i had": "i'd", "i will": "i'll",
        "hed": "he'd", "hes": "he's", "shes": "she's", "thats": "that's", "theres": "there's",
        "whats": "what's", "whos": "who's",
        "u": "you", "ur": "your", "r": "are", "ppl": "people",
        "bc": "because", "b c": "because", "cuz": "because", "coz": "because", "cos": "because",
        "bcuz": "because", "bcz": "because", "bcos": "because",
        "rn": "right now", "tho": "though", "tonite": "tonight", "2nite": "tonight", "2night": "tonight",
        "tmrw": "tomorrow", "tmr": "tomorrow", "tmrrw": "tomorrow", "tmw": "tomorrow", "2moro": "tomorrow",
        "2morrow": "tomorrow", "sum1": "someone", "some1": "someone", "smone": "someone",
        "no1": "no one", "noone": "no one", "every1": "everyone", "evry1": "everyone", "evryone": "everyone",
        "everyon": "everyone", "any1": "anyone", "idk": "i don't know", "dunno": "i don't know",
        "idc": "i don't care", "ngl": "not going to lie", "tbh": "to be honest", "rly": "really",
        "gf": "girlfriend", "bf": "boyfriend", "pils": "pills", "pillz": "pills", "pilz": "pills", "medz": "meds",
        "od'd": "overdosed", "od'ed": "overdosed", "oded": "overdosed", "odd'd": "overdosed",
        "o.d.'d": "overdosed", "o.d'd": "overdosed", "od'ing": "overdosing", "oding": "overdosing",
        "ded": "dead", "dieing": "dying", "wat": "what", "wut": "what",
        "any more": "anymore", "anymor": "anymore", "nomore": "anymore",
        "sui cide": "suicide", "sui side": "suicide", "self harn": "self harm",
    }
    for head in ("my", "my ", "mi", "mi "):
        for tail in ("self", "selv", "slef", "slf", "sef", "sefl", "seld", "sself", "selfe"):
            if head + tail != "myself":
                words[head + tail] = "myself"
    for tail in ("lef", "lf", "efl", "ef"):
        words["mys" + tail] = "myself"
    for verb in ("do", "does", "did", "is", "was", "were", "have", "has", "had", "would", "should",
                 "could", "are", "must", "need"):
        words[verb + "nt"] = verb + "n't"
        words[verb + " not"] = verb + "n't"
    for pronoun in ("they", "you"):
        for ending in ("ll", "d", "re", "ve"):
            words[pronoun + ending] = f"{pronoun}'{ending}"
    for stem in ("dy", "kill", "liv", "cutt", "hurt", "noth", "go", "try", "do", "think", "feel", "want",
                 "plann", "sav"):
        words[stem + "in"] = stem + "ing"
    return words


_WORDS: Final[dict[str, str]] = _word_map()
_WORDS_RE = re.compile(
    r"(?<![\w'])(?:" + "|".join(re.escape(w) for w in sorted(_WORDS, key=len, reverse=True)) + r")(?![\w'])"
)
# Applied before and after the word map.
_SLANG_BEFORE = (
    (re.compile(r"\bunaliv(e|ing|ed)\s?(my|him|her|them|your)\s?sel(f|ves)\b"), _verb_form),
    (re.compile(r"\bs\.?h\.?\b(?= (?:urges?|relapse|scars?|again|cuts?))"), "self harm"),
)
_SLANG_AFTER = (
    (re.compile(r"\bself ?(harm|injur|mutilat|destruct|hat)"), r"self \1"),
    (re.compile(r"\b(going to|want to|might|could|almost|nearly|i'll|i|to) od\b"), r"\1 overdose"),
)


def normalize(text: str, collapse_runs_to: int = 2) -> str:
    """Lower-case, unicode- and spelling-normalised form of `text` that the patterns run on.

    Runs of three or more of the same letter are shortened to `collapse_runs_to` letters.
    """
    s = unicodedata.normalize("NFKC", text)
    s = _INVISIBLE.sub("", s).translate(_QUOTES).casefold()
    if not s.isascii():
        s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
        s = s.translate(_QUOTES)
    s = _LEET_RE.sub(lambda m: _LEET[m.group(0)], s)
    s = _RUNS_RE.sub(lambda m: m.group(1) * collapse_runs_to, s)
    s = _NEWLINES_RE.sub(" . ", s)
    s = _SYMBOLS_RE.sub(" ", s)
    s = _LONE_QUOTE_RE.sub(" ", s)
    s = _SPACES_RE.sub(" ", s)
    s = _SPACED_LETTERS_RE.sub(_join_spaced, s)
    s = _SUICIDE_FUZZY.sub(_suicide_word, s)
    for pattern, replacement in _SLANG_BEFORE:
        s = pattern.sub(replacement, s)
    s = _WORDS_RE.sub(lambda m: _WORDS[m.group(0)], s)
    for pattern, replacement in _SLANG_AFTER:
        s = pattern.sub(replacement, s)
    return _SPACES_RE.sub(" ", s).strip()


# --------------------------------------------------------------------------------------------
# Harmless idioms: masked out before the risk patterns run.
# --------------------------------------------------------------------------------------------

_IDIOMS: Final = re.compile(
    "|".join(
        [
            r"\bkill(?:ing|s) me\b(?! (?:if|when|softly|off))",
            r"\bkill(?:ing|ed|s)? it\b(?! all)",
            r"\bkill(?:ing|ed)? (?:some |the )?time\b",
            r"\bkill(?:ing|ed)? (?:two birds|the mood|the vibe|the lights|the engine|a spider|the spider|the bugs?|the conversation|my buzz|the pain)\b",
            r"\b(?:kill|die|murder)(?:ing)? for (?:a|an|some|the|that|this|her|his|one|another|more|it|those|these)\b",
            r"\bto die for\b",
            r"\bdying (?:to|for) (?!die\b|end\b|kill\b|be dead\b)\w+",
            r"\b(?:die|died|dies|dying|dead|kill(?:ed|ing)? myself|killed me)\s+(?:laughing|of (?:laughter|laughing|embarrassment|shame|boredom|cuteness|happiness|joy|excitement|envy|jealousy|hunger|thirst|the heat|heat|cringe|curiosity|anticipation|suspense|old age)|from (?:laughing|laughter|embarrassment|the heat|boredom|cringe))\b",
            r"\bdead (?:tired|on my feet|serious|set|wrong|right|end|ringer|last|easy|simple|funny|honest|quiet|calm|slow|heat|weight|beat|sure|bored|lucky|center|centre|ahead|straight|battery|phone)\b",
            r"\b(?:scared|bored|worried|frightened|freaked|tickled|sick|loved?|loves) (?:\w+ )?to death\b",
            r"\bover my dead body\b",
            r"\bdrop dead\b",
            r"\bdead to me\b",
            r"\bthe death of me\b",
            r"\bshoot(?:ing)? myself in the foot\b",
            r"\bcut(?:ting|s)? myself (?:off|out|some slack|a break|short|free)\b",
            r"\bkill(?:ing|ed)? myself (?:trying|working|to (?:get|finish|make|meet|keep|please|impress|be on time))\b",
            r"\b(?:cut|cutting|burn|burned|burnt|burning|hurt|hurting|injured|injure|scratched) (?:myself|my (?:arm|wrist|leg|hand|finger|fingers|thumb|skin|back|knee|ankle|foot))\s+(?:shaving|cooking|chopping|by accident|accidentally|at the gym|playing|working out|running|lifting|exercising|gardening|on (?:a|the|some) (?:knife|glass|paper|stove|oven|pan|iron|kettle|stairs|ice))\b",
            r"\b(?:will|'ll|going to|would|'d|is going to|'s going to) kill me (?:if|when) (?:i'm late|i am late|i forget|i miss|i skip|i don't (?:call|text|show|come|finish|clean|do)|i fail|i lose|i break|i spend|i eat|(?:she|he|they) (?:find|finds|found|see|sees|saw|hear|hears|heard|notice|notices|knew|knows|know|knew))\b",
            r"\bend(?:s|ing|ed)? (?:it|things) (?:with|between)\b",
            r"\bend(?:s|ing|ed)? (?:the|our|my|this) (?:session|sessions|therapy|relationship|contract|call|chat|conversation|check in|checkin)\b",
            r"\bjump(?:s|ed|ing)? (?:at|on) (?:the|a|this|that)\b",
            r"\bjump(?:s|ed|ing)? (?:ship|the gun|ahead|back in|right in)\b",
            r"\bsuicide (?:squad|mission|doors?|sprints?|run|burpees|king)\b",
            r"\boverdos(?:e|ed|ing) on (?:coffee|caffeine|sugar|chocolate|candy|sweets|netflix|tv|cake|carbs|sun|pizza|tea|work)\b",
            r"\bkill(?:s|ing|ed)? (?:the|my|this) (?:printer|laptop|computer|phone|wifi|alarm|code|keyboard|battery|plant|plants)\b",
            r"\b(?:strangle|throttle|murder) (?:the|my|this) (?:printer|laptop|computer|phone|wifi|alarm|code|keyboard)\b",
            r"\bi'm dead (?:lol|lmao|haha|hahaha|rofl)\b",
            r"\bdead(?:line|lift|lock|pan|bolt)s?\b",
        ]
    )
)

# --------------------------------------------------------------------------------------------
# Risk patterns
# --------------------------------------------------------------------------------------------

# Which contextual checks apply to a rule:
#  "self"  - negation, reported question, third party, topical mention, past
#  "other" - negation, past (the subject is already part of the pattern)
#  "fixed" - none (the phrase is a statement of risk in itself, e.g. "don't want to live")
_SELF, _OTHER, _FIXED = "self", "other", "fixed"

_ANYMORE = r"(?: anymore| any longer)?"
_LIVE = (
    r"(?:live|living|go on|going on|keep going|keep living|be alive|being alive|stay alive|staying alive"
    r"|carry on|carrying on|continue living|exist|existing|wake up|life)"
)
_PILLS = (
    r"(?:pills|tablets|meds|medication|medications|medicine|painkillers|pain killers|paracetamol|tylenol"
    r"|acetaminophen|ibuprofen|advil|aspirin|sleeping pills|xanax|benzos|insulin|antidepressants|oxy"
    r"|opioids|oxycodone|codeine|lithium|of them|of those)"
)
_BODY = r"(?:arms?|wrists?|legs?|thighs?|skin|stomach|body|hips?|hands?|fingers|face|chest|belly)"
_PERSON = (
    r"(?:boss|husband|hubby|wife|partner|boyfriend|girlfriend|ex|dad|father|mom|mum|mother|stepdad|stepfather"
    r"|stepmom|stepmother|step dad|step mom|brother|sister|son|daughter|kids?|child|children|baby|babies"
    r"|neighbou?rs?|coworkers?|co workers?|colleagues?|roommate|flatmate|friends?|therapist|teacher|family"
    r"|parents?|uncle|aunt|cousin|grandpa|grandma|manager|classmates?|landlord|guy|girl|man|woman|bully"
    r"|abuser|fiance|fiancee|in laws|siblings?|students?|class|school|office|coach|doctor)"
)
_ABUSER = (
    r"(?:he|she|they|my (?:partner|husband|hubby|wife|boyfriend|girlfriend|dad|father|mom|mum|mother|stepdad"
    r"|stepfather|stepmom|stepmother|step dad|step mom|brother|sister|parents?|uncle|aunt|grandpa|grandfather"
    r"|grandma|grandmother|ex|fiance|fiancee|carer|caregiver|roommate|flatmate|son|daughter|family|in laws"
    r"|mother in law|father in law|cousin))"
)
_KIN = (
    r"(?:my (?:partner|husband|hubby|wife|boyfriend|girlfriend|dad|father|mom|mum|mother|stepdad|stepfather"
    r"|stepmom|stepmother|step dad|step mom|brother|sister|uncle|grandpa|grandfather|cousin|carer|caregiver))"
)
_HARM_VERB = (
    r"(?:kill|killing|hurt|hurting|stab|stabbing|shoot|shooting|strangle|strangling|murder|murdering"
    r"|beat up|beating up|beat|beating|punch|punching|attack|attacking|harm|harming|poison|poisoning"
    r"|choke|choking|run over|smother|smothering|drown|drowning)"
)


@dataclass(frozen=True)
class _Rule:
    level: str
    category: str
    kind: str
    pattern: re.Pattern[str]


def _rule(level: str, category: str, kind: str, *patterns: str) -> _Rule:
    return _Rule(level, category, kind, re.compile("|".join(f"(?:{p})" for p in patterns)))


_RULES: Final[tuple[_Rule, ...]] = (
    # ---- plans and means --------------------------------------------------------------------
    _rule(CRISIS, "plan_or_means", _SELF,
          r"\bhang(?:ing|ed|s)? myself\b",
          r"\b(?:slit|slitting|slice|slicing|cut|cutting|open|opening) (?:my|both my|both) (?:wrists?|throat|veins?)\b",
          r"\bjump(?:ing|ed|s)? (?:off|from|in front of|out of|under) (?:a |the |my |our |that |this )?(?:\w+ )?(?:bridge|building|roof|rooftop|cliff|balcony|window|train|bus|car|truck|lorry|tower|overpass|ledge|parking garage|car park|motorway|highway|platform|floor|top)\b",
          r"\b(?:step|stepping|walk|walking|stepped|walked|throw myself|threw myself|throwing myself|jump|jumping) (?:in front of|into|onto) (?:a |the )?(?:train|bus|car|truck|lorry|traffic|subway|tube|river|sea|lake|ocean|tracks|road)\b",
          r"\b(?:drown|drowning|shoot|shooting|gas|gassing|poison|poisoning|suffocate|suffocating|electrocute) myself\b",
          r"\bstarv(?:e|ing) myself to death\b",
          r"\bdriv(?:e|ing) (?:my car |the car )?(?:off|into) (?:a |the )?(?:bridge|cliff|wall|tree|river|lake|truck|lorry|oncoming)\b",
          r"\bcrash(?:ing)? (?:my|the) car (?:on purpose|into)\b",
          r"\b(?:i'm|i) (?:going to|about to|will|'ll) jump\b(?! (?:at|on|in|into|ship|ahead|back|right|to|the gun|through|out of bed|up|for|around|rope|over))",
          r"\b(?:saving|saved|stockpiling|stockpiled|hoarding|hoarded|collecting|collected|stashing|stashed|gathering|gathered|stocking up on|stocked up on|saving up|saved up|keeping)\b[^.!?]{0,25}?\b(?:pills|tablets|meds|medication|medications|medicine|painkillers|paracetamol|tylenol|sleeping pills|insulin|razors?|razor blades|blades)\b",
          r"\b(?:stash|stockpile|hoard|supply|collection|pile) of (?:\w+ )?(?:pills|tablets|meds|medication|painkillers|paracetamol|sleeping pills|razors|blades)\b",
          r"\b(?:bought|buy|buying|got|ordered|order|ordering|getting|found|tied|tying|made|making|got hold of|get hold of)\b (?:a |some |the |my |myself a |myself some )?(?:rope|noose|gun|pistol|handgun|rifle|firearm|shotgun|razor blades?|charcoal|helium)\b",
          r"\bnoose\b",
          r"\b(?:pills|tablets|meds|blades?|razors?) (?:are |all )?(?:lined up|counted out|laid out|ready|in front of me|next to me)\b",
          r"\b(?:on|at|near) the edge of (?:the |a |this )?(?:roof|bridge|cliff|building|platform|balcony|ledge|tracks)\b|\bstanding on (?:the |a )?(?:ledge|bridge|roof|railing)\b",
          r"\b(?:ways?|methods?) to end it\b",
          r"\b(?:gun|pistol|rifle|shotgun)\b[^.!?]{0,20}\bloaded\b",
          r"\bloaded (?:gun|pistol|rifle|shotgun)\b",
          r"\bhow (?:many|much) (?:\w+ ){0,2}?(?:pills|tablets|paracetamol|tylenol|acetaminophen|ibuprofen|aspirin|insulin|sleeping pills|meds|mg)\b[^.!?]{0,25}?\b(?:it would take|does it take|it takes|would it take|to die|to kill|would kill|is lethal|is fatal|are lethal|to overdose|to od|would be enough|is enough|are enough)\b",
          r"\b(?:lethal|fatal|deadly) (?:dose|amount|overdose)\b",
          r"\bhow to (?:kill myself|hang myself|overdose|od|end my life|commit suicide|tie a noose|die painlessly|slit)\b",
          r"\b(?:painless|quick|quickest|easiest|easy|best|fastest) (?:ways?|methods?) to (?:die|end it|end my life|kill myself)\b",
          r"\bways to (?:die|kill myself|end my life)\b",
          r"\b(?:suicide|goodbye|good bye|farewell) (?:note|notes|letter|letters|message|messages|video)\b",
          r"\b(?:wrote|writing|written|write) (?:my |a )?(?:goodbyes?|will|last letter|final letter|last letters)\b",
          r"\bsaid (?:my )?(?:last |final )?goodbyes\b",
          r"\b(?:letters?|notes?|messages?|videos?) to say goodbye\b|\bsay(?:ing)? goodbye to (?:everyone|everybody|all of you|the world|my family|my kids|you all|everything)\b",
          r"\bgoodbye (?:everyone|everybody|world|forever|cruel world)\b",
          r"\b(?:knife|blade|razor|scissors|glass|lighter)\b[^.!?]{0,20}?\b(?:against|to|on|into|across) my (?:wrists?|arms?|skin|throat|neck|legs?|thighs?)\b",
          r"\b(?:want|wanna|going|thinking|think|tempted|urge|urges|plan|planning)\b[^.!?]{0,12}?\b(?:crash|wreck|total) (?:my|the) car\b",
          r"\b(?:won't|not going to|don't think i'll|don't think i will|don't expect to|might not|may not) be (?:here|around|alive) (?:for )?(?:much longer|long|anymore|by (?:then|next|the end)|next (?:week|month|year))\b",
          r"\bdanger to (?:myself|others)\b",
          r"\b(?:gave|giving|give) away (?:all )?(?:of )?my (?:things|stuff|belongings|possessions|pets|clothes|stuff)\b",
          r"\bwon't be (?:here|around|alive) (?:much longer|for (?:much|very) long|anymore|for long|by (?:the end of|next))\b",
          r"\bwon't be (?:a |any )?(?:problem|burden|bother|trouble) (?:to|for) (?:anyone|anybody|you|them|everyone|my family|much longer)\b",
          r"\b(?:this is|this will be|it's) (?:my )?(?:last|final) (?:goodbye|message|time you'll hear from me)\b",
          ),
    # ---- overdose ---------------------------------------------------------------------------
    _rule(CRISIS, "overdose", _SELF,
          r"\boverdos(?:e|ed|es|ing)\b",
          r"\b(?:going to|about to|want to|will|'ll|plan to|planning to|thinking of|thinking about|ready to) (?:take|taking|swallow|swallowing) (?:all|every|the whole|a whole|the rest of|a bunch of|a handful of)\b",
          r"\b(?:drank|drunk|drink|drinking|swallowed|took|taken) (?:some |the |a bottle of |a cup of )?(?:bleach|antifreeze|poison|rat poison|weed killer|drain cleaner)\b",
          rf"\b(?:took|taken|swallowed|downed|swallow|swallowing|popped)\b[^.!?]{{0,20}}?\b(?:whole|entire|all|bunch|lot|lots|handful|handfuls|bottle|box|packet|pack|too many|loads|dozens|dozen|fistful|every one|extra|double|triple|\d\d+)\b[^.!?]{{0,25}}?\b{_PILLS}\b",
          rf"\b(?:take|taking|swallow)\b[^.!?]{{0,15}}?\b(?:whole|entire|bunch|handful|handfuls|bottle|box|packet|too many|loads|dozens|fistful|every one)\b[^.!?]{{0,25}}?\b{_PILLS}\b",
          ),
    # ---- suicide ----------------------------------------------------------------------------
    _rule(CRISIS, "suicide", _SELF,
          r"\bkill?(?:ing|ed|s)? ?myself\b",
          r"\bkill(?:ing)? yourself\b",
          r"\b(?:end|ending|ended|take|taking|took|took away) (?:my|my own) life\b",
          r"\bsuicid(?:e|es|al)\b",
          r"\bend(?:ing)? (?:it|it all|everything|things|my life) (?:tonight|today|now|soon|for good|forever|this week|tomorrow|this weekend)\b",
          r"\bend(?:ing)? (?:it all|everything)\b",
          r"\b(?:feel like|want to|going to|ready to|thinking of|thinking about|plan to|planning to|tempted to|decided to|about to|need to|have to) (?:end|ending) (?:things|it|it all|everything)\b(?! with| between| there| here| early| for today)",
          r"\b(?:should|might as well|may as well|deserve to|ought to) (?:just )?(?:die|be dead|kill myself)\b",
          r"\bcommit(?:ting)? suicide\b",
          r"\bselbstmord\b|\bquiero morir|\bme quiero (?:matar|morir)\b|\bmatarme\b|\bje veux mourir\b|\bme suicider\b|\bje vais me tuer\b|\bich will sterben\b|\bmich umbringen\b|\bvoglio morire\b|\bquero morrer\b|\bme matar\b",
          ),
    # ---- self-harm --------------------------------------------------------------------------
    _rule(CRISIS, "self_harm", _SELF,
          r"\bself (?:harm|harming|harmed|harms|injury|injure|injuring|injured|injurious|mutilation|mutilate|mutilating)\b",
          rf"\b(?:cut|cutting|cuts|burn|burning|burned|burnt|scratch|scratching|scratched|carve|carving|carved|hurt|hurting|hurts|harm|harming|harmed|punish|punishing|punished|punch|punching|punched|hit|hitting|bite|biting|stab|stabbing|stabbed|bruise|bruising|bruised|starve|starving|starved|choke|choking|strangle|strangling|strangled|injure|injuring|injured|bleed|bleeding) (?:myself|my {_BODY})\b",
          r"\b(?:been|started|start|starting|still|keep|kept|back to|relapsed|relapse|relapsing|urges? to|want to|thinking about|tempted to)\b(?: \w+)?? (?:cutting|cut|burning)\b(?! (?:back|down|out|off|corners|costs|ties|class|classes|school|through|in|up|it|that|my hair|hair|the|a|an|sugar|carbs|caffeine|people|contact|someone|her|him|them|me|short|loose|ahead|across|and|to))",
          r"\bcutting again\b",
          r"\bi (?:cut|burned|burnt|scratched) (?:again|last night|today|yesterday|this morning|tonight|earlier|deep|deeper|so deep|too deep)\b",
          r"\b(?:relapsed|relapse|relapsing)\b(?: on| into| with)? (?:self harm|cutting|harming)\b",
          r"\bself harm (?:urges|relapse|scars|wounds|cuts)\b|\burges? to (?:self harm|harm myself)\b",
          rf"\b(?:fresh|new|deep) (?:cuts|wounds|scars|burns) on my\b",
          r"\buntil (?:i|my \w+|it) (?:bleed|bleeds|bled)\b|\bmake myself bleed\b",
          ),
    # ---- wish to die ------------------------------------------------------------------------
    _rule(CRISIS, "wish_to_die", _SELF,
          r"\b(?:want|wanted|wanting|wants|wish|wishing|going|ready|deserve|plan|planning|decided|trying|tried|try|tempted|like|need|should|prefer|rather|just want|really want|honestly want)\s+to\s+(?:just\s+)?die\b",
          r"\bi (?:just |really |kind of |honestly |seriously |actually )*(?:want|wish|need) (?:to )?die\b",
          r"\bi (?:should|might as well|may as well|deserve to) (?:just )?die\b",
          r"\b(?:let me|hope i|hoping i|hoped i|pray i|praying i|wish i could|wish i would|hope to|want to) (?:just |would |'d |'ll |could )?(?:die|crash and die|get hit by|drop dead|never wake up|don't wake up|not wake up|stop breathing)\b",
          r"\b(?:wish|wished|wishing) (?:that )?i (?:was|were|'d|had|could be|could just be) (?:dead|gone|never born|not born|not here|not alive|died|die|never been born|not been born)\b",
          r"\bwish i'd (?:never|not) (?:been )?born\b",
          r"\b(?:want|wanna|like|need|ready|deserve) to be dead\b",
          r"\bi'd (?:rather|sooner) (?:be dead|die|not be alive|not exist|not be here)\b(?! than)",
          r"\b(?:rather|sooner) (?:be dead|die) than (?:live|living|go on|going on|keep|feel|be alive|wake up|exist|spend another|face|be here|carry on)\b",
          r"\bi should be dead\b",
          r"\bbetter off (?:dead|without me|if i (?:just )?(?:was|were|wasn't|weren't|'m|died|disappeared|'d never|didn't exist|never)|with me gone|once i'm gone|when i'm gone|if i'm gone|after i'm gone)\b",
          r"\b(?:better|happier|easier|safer) (?:place|world|life|lives|off) (?:without me|if i (?:just )?(?:died|was gone|were gone|wasn't here|weren't here|wasn't around|weren't around))\b",
          r"\b(?:disappear|vanish|crawl into a hole|lie down|go away|curl up)(?: forever)? and die\b",
          r"\bi (?:should|want to|wish i could|could)\b[^.!?]{0,25}?\band (?:just )?die\b",
          r"\b(?:want|wanna|wish|ready|need) to be gone\b(?! for| by| from| on| before| when| at| during| until| till| over)",
          r"\bmade (?:my )?peace with (?:dying|death|my decision|ending it|leaving this world)\b",
          r"\b(?:thinking|thought|think|thinks) (?:of|about) (?:ending it|ending my life|ending everything|ending it all|not being here|not being alive|not existing)\b",
          r"\b(?:better|happier|easier|fine) (?:off )?(?:without me|if i (?:wasn't|weren't) (?:here|around|alive|in it)|if i (?:was|were) (?:gone|dead)|if i died|with me gone)\b",
          r"\b(?:notice|care|miss me|relieved|happier|easier|better|glad|matter|even know|mind|cry)\b[^.!?]{0,25}?\bif i (?:died|was dead|were dead|was gone|were gone|disappeared|killed myself|wasn't here|wasn't around|wasn't alive|weren't here|weren't around|weren't alive|didn't exist|stopped existing|never woke up|didn't wake up)\b",
          r"\b(?:no one|nobody|no body) (?:would|will|is going to)? ?(?:even )?(?:miss me|care if i die)\b",
          rf"\b(?:don't|didn't|no longer|never|doesn't) (?:even |really |actually |honestly )?(?:want|wanna|wish|feel like i want) to (?:{_LIVE}|be on this earth|be in this world)\b",
          rf"\b(?:not sure|don't know|unsure|not certain) (?:if |whether |that )?i (?:even |still |really )?(?:want|wanna) to (?:{_LIVE}|be here|be around)\b",
          r"\b(?:sleep|asleep|go to sleep|fall asleep|sleeping)\b[^.!?]{0,20}?\b(?:never|not|don't) (?:wake|waking) up\b",
          r"\b(?:hope|hoping|wish|wishing|pray|praying|want|wanting)\b[^.!?]{0,15}?\b(?:never|not|don't|won't) (?:wake|waking) up\b",
          r"\bsleep forever\b|\bnever wake up again\b|\beternal sleep\b",
          rf"\bno (?:reason|point|purpose|will|desire|need|motivation) (?:to|in|for) (?:{_LIVE}|be here|being here)\b",
          rf"\b(?:don't|can't|cannot|do not|doesn't) (?:see|find|think of|have) (?:a|any|the) (?:reason|point) (?:to|in|for) (?:{_LIVE}|be here|being here)\b",
          r"\bnothing (?:left )?to live for\b",
          r"\bwhat(?:'s| is)(?: even)? the point (?:of|in) (?:living|life|being alive|going on|existing|me being here|staying alive)\b",
          r"\bcan't (?:go on living|keep living|live like this|live with myself|live anymore|do life|go on anymore|go on any longer|keep going on)\b",
          r"\bcan't go on\b(?! (?:like this|with (?:this|the|my|her|him|these|therapy|it))| \w+ing)",
          r"\b(?:not|n't|no longer|never) worth living\b",
          r"\blife(?:'s| is)? (?:isn't|is not|'s not|ain't|no longer|doesn't feel|does not feel|never feels|is never|isn't really) worth\b",
          r"\b(?:stop|stopped|cease|ceasing) (?:to )?exist(?:ing)?\b",
          r"\b(?:want|wanna|wish|need) (?:to )?not (?:exist|be alive|be here|wake up)\b",
          r"\b(?:done|finished|through) with (?:life|living|being alive|existing)\b",
          r"\b(?:tired|sick|exhausted|weary) of (?:living|life|being alive|existing|being here)\b",
          r"\bgiv(?:e|en|ing) up on (?:life|living)\b",
          r"\bdon't care if i (?:die|live|wake up|don't wake up|get hurt)\b",
          r"\bthink(?:ing)? (?:about|of) (?:dying|being dead|not being alive|not existing|my (?:own )?death|killing myself)\b",
          r"\bthoughts (?:of|about) (?:dying|death|being dead|not being alive)\b",
          r"\bdon't deserve to live\b",
          r"\b(?:imagine|imagining|imagined|planning|planned|plan|thinking about|think about|picture|picturing) my (?:own )?(?:funeral|death|grave)\b",
          r"\b(?:wish|hope|hoping|want|pray|praying|wishing)\b[^.!?]{0,12}?\b(?:a|the|some) (?:car|bus|truck|train|lorry|plane|bullet|someone|somebody)\b[^.!?]{0,10}?\b(?:would |will |to |could )?(?:hit|kill|run over|crash into|shoot) me\b",
          r"\b(?:hope|wish|hoping|wishing|pray|praying)\b[^.!?]{0,30}?\band die\b",
          r"\b(?:want|wanna|ready|wish|need|long|longing) to (?:be|go)\b[^.!?]{0,20}?\b(?:in heaven|to heaven|home to god|with god|with jesus|on the other side)\b|\b(?:join|be reunited with) (?:my \w+|him|her|them) (?:in heaven|on the other side)\b",
          r"\b(?:how (?:much )?longer|how long) i can (?:stay alive|keep living|live|keep myself alive)\b",
          r"\bi(?:'ll| will|'m going to) be dead\b",
          r"\bbother (?:living|staying alive|being alive|waking up|existing|going on)\b",
          r"\bhate (?:being alive|living|existing|that i'm alive|that i exist)\b",
          r"\b(?:wish|wished|wishing) (?:that )?i (?:wasn't|weren't|didn't exist|wasn't born|wasn't here|could stop existing|could disappear forever)\b",
          r"\bwant out of (?:this )?life\b|\bno will to live\b|\blost the will to live\b",
          ),
    # ---- harming others ---------------------------------------------------------------------
    _rule(CRISIS, "harm_others", _OTHER,
          rf"\bi(?:'m|'d|'ll|'ve)?\b[^.!?]{{0,25}}?\b(?:want|wanted|wanting|going|plan|planning|tempted|ready|about|think|thinking|thought|fantasi[sz]e|fantasi[sz]ing|dream|dreaming|urge|urges|feel like|could|might|will|would|'ll|'d|scared|afraid|worried|gonna)\b[^.!?]{{0,15}}?\b{_HARM_VERB} (?:him|her|them|someone|somebody|anyone|everyone|everybody|people|others|(?:my|his|her|their|that|this|the) {_PERSON})\b(?!'s feelings| feelings|'s pride)",
          r"\b(?:kill|shoot|stab|hurt) (?:everyone|everybody|people at|them all|all of them)\b",
          r"\bshoot up (?:my|the|a|our) (?:school|office|work|workplace|church|class|college|university|mall)\b",
          r"\b(?:school|mass|workplace) shooting\b(?= i| myself)",
          ),
    # ---- abuse / unsafe at home -------------------------------------------------------------
    _rule(CRISIS, "abuse_at_home", _OTHER,
          rf"\b{_ABUSER}\b[^.!?]{{0,20}}?\b(?:hits|hit|beats|beat|punches|punched|slaps|slapped|kicks|kicked|chokes|choked|strangles|strangled|rapes|raped|abuses|abused|assaults|assaulted|molests|molested|smacks|smacked|shoves|shoved|burns|burned|grabs|grabbed|attacks|attacked|whips|whipped|drags|dragged|beaten|bit|bites) (?:me|us|both of us|all of us|my \w+ and me|me and my \w+)\b(?! up| with| at | in (?:chess|cards|a race|the race|an argument)| to (?:it|the)| back| by (?:a|one)| so much| deeply| emotionally)",
          rf"\b{_ABUSER}\b[^.!?]{{0,20}}?\b(?:hit|hits|beat|beats|whipped|whips|hitting|beating) me with (?:a|an|the|his|her|their|my) (?:belt|bat|stick|pan|bottle|plate|shoe|hand|fist|cable|cord|knife|chair|phone|hammer|spoon|hose|cane|ruler|remote)\b",
          rf"\b{_ABUSER}\b[^.!?]{{0,20}}?\b(?:threw|throws|throwing) (?:\w+ ){{0,2}}at me\b",
          rf"\b{_ABUSER}\b[^.!?]{{0,20}}?\bcomes? (?:into|in) my (?:room|bed|bedroom) at night\b",
          rf"\b{_KIN}\b[^.!?]{{0,12}}?\b(?:hurts|hurt|is hurting|keeps hurting|has been hurting|still hurts) me\b(?! (?:with (?:her|his|their) (?:words|comments)|emotionally|by (?:saying|not|ignoring)|when (?:she|he|they) (?:says|said|talks|ignores)))",
          rf"\b{_KIN}\b[^.!?]{{0,20}}?\b(?:touches|touched|touching) me\b(?! (?:deeply|so|a lot|with|by|that|how|to (?:laugh|smile|think|go to therapy)))",
          rf"\b(?:{_ABUSER}|someone|somebody)[^.!?]{{0,20}}?\b(?:threaten|threatens|threatened|threatening|tried|tries|trying|wants|want|going|will|'ll|'s going|is going|said he'd|said she'd|says he'll|says she'll|would|'d) (?:to )?(?:kill|hurt|hit|beat|stab|shoot|strangle|choke) me\b",
          rf"\b(?:he|she|they|{_KIN})(?:'ll| will| might|'s going to| is going to| would|'d) (?:hurt|hit|beat) me(?: again)?\b",
          rf"\b(?:not|don't feel|never feel|isn't|doesn't feel|do not feel|never) safe (?:at home|in my (?:own )?(?:home|house|flat|apartment|room|bedroom)|at my (?:house|place|parents|dad's|mom's|mum's)|around (?:him|them|my \w+)|with {_KIN}|(?:at|in) (?:my )?(?:home|house))\b",
          r"\b(?:i'm not|not) safe (?:here|at home)\b",
          r"\b(?:scared|afraid|terrified|frightened) (?:to go|of going|to be) (?:back )?home\b",
          r"\b(?:scared|afraid|terrified|frightened) of (?:my )?(?:partner|husband|wife|boyfriend|girlfriend|dad|father|stepdad|stepfather|mom|mum|mother|stepmom|ex|parents)\b",
          r"\b(?:scared|afraid|terrified) (?:of )?what (?:he|she|they)(?:'ll| will| might|'d| would) do\b",
          r"\b(?:locks|locked|locking) me (?:in|up|out)\b|\bwon't let me (?:leave|out of) (?:the|my) (?:house|room|flat|apartment|home)\b",
          ),
    _rule(CRISIS, "abuse_at_home", _SELF,
          r"\b(?:domestic (?:violence|abuse)|being abused|been abused|being hit|being beaten|sexually (?:abused|assaulted)|raped|molested|being raped|rape)\b",
          ),
    # ---- unclear: someone else at risk ------------------------------------------------------
    _rule(UNCLEAR, "suicide", _FIXED,
          r"\b(?:kill(?:ed|ing|s)?|hang(?:ed|ing|s)?|hurt(?:ing|s)?|harm(?:ed|ing|s)?|cut(?:ting|s)?|shot|shoot(?:ing|s)?|overdosed|starv(?:ed|ing|es)) (?:himself|herself|themselves|themself)\b",
          r"\btook (?:his|her|their) (?:own )?life\b",
          r"\b(?:committed|died by|attempted) suicide\b",
          ),
    _rule(UNCLEAR, "self_harm", _FIXED,
          r"\b(?:stopped|quit|stop|quitting|stopping) (?:cutting|self harm\w*|hurting myself|harming myself|burning myself)\b",
          ),
    # ---- unclear: distress ------------------------------------------------------------------
    _rule(UNCLEAR, "distress", _SELF,
          r"\bcan't (?:do|keep doing|take|cope with|bear|handle|deal with|stand|face) (?:this|it|any of this|life|everything|this life|it all)(?: anymore| any longer)\b",
          r"\bcan't (?:do|keep doing|take|bear|cope with) (?:this|it|any of this|life|everything|it all)\b(?! (?:homework|worksheet|exercise|assignment|question|one|part|task|job|week|on my own|alone|right|well|properly|at the))",
          r"\bcan't (?:cope|go on like this|keep going|hold on|take much more|keep up)\b",
          r"\bwhat(?:'s| is)(?: even)? the (?:point|use)\b(?! of (?:therapy|this question|these|asking|the question|the app|this app|sessions))",
          r"\b(?:want|need|wish)\b[^.!?]{0,10}?\b(?:it|everything|it all|the pain|all of it|all this|the hurt|life)\b(?: all)? to (?:stop|end|be over|go away)\b",
          r"\bmake it (?:all )?stop\b",
          r"\b(?:so|completely|totally|just|really|utterly|fully) done\b(?! with (?:my|the|this|that|work|homework|school|her|him|therapy|it for|for today|for now))(?! for (?:today|now|the day))",
          r"\bdone with (?:everything|it all|all of it|all of this|everyone|everybody)\b",
          r"\b(?:tired|sick|exhausted|weary) of (?:it all|everything|all of it|trying|fighting|feeling like this|being me|this life|struggling)\b",
          r"\b(?:don't know|not sure) how (?:much )?(?:longer|long) i can (?:keep going|go on|do this|take (?:it|this)|hold on|cope|last|keep this up|keep doing this)\b",
          r"\b(?:don't think|not sure|doubt|don't know if|don't know whether) i can (?:keep going|go on|hold on|cope|last much longer|keep this up|keep doing this|take (?:it|this|much more)|do this anymore)\b(?! with (?:this|the|these) (?:question|check|one|bit|part|form|survey))",
          r"\b(?:i feel|i'm|feeling|feel|felt|i've been|everything (?:is|feels|seems)|it all (?:feels|seems)|life (?:is|feels)|things (?:are|feel)|so|completely|totally|utterly)\s+(?:so\s+|really\s+|completely\s+|pretty\s+|totally\s+|just\s+)?hopeless\b",
          r"\b(?:no hope|lost all hope|lost hope|nothing (?:is ever|will ever) (?:going to )?get better|never going to get better|nothing ever gets better|it's never going to get better|won't ever get better)\b",
          r"\b(?:want|wish|wanting|wished)\b[^.!?]{0,12}?\b(?:disappear|vanish)\b",
          r"\bdisappear forever\b|\brun away and never come back\b|\bnever come back\b",
          r"\b(?:give up|giving up|gave up)\b(?! on (?:therapy|her|him|them|sessions?|this app|the app|coffee|sugar|smoking|drinking|alcohol|my (?:\w+ )?(?:plans?|diet|job|hobby|goals?)|the idea|that idea))(?! (?:coffee|sugar|smoking|drinking|alcohol|meat|trying to (?:explain|get|make|tell|convince)))",
          r"\bend of my (?:rope|tether)\b|\bbreaking point\b|\bcan't hold on\b",
          r"\b(?:i'm|i feel|feeling|i've been)(?: really| so| just| honestly| actually| definitely| still)? not (?:ok|okay|alright|all right|fine|safe)\b(?! (?:with|about|that|when|if|to))",
          r"\b(?:don't|didn't) (?:want|wanna) to be (?:here|around)(?: anymore)?\b",
          r"\b(?:rather|sooner) (?:be dead|die) than\b",
          r"\bi'm (?:such )?a burden\b(?! (?:on|to) (?:her|him|my therapist)(?:'s)? (?:time|schedule|diary|calendar))|\bburden (?:to|on) (?:everyone|everybody|my family|them|people|my friends)\b",
          r"\b(?:no one|nobody) (?:cares|would care|would notice|loves me|would even notice)\b",
          r"\bend(?:ing)? it\b(?! with| between| there| here| early| on a| for today| now and)",
          r"\bhow i(?:'d| would| will|'ll| could| might) do it\b|\bhow to end it\b|\bmade (?:my )?peace with (?:it|everything)\b",
          r"\b(?:punch|punching|punched|hit|hitting) (?:the )?walls?\b|\b(?:locked|hiding|hid) (?:myself )?in the (?:bathroom|bedroom|closet|car)\b",
          r"\bend things\b(?! with| between)",
          r"\bi(?:'ve| have)? (?:got |made )?a plan\b(?! for| to (?:get|go|study|finish|talk|tell|ask|work|see|stop|quit|leave|save|eat|sleep|exercise|move|find|apply|start|try|deal|cope|manage)| with| in place for)",
          r"\b(?:train tracks|railway line|railway tracks)\b|\bi (?:just )?want out\b(?! of (?:my|this|the|that) (?:job|relationship|marriage|contract|lease|house|town|city|class|course|program|programme|therapy|team|group))",
          r"\bhate my life\b|\blife (?:is|feels|seems) (?:so )?(?:pointless|meaningless|empty)\b|\bi'm worthless\b",
          r"\bthinking about death\b|\bdark thoughts\b|\bdying inside\b|\bself destructive\b|\bwant it to be over\b",
          r"\b(?:just |please )?kill me\b",
          r"\bif i died\b|\bif i was(?:n't)? gone\b",
          r"\b(?:don't|do not) feel safe\b(?! (?:sharing|to share|to open|opening|telling|to tell|talking|to talk|with her|with him|in (?:session|sessions|therapy)|being honest|to be honest|saying|to say))",
          r"\bhurt me again\b|\bwon't be (?:here|around|alive)\b",
          ),
)

# --------------------------------------------------------------------------------------------
# Context checks
# --------------------------------------------------------------------------------------------

_CLAUSE_BREAK = re.compile(r"[.!?;]+|\bbut\b|\bthough\b|\balthough\b|\bhowever\b|\banyway\b|\banyways\b")
_TOKEN = re.compile(r"[a-z0-9']+|,")
_NEGATION_NOISE = re.compile(
    r"\b(?:not a day goes by(?: that| when| where| without)?(?: i don't)?"
    r"|\w+n't (?:stop|stopped|help|shake|escape|get rid of|get over)|\w+n't been able to stop|can't stop|couldn't stop|can't help|can't get|can't shake|not sure|don't know|didn't know"
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
    r"\b(?:yes|yeah|yep|yea|i said yes|i am|i'm|i do|i have|i've|i was|sometimes|i did|kind of|a bit|i think so|honestly yes|often|lately)\b"
)
_DENY = re.compile(
    r"\b(?:no|nope|i haven't|i've not|i never|never have|never did|i'm not|i am not|i don't|i didn't(?! know)|not at all|i wouldn't|not really|never)\b"
)
_THIRD_PARTY = re.compile(
    r"\b(?:he|she|they|his|her|their|him|them|someone|somebody|people|person|anyone|everyone|"
    r"(?:my|a|his|her|their|our|your) (?:best friend|friend|brother|sister|mom|mum|mother|dad|father|cousin|uncle|aunt"
    r"|son|daughter|partner|husband|wife|boyfriend|girlfriend|ex|roommate|flatmate|classmate|coworker"
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
    r"|at the start|back when)\b"
)
_PRESENT = re.compile(
    r"\b(?:again|still(?! clean)|lately|recently|these days|right now|tonight|today|this week|currently|every day"
    r"|every night|most nights|at the moment|relapsed|relapse)\b"
)


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


def _clause_bounds(text: str, breaks: list[int], ends: list[int], start: int, end: int) -> tuple[int, int]:
    i = bisect_right(ends, start) - 1
    clause_start = ends[i] if i >= 0 else 0
    j = bisect_right(breaks, end)
    clause_end = breaks[j] if j < len(breaks) else len(text)
    return clause_start, clause_end


def _negated(before: str) -> bool:
    """True when one of the last four words before a match negates it ("I'm not suicidal")."""
    cleaned = _NEGATION_NOISE.sub(" ~ ", before)
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
    """True for a mention of the subject as a topic ("a documentary about suicide", "suicide prevention")."""
    near = " ".join(_TOKEN.findall(before)[-3:] + _TOKEN.findall(after)[:2])
    return bool(_TOPIC.search(near))


def _contextual_level(rule: _Rule, text: str, m: re.Match[str], breaks: list[int], ends: list[int]) -> str:
    if rule.kind == _FIXED:
        return rule.level
    clause_start, clause_end = _clause_bounds(text, breaks, ends, m.start(), m.end())
    before = text[clause_start:m.start()]
    clause = text[clause_start:clause_end]
    if _negated(before):
        return NONE
    if rule.kind == _SELF:
        if _REPORTED.search(before):
            rest = text[m.end():]
            affirmed, denied = bool(_AFFIRM.search(rest)), bool(_DENY.search(rest))
            if affirmed and not denied:
                return rule.level
            if denied and not affirmed:
                return NONE
            return UNCLEAR
        if _third_party(before, m.group(0)):
            return UNCLEAR if rule.level == CRISIS else NONE
        after = text[m.end():clause_end]
        if _topical(before, after):
            return NONE
        if rule.level == CRISIS and m.group(0).startswith(_NOUN_MENTIONS):
            if _PERSON_AFTER.match(after) or _MENTIONED.search(before):
                return UNCLEAR  # "my suicidal ex", "we talked about self harm"
    if _PAST.search(clause) and not _PRESENT.search(clause):
        return UNCLEAR if rule.level == CRISIS else NONE
    return rule.level


def _assess_normalized(text: str) -> tuple[str, str | None, bool]:
    masked, idiom_count = _IDIOMS.subn(" ~ ", text)
    breaks: list[int] = []
    ends: list[int] = []
    for b in _CLAUSE_BREAK.finditer(masked):
        breaks.append(b.start())
        ends.append(b.end())
    best_level, best_category = NONE, None
    for rule in _RULES:
        if _RANK[rule.level] <= _RANK[best_level]:
            continue
        for m in rule.pattern.finditer(masked):
            level = _contextual_level(rule, masked, m, breaks, ends)
            if _RANK[level] > _RANK[best_level]:
                best_level, best_category = level, rule.category
                if level == rule.level:
                    break
        if best_level == CRISIS:
            break
    return best_level, best_category, idiom_count > 0


def assess(text: str) -> SafetyResult:
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
        normalized = normalize(text)
        level, category, idiom = _assess_normalized(normalized)
        if level != CRISIS and _RUNS_RE.search(unicodedata.normalize("NFKC", text).casefold()):
            # Stretched words ("diiiie"): also try with every long run shortened to one letter.
            level1, category1, idiom1 = _assess_normalized(normalize(text, collapse_runs_to=1))
            if _RANK[level1] > _RANK[level]:
                level, category, idiom = level1, category1, idiom1
        if level != NONE:
            return SafetyResult(level, category, False)
        return SafetyResult(NONE, None, idiom)
    except Exception:  # pragma: no cover - defensive: a detector bug must never break a chat
        return SafetyResult(UNCLEAR, None, False)
