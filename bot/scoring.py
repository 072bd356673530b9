"""Turn a client's free-text answer into a 1-5 score (or None when the words carry no answer).

Levels: 1 not at all · 2 a little · 3 somewhat · 4 mostly · 5 completely.

How it works, in order:
1. Normalise: lowercase, strip accents, map emoji to positive / negative / shrug markers, fix common
   SMS spellings ("rly", "kinda", "def") and near-miss typos of key words ("mostley", "compleetly").
2. Ratings written as numbers win: "4", "3/5", "4 out of 5", "10/10", "100%", "50/50", "0".
3. Otherwise the words are matched against a phrase lexicon: answer levels ("not at all", "a little",
   "somewhat", "mostly", "completely" and their variants), yes / no words, frequency and degree
   adverbs ("always", "never", "a bit", "very"), negators, hedges ("i guess"), doubt ("not sure")
   and words that describe the therapist ("listens", "kind", "talks over me", "cold").
4. The message is split on contrast words ("but", "though"); each part is scored, and parts that
   disagree ("she's kind but I'm not sure she understands me") make a mixed answer, 3.

Choices worth knowing: a bare "yes" is 4 (mostly), not 5 — a plain yes says the answer is positive,
not that nothing could be better; "yes totally" or "yes, she's so kind" reach 5. A bare "no" is 1.
"I don't know", "not sure", "hard to say" give None; `is_unsure` tells those apart from gibberish so
the bot can help the client pick a level instead of re-asking.

Pure Python, deterministic, never raises.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from bot.dimensions import band

__all__ = ["score_answer", "is_unsure", "numeric_rating", "leading_answer"]

# --------------------------------------------------------------------------------------------
# Lexicon
# --------------------------------------------------------------------------------------------

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


# Answer levels that do not modify a description ("not at all, she ..." is an answer of 1).
_ANSWERS: dict[int, tuple[str, ...]] = {
    1: (
        "not at all", "not even close", "no way", "not in the slightest", "not one bit",
        "not even a little", "not even a bit", "definitely not", "absolutely not", "of course not",
        "certainly not", "totally not", "hell no", "heck no", "zero", "none", "nada", "not a bit",
        "pas du tout", "absolument pas", "para nada", "en absoluto", "gar nicht", "uberhaupt nicht",
        "nicht im geringsten", "de ninguna manera",
    ),
    2: (
        "not much", "not a lot", "not that much", "not so much", "not too much", "not often",
        "probably not", "i don't think so", "don't think so", "i guess not", "i suppose not",
        "not particularly", "not especially", "very little", "little", "not quite enough",
        "pas vraiment", "pas trop", "pas beaucoup", "un peu", "no mucho", "no tanto", "no realmente",
        "un poco", "poco", "ein bisschen", "ein wenig", "nicht wirklich", "nicht so", "nicht sehr",
        "nicht so sehr", "kaum", "not as much", "not as much as i'd like", "not enough",
        "not as much as i would like", "not as often as i'd like", "less than i'd like",
        "used to be better", "i wouldn't say so", "wouldn't say so", "i wouldn't say that",
        "not that i can tell", "not that i've noticed", "not that i know of", "not as good as before", "not like before",
    ),
    3: (
        "yes and no", "yes but no", "yes but also no", "no and yes", "more or less", "so so", "meh",
        "mixed", "in between", "in the middle", "somewhere in the middle", "halfway",
        "half and half", "half the time", "half", "hit or miss", "hit and miss", "on and off",
        "off and on", "it depends", "depends", "getting there", "partly", "partially",
        "in some ways", "in a way", "to some extent", "to a degree", "not completely",
        "not totally", "not entirely", "not fully", "not quite", "average", "not bad",
        "could be better", "middle", "complicated", "it's complicated", "getting better", "neutral", "depende", "mas o menos", "asi asi", "regular",
        "si y no", "comme ci comme ca", "bof", "moyen", "plus ou moins", "oui et non", "en partie",
        "geht so", "so lala", "teils teils", "naja", "ja und nein", "mittel", "maybe",
        "perhaps", "possibly",
    ),
    4: (
        "pretty much", "for the most part", "largely", "mainly", "mostly yes", "quite a bit",
        "overall yes", "probably", "i'd say so", "bastante", "plutot", "plutot oui", "casi siempre",
        "la plupart du temps", "fast immer", "ziemlich", "eher ja", "most definitely",
        "mostly true", "no complaints", "no complaint", "can't complain", "no problems",
        "no issues", "nothing to complain about",
    ),
    5: (
        "entirely", "fully", "100 percent",
        "hundred percent", "for sure", "of course", "certainly", "without a doubt", "no doubt",
        "without question", "by all means", "undoubtedly", "very much", "very much so",
        "totalement", "completement", "absolument", "tout a fait", "bien sur",
        "claro", "claro que si", "por supuesto", "totalmente", "completamente", "absolutamente",
        "definitivamente", "auf jeden fall", "absolut", "vollig", "komplett", "naturlich",
        "na klar", "positively", "one hundred percent",
    ),
}

# Weak, lukewarm answers: used only when nothing stronger is said ("it's ok", "fine", "i guess").
_HEDGES: tuple[str, ...] = (
    "i guess", "i suppose", "guess so", "i guess so", "suppose so", "i suppose so", "ok", "okay",
    "alright", "fine", "decent", "fair", "eh", "ish", "tries", "she tries", "he tries",
    "they try", "trying", "tries her best", "tries his best", "does her best", "does his best",
    "doing her best", "doing his best", "doing their best", "makes an effort", "trying her best",
    "trying his best", "trying their best", "tries hard",
)

# Modifiers: (answer level alone, level with a positive description, level with a negative one).
_MODIFIERS: dict[str, tuple[int, int, int]] = {
    # frequency
    "always": (5, 5, 1), "all the time": (5, 5, 1), "constantly": (5, 5, 1),
    "every time": (5, 5, 1), "every session": (5, 5, 1), "every week": (5, 5, 1),
    "consistently": (5, 5, 1), "without fail": (5, 5, 1),
    "usually": (4, 4, 2), "mostly": (4, 4, 2), "most of the time": (4, 4, 2),
    "often": (4, 4, 2), "generally": (4, 4, 2), "frequently": (4, 4, 2),
    "a lot of the time": (4, 4, 2), "normally": (4, 4, 2), "typically": (4, 4, 2),
    "sometimes": (3, 3, 2), "occasionally": (3, 3, 2), "at times": (3, 3, 2),
    "some days": (3, 3, 2), "now and then": (3, 3, 2), "every now and then": (3, 3, 2),
    "from time to time": (3, 3, 2), "some of the time": (3, 3, 2), "not always": (3, 3, 4),
    "rarely": (2, 2, 4), "seldom": (2, 2, 4), "hardly": (2, 2, 4), "barely": (2, 2, 4),
    "hardly ever": (2, 2, 4), "almost never": (1, 1, 5),
    "never": (1, 1, 5), "not ever": (1, 1, 5), "not once": (1, 1, 5),
    "siempre": (5, 5, 1), "toujours": (5, 5, 1), "immer": (5, 5, 1),
    "a veces": (3, 3, 2), "parfois": (3, 3, 2), "manchmal": (3, 3, 2), "meistens": (4, 4, 2),
    "nunca": (1, 1, 5), "jamais": (1, 1, 5), "nie": (1, 1, 5),
    # degree
    "a little": (2, 2, 2), "a bit": (2, 2, 2), "a little bit": (2, 2, 2), "slightly": (2, 2, 2),
    "a tad": (2, 2, 2), "a touch": (2, 2, 2), "somewhat": (3, 3, 2), "kind of": (3, 3, 2),
    "sort of": (3, 3, 2), "moderately": (3, 3, 2), "reasonably": (3, 3, 2), "fairly": (4, 4, 2),
    "pretty": (0, 4, 2), "rather": (0, 4, 2), "quite": (4, 4, 2),
    "not very": (2, 2, 4), "not really": (2, 2, 4), "not that": (0, 2, 4), "not so": (0, 2, 4),
    "not too": (0, 2, 4), "not exactly": (2, 2, 4), "not super": (0, 2, 4),
    "not particularly": (2, 2, 4), "not overly": (0, 2, 4),
    "very": (5, 5, 1), "really": (0, 5, 1), "so": (0, 5, 1), "super": (5, 5, 1),
    "extremely": (5, 5, 1), "incredibly": (5, 5, 1), "truly": (0, 5, 1), "genuinely": (0, 5, 1),
    "deeply": (5, 5, 1), "hugely": (5, 5, 1), "such": (0, 5, 1), "such a": (0, 5, 1), "seriously": (0, 5, 1),
    "exactly": (0, 5, 1), "a lot": (4, 5, 1), "lots": (4, 5, 1), "a ton": (5, 5, 1),
    "totally": (5, 5, 1), "completely": (5, 5, 1), "absolutely": (5, 5, 1),
    "definitely": (5, 5, 1), "for sure": (5, 5, 1), "so much": (5, 5, 1), "too": (0, 4, 1),
    "muy": (0, 5, 1), "tres": (0, 5, 1), "sehr": (5, 5, 1), "vraiment": (0, 5, 1),
    "mucho": (4, 5, 1), "beaucoup": (4, 5, 1), "sooo": (0, 5, 1), "hella": (0, 5, 1),
}

_YES: tuple[str, ...] = (
    "yes", "yeah", "yea", "ya", "yah", "yep", "yup", "yas", "ye", "yeh", "yess", "yesh", "sure",
    "i do", "she does", "he does", "they do", "i think so", "i believe so", "think so",
    "indeed", "affirmative", "uh huh", "mhm", "mhmm", "correct", "si", "oui", "ja", "no yes",
    "jep", "jawohl", "claro", "yes i do", "i would say so", "i'd say yes", "true",
    "i feel that way", "for real",
)

_NO: tuple[str, ...] = (
    "no", "nope", "nah", "naw", "nay", "nop", "non", "nein", "no no", "negative", "yes no",
    "not really no",
)

_NEGATORS: tuple[str, ...] = (
    "don't", "doesn't", "didn't", "isn't", "aren't", "wasn't", "weren't", "can't", "cannot",
    "won't", "wouldn't", "couldn't", "hasn't", "haven't", "ain't", "shouldn't", "not", "nobody",
    "no one", "nothing", "without", "lack", "lacks", "lacking", "neither", "nor", "i don't",
    "i do not", "she doesn't", "he doesn't", "they don't", "does not", "do not", "did not",
    "she does not", "he does not", "they do not", "she did not", "he did not", "they did not",
    "is not", "are not", "was not", "never really", "ne", "pas", "nicht", "kein", "keine",
    "don't really", "doesn't really",
)

_DOUBT: tuple[str, ...] = (
    "i don't know", "don't know", "do not know", "not sure", "unsure", "hard to say",
    "hard to tell", "difficult to say", "tough to say", "can't say", "cannot say", "can't tell",
    "no clue", "no idea", "i have no idea", "dunno", "who knows", "not certain", "uncertain",
    "i'm torn", "not sure yet", "too early to tell", "too soon to tell", "too early to say",
    "too soon to say", "no se", "je sais pas", "je ne sais pas", "sais pas", "keine ahnung",
    "weiss nicht", "weiss ich nicht", "ich weiss nicht", "__shrug__", "idk",
    "haven't decided", "not sure how to answer", "not really sure", "not too sure",
    "not so sure", "not very sure", "not entirely sure", "not totally sure", "not 100 sure",
    "not 100 percent sure", "not a hundred percent sure", "not completely sure", "i can't decide", "can't decide",
)

_CONFUSED: tuple[str, ...] = (
    "i don't get it", "i don't understand", "don't understand the question",
    "i don't understand the question", "what do you mean", "what does that mean",
)

# Words and phrases that describe the therapist (or how the client feels with them).
_POSITIVE: tuple[str, ...] = (
    # listening / hearing
    "listen", "listens", "listened", "listening", "listener", "good listener", "hear", "hears",
    "heard", "hearing me", "lets me talk", "lets me finish", "lets me speak", "gives me space",
    "pays attention", "paying attention", "attentive", "remembers", "remember", "remembered",
    "takes me seriously", "take me seriously", "took me seriously", "follows up",
    # understanding
    "understand", "understands", "understood", "understanding", "gets me", "get me", "got me",
    "gets it", "get it", "gets how", "get how", "gets why", "get why", "gets who", "get who",
    "gets what", "get what", "gets where", "knows me", "knows", "they know", "she knows",
    "he knows", "sees me", "see me", "seen", "feel seen", "insightful", "spot on", "on point",
    "makes sense of", "clicks", "we click", "connect", "connected", "connection",
    # warmth
    "kind", "kindness", "warm", "warmth", "friendly", "gentle", "lovely", "nice", "sweet",
    "caring", "cares", "care", "cared", "compassionate", "compassion", "empathetic", "empathic",
    "empathy", "patient", "supportive", "support", "supports", "supported", "supporting",
    "encouraging", "encourages", "encouraged", "encouragement", "validating", "validates",
    "validated", "safe", "comfortable", "welcoming", "welcomed", "welcome", "accepting",
    "accepted", "nonjudgmental", "non judgmental", "reassuring", "calming", "soothing",
    "thoughtful", "great", "good", "better", "cool", "chill", "the best",
    "can tell her anything", "can tell him anything", "can tell them anything",
    "tell her anything", "tell him anything", "tell them anything", "easy to talk to",
    "can talk to her", "can talk to him", "can talk to them", "open up", "makes time for me",
    "there for me", "is there for me", "means well", "mean well", "heart is in the right place",
    "heart's in the right place", "good intentions", "well meaning", "shows up for me", "gets my", "like her", "like him",
    "like them", "i like her", "i like him", "i like them", "wonderful", "amazing", "awesome", "fantastic", "excellent",
    "best", "brilliant", "helpful", "helps", "helped", "love", "loves", "adore", "trust",
    "trusts", "trusted", "genuine", "authentic", "honest",
    # worth / respect
    "respect", "respects", "respected", "respectful", "respecting", "value", "values", "valued",
    "matter", "matters", "important", "worthy", "dignity", "equal", "as an equal",
    "like a person", "like a human", "like an adult", "like a real person", "appreciated",
    "appreciates",
    # on my team / advocacy
    "my side", "takes my side", "take my side", "took my side", "advocate", "advocates", "advocated", "advocating", "advocacy", "on my side", "on our side",
    "by my side", "on my team", "same team", "a team", "team", "teammate", "in my corner",
    "has my back", "have my back", "got my back", "rooting for me", "rooting", "cheering me on",
    "cheerleader", "believes in me", "believe in me", "backs me up", "back me up",
    "stands up for", "stand up for", "stood up for", "standing up for", "sticks up for",
    "stick up for", "stuck up for", "fights for", "fight for", "fought for", "fighting for",
    "pushes for", "push for", "pushed for", "pushing for", "goes to bat for", "went to bat for",
    "in my favor", "partner", "partnership", "collaborative", "we work together",
    "work together",
    # other languages
    "gentille", "gentil", "chaleureux", "chaleureuse", "bienveillant", "bienveillante",
    "m'ecoute", "me comprend", "amable", "calida", "calido", "carinosa", "carinoso",
    "me escucha", "me entiende", "nett", "freundlich", "herzlich", "hort mir zu",
    "versteht mich", "__pos__",
)

_NEGATIVE: tuple[str, ...] = (
    # not listening
    "interrupt", "interrupts", "interrupted", "interrupting", "interruption", "interruptions",
    "talks over", "talk over", "talking over", "talked over", "cuts me off", "cut me off",
    "ignore", "ignores", "ignored", "ignoring", "distracted", "bored", "boring", "rushed",
    "rushes", "rushing", "rush", "late", "cancels", "cancelled", "canceled", "cancelling",
    "canceling", "no show", "checked out", "checks out", "disengaged", "uninterested",
    "not interested", "sucks", "suck", "on his phone", "on her phone", "on their phone",
    "on the phone", "on the computer", "checks her phone", "checks his phone", "texting",
    "watches the clock", "checks the clock", "looks at the clock", "clock watching", "zoned out",
    "zones out", "bad listener", "poor listener", "terrible listener", "awful listener",
    "not a good listener", "forget", "forgets", "forgot", "forgetting", "forgetful", "a wall",
    "brick wall", "wall", "talking to a wall", "not listening", "doesn't listen",
    # not understanding
    "misunderstand", "misunderstands", "misunderstood", "misunderstanding", "misread",
    "misreads", "mixes me up", "mixing me up", "mixed me up", "mix me up", "confuses me with",
    "has no idea", "have no idea", "clueless", "off base", "way off", "generic", "cookie cutter",
    "one size fits all",
    # coldness
    "cold", "distant", "detached", "clinical", "robotic", "robot", "rude", "harsh", "mean",
    "dismissive", "dismisses", "dismissed", "dismissing", "brushes me off", "brushed me off",
    "judged", "judgy", "judgmental", "judgemental", "judging", "judges", "judge",
    "condescending", "patronizing", "patronising", "talks down", "talk down", "talking down",
    "talked down", "impatient", "annoyed", "irritated", "lectures", "lectured", "lecturing",
    "preachy", "snaps", "snapped", "yells", "sarcastic", "rolls her eyes", "rolls his eyes",
    "uncaring", "doesn't care", "indifferent", "unsupportive", "unhelpful", "useless",
    "uncomfortable", "unsafe", "awkward", "fake", "bad", "terrible", "awful", "horrible",
    "worse", "worst", "hate", "disrespect", "disrespectful", "disrespected", "blames",
    "blamed", "blaming", "blame", "pushy", "invalidating", "invalidated", "gaslight",
    "gaslights", "gaslighting",
    # worth
    "stupid", "dumb", "small", "worthless", "invisible", "unheard", "unseen", "unimportant",
    "a number", "just a number", "another number", "just another", "a case", "a paycheck",
    "a burden", "burden", "wasting her time", "wasting his time", "wasting their time",
    "waste of time", "a waste", "pointless", "an inconvenience", "a bother", "crazy", "inferior", "like a child", "like a kid", "belittles",
    "belittled", "belittling",
    # not on my team
    "sided with", "sides with", "takes his side", "takes her side", "took his side",
    "took her side", "side", "on my own", "by myself", "alone", "lonely", "against me",
    "not on my side", "doesn't advocate",
    # other languages
    "froid", "froide", "frio", "fria", "kalt", "distante", "grosero", "grossier", "__neg__",
)

# Phrases that look like lexicon words but mean nothing here.
_IGNORED: tuple[str, ...] = (
    "side effects", "side effect", "in case", "just in case", "kind regards", "what kind",
    "that kind", "this kind", "any kind", "no problem", "no worries", "i feel like", "feel like",
    "looks like", "seems like", "like i said", "to be honest", "tbh", "be honest", "honestly",
    "so far", "so yeah", "or so", "and so", "so that", "so i", "not sure why", "help me",
    "needs help", "need help", "good morning", "good night", "good evening", "good afternoon",
    "thank you", "thanks", "how are you", "for now", "right now", "rough week", "rough day",
    "bad day", "bad week", "hard week", "bad news", "not yet",
)

# Words that, after a leading number, show the number is not a rating ("3 sessions in").
_UNIT_WORDS = frozenset(
    "times time sessions session weeks week months month years year days day minutes mins hours "
    "hrs people things of visits appointments therapists x am pm".split()
)

_CONTRAST = frozenset(["but", "though", "tho", "although", "altho", "however", "except", "mais",
                       "pero", "aber", "whereas", "while"])

# SMS spellings and contractions → canonical tokens (may expand to several tokens).
_SPELLING: dict[str, str] = {
    "dont": "don't", "doesnt": "doesn't", "didnt": "didn't", "isnt": "isn't", "arent": "aren't",
    "wasnt": "wasn't", "werent": "weren't", "cant": "can't", "wont": "won't",
    "wouldnt": "wouldn't", "couldnt": "couldn't", "hasnt": "hasn't", "havent": "haven't",
    "aint": "ain't", "shouldnt": "shouldn't", "dnt": "don't", "doesn": "doesn't",
    "shes": "she's", "hes": "he's", "theyre": "they're", "im": "i'm", "ive": "i've", "id": "i'd",
    "youre": "you're", "thats": "that's", "its": "it's", "whats": "what's",
    "idk": "i don't know", "idek": "i don't know", "dunno": "dunno", "donno": "dunno",
    "rly": "really", "rlly": "really", "realy": "really", "reallly": "really", "relly": "really",
    "kinda": "kind of", "kina": "kind of", "kindof": "kind of", "sorta": "sort of",
    "sortof": "sort of", "def": "definitely", "deff": "definitely", "defo": "definitely",
    "defs": "definitely", "defintely": "definitely", "prolly": "probably", "prob": "probably",
    "probs": "probably", "alot": "a lot", "abit": "a bit", "alittle": "a little",
    "ya": "yes", "yah": "yes", "yea": "yes", "yeah": "yes", "yeh": "yes", "yep": "yes",
    "yup": "yes", "yas": "yes", "yess": "yes", "yesh": "yes", "ye": "yes", "yeahh": "yes",
    "yee": "yes", "ys": "yes", "y": "yes", "yuh": "yes",
    "nah": "no", "naw": "no", "nope": "no", "nop": "no", "na": "no", "nay": "no", "noo": "no",
    "n": "no", "nahh": "no",
    "ok": "ok", "okay": "ok", "okey": "ok", "k": "ok", "kk": "ok", "okie": "ok", "oki": "ok",
    "u": "you", "ur": "your", "bc": "because", "cuz": "because", "coz": "because", "tho": "though",
    "thru": "through", "tbh": "tbh", "v": "very", "sooo": "so", "soo": "so", "srsly": "seriously",
    "ppl": "people", "w": "with", "pls": "please", "plz": "please", "mhmm": "mhm", "mmhmm": "mhm",
    "uhuh": "uh huh", "nonjudgemental": "nonjudgmental", "nvr": "never", "alwys": "always",
    "smtimes": "sometimes", "sumtimes": "sometimes", "somtimes": "sometimes", "sometime": "sometimes",
    "mostlyy": "mostly", "totes": "totally", "abs": "absolutely", "absolutly": "absolutely",
    "definately": "definitely", "definetly": "definitely", "comepletely": "completely",
    "completly": "completely", "compltely": "completely", "somewat": "somewhat",
    "somewht": "somewhat", "undrstands": "understands", "lisen": "listen", "lisens": "listens",
    "mostley": "mostly", "mosty": "mostly", "moslty": "mostly", "meh": "meh", "mehh": "meh",
    "weiß": "weiss", "ish": "ish",
}

# Key words whose near-miss spellings are corrected (edit distance 1, or 2 for long words).
_TYPO_TARGETS: tuple[str, ...] = (
    "completely", "absolutely", "definitely", "totally", "somewhat", "sometimes", "mostly",
    "always", "usually", "generally", "partially", "partly", "understands", "understand",
    "listens", "listen", "supportive", "respectful", "respects", "caring", "condescending",
    "dismissive", "interrupts", "probably", "certainly", "entirely", "occasionally", "rarely",
    "barely", "hardly", "really", "never", "honestly", "actually", "judgmental", "encouraging",
    "advocates", "advocate", "compassionate", "empathetic", "distracted", "kind of",
)

_FILLER = frozenset(
    "i i'm i've i'd me my you your um umm uh uhh hmm hmmm hm well so just really honestly tbh "
    "to be honest actually like lol haha sorry ugh oh ah ahh yet right now this that it it's "
    "one question how answer rate say the a about at moment currently okay ok still tho though "
    "and or anyway anyways rn".split()
)


def _build_lexicon() -> dict[tuple[str, ...], _Entry]:
    lexicon: dict[tuple[str, ...], _Entry] = {}

    def add(phrases: Iterable[str], entry: _Entry) -> None:
        for phrase in phrases:
            key = tuple(_simple_tokens(phrase))
            if key and key not in lexicon:
                lexicon[key] = entry

    # Most specific kinds first: the first definition of a phrase wins.
    add(_IGNORED, _Entry(IGNORE))
    add(_CONFUSED, _Entry(CONFUSED))
    add(_DOUBT, _Entry(DOUBT))
    add(["at all", "whatsoever", "in the slightest"], _Entry(AT_ALL))
    for value, phrases in _ANSWERS.items():
        add(phrases, _Entry(LEVEL, value))
    for phrase, (value, pos, neg) in _MODIFIERS.items():
        add([phrase], _Entry(MOD, value, pos, neg))
    add(_YES, _Entry(YES, 4))
    add(_NO, _Entry(NO, 1))
    add(_NEGATORS, _Entry(NEGATOR))
    add(_HEDGES, _Entry(HEDGE, 3))
    add(_NEGATIVE, _Entry(NEG, 2))
    add(_POSITIVE, _Entry(POS, 4))
    return lexicon


def _simple_tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9_]+(?:'[a-z]+)?", text.lower())


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

_POS_EMOJI = (
    "👍", "❤", "♥", "💕", "💖", "💗", "💓", "💞", "💘", "💝", "💙", "💚", "💛", "💜", "🧡", "🤍",
    "🤎", "🥰", "😍", "😊", "🙂", "😀", "😃", "😄", "😁", "☺", "🤗", "👌", "🙌", "👏", "✅", "✔",
    "😌", "🫶", "💟", "❣",
)
_NEG_EMOJI = (
    "👎", "😢", "😞", "😔", "☹", "🙁", "😭", "😡", "😠", "💔", "😒", "😕", "😟", "😥", "😿",
    "😩", "😫", "😣", "😖", "❌", "✖", "🤬", "😤",
)
_SHRUG_EMOJI = ("🤷",)
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
    for ch in _POS_EMOJI:
        text = text.replace(ch, " __pos__ ")
    for ch in _NEG_EMOJI:
        text = text.replace(ch, " __neg__ ")
    for ch in _SHRUG_EMOJI:
        text = text.replace(ch, " __shrug__ ")
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
        if candidate in known or candidate in _SPELLING:
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
    for target in _TYPO_TARGETS:
        if " " in target or len(target) < 6:
            continue
        limit = 2 if len(target) >= 9 and len(token) >= 8 else 1
        distance = _edit_distance(token, target, limit)
        if distance <= limit and distance < best_distance:
            best, best_distance = target, distance
    return best


@lru_cache(maxsize=1)
def _lexicon() -> dict[tuple[str, ...], _Entry]:
    return _build_lexicon()


@lru_cache(maxsize=1)
def _longest_phrase() -> int:
    return max(len(k) for k in _lexicon())


@lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    words = {w for key in _lexicon() for w in key}
    words.update(w for value in _SPELLING.values() for w in value.split())
    return frozenset(words)


_COMMON_WORDS = frozenset(
    "she he they her him them his their it its is are was were be been being have has had do "
    "does did my me mine you your we our us the a an and or of to in on at for with about from "
    "by as that this these those there here what when where why how who which feel feels felt "
    "like just also even still then than more less most very much many some any all every "
    "think thought know knew say said tell told make makes made talk talks talked time session "
    "sessions therapist therapy week weeks day days thing things stuff people person lot bit "
    "little can could would should will may might must get gets got go goes went come comes "
    "lately family".split()
)


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
        if token in _SPELLING:
            out.extend(_SPELLING[token].split())
            continue
        if token not in known and token not in _COMMON_WORDS:
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
    lexicon = _lexicon()
    longest = _longest_phrase()
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


# "I wouldn't say completely" is somewhat; "I wouldn't say somewhat" leans lower.
_NEGATED_LEVEL = {5: 3, 4: 3, 3: 2, 2: 2, 1: 3}


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


# Single words that answer the question only in a short reply or at the start of one
# ("a lot" → 4, but not in "we talk about my mom a lot").
_LOOSE_ANSWERS = frozenset([
    ("little",), ("half",), ("middle",), ("average",), ("neutral",), ("regular",), ("mixed",),
    ("none",), ("zero",), ("a", "lot"), ("lots",), ("quite",), ("fairly",), ("poco",),
    ("depends",), ("probably",), ("maybe",), ("perhaps",), ("possibly",),
    ("complicated",), ("a", "ton"),
])
# Intensifiers answer on their own ("very", "extremely so") but not inside a sentence.
_INTENSIFIER_ANSWERS = frozenset([("very",), ("super",), ("extremely",), ("incredibly",),
                                  ("deeply",), ("hugely",)])


def _stands_as_answer(hit: _Hit, tokens: list[str], hits: list[_Hit], words: int) -> bool:
    """A loose answer word counts in a short reply, or when only yes/no/filler come before it."""
    phrase = tuple(tokens[hit.start:hit.end])
    if phrase in _INTENSIFIER_ANSWERS:
        return words <= 2
    if phrase not in _LOOSE_ANSWERS or words <= 4:
        return True
    covered = {i for h in hits if h.end <= hit.start and h.entry.kind in (YES, NO, HEDGE)
               for i in range(h.start, h.end)}
    return all(i in covered or tokens[i] in _FILLER or tokens[i] == ","
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
                    a.entry = _Entry(a.entry.kind, _NEGATED_LEVEL[a.entry.value], a.entry.pos,
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
    now = bool({"now", "lately", "nowadays", "recently"} & set(tokens)) or "these days" in " ".join(tokens)
    return _Segment(score, doubt, words, now)


# Ratings written as numbers.
_NUMBER = r"(?<![\d.,])(\d{1,4}(?:[.,]\d{1,2})?)"  # bounded: no slow backtracking
_RE_FIFTY = re.compile(r"(?<![\d.])50\s*(?:/|-|:)\s*50(?![\d.])")
_RE_RATIO = re.compile(_NUMBER + r"\s*(?:/|out of|of|outta|from)\s*(\d{1,3})(?![\d.])")
_RE_PERCENT = re.compile(r"(?<![\d.])" + _NUMBER + r"\s*(?:%|percent|pc\b|per cent)")
_RE_LEADING = re.compile(r"^\W*(?:(?:i'?d|i would|i'll|id)\s+(?:say|give(?: (?:it|her|him|them))?)\s+"
                         r"|(?:maybe|about|around|like|prob(?:ably)?|a solid|solid|a)\s+)*"
                         + r"(\d{1,4}(?:[.,]\d{1,2})?)(?![\d%/.,])(.*)$", re.S)
_WORD_NUMBERS = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                 "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}


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
    if 1 <= len(words) <= 4 and all(w.strip(".,!?") in _WORD_NUMBERS or w.strip(".,!?") in (
            "out", "of", "maybe", "a", "solid", "like", "about") for w in words):
        short = " ".join(_WORD_NUMBERS.get(w.strip(".,!?"), w.strip(".,!?")) for w in words)
        return _numeric_score(short) if re.search(r"\d", short) else None
    m = _RE_LEADING.match(short)
    if m:
        rest = m.group(2)
        next_word = re.match(r"\s*([a-z]+)", rest)
        if rest.strip() and not re.match(r"\s*[.,;:!?)\-–—]", rest):
            if next_word is None or next_word.group(1) in _UNIT_WORDS:
                return None
            if len(rest.split()) > 6:
                return None
        value = _to_float(m.group(1))
        if value <= 5:
            return max(1, min(5, math.floor(value + 0.5)))
        if value <= 10:
            return _scale(value / 10)
    return None


_QUESTION_START = re.compile(
    r"^\W*(?:what|what's|why|how|who|when|where|which|wdym|huh|pardon|excuse me|can we|can you|"
    r"could you|could we|do you|are you|is this|will you|should i|wait|hello|hi|hey)\b"
)


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
        if not hits or any(i not in covered and t not in _FILLER and t != "," for i, t in enumerate(tokens)):
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
        if token in _CONTRAST and not (token == "while" and i + 1 < len(tokens)
                                       and tokens[i + 1] in ("ago", "back")):
            segments.append([])
        else:
            segments[-1].append(token)
    scored = [_score_segment(seg) for seg in segments if any(t != "," for t in seg)]
    present = [s.score for s in scored if s.score is not None]
    if not present:
        return None
    if _QUESTION_START.match(norm) and not _has_answer_words(tokens):
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
    rest = [t for i, t in enumerate(tokens) if i not in covered and t != "," and t not in _FILLER]
    return not rest
