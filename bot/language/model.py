"""The learned part of Rapport's language understanding: one encoder, a few small heads.

`LanguageModel.analyse(text)` embeds a message once (the whole message, and its sentences when
there are several) and runs every head on it:

- `crisis`: none / indirect / direct warning-sign language, per sentence (the highest counts),
- `band`: negative / mixed / positive, what the words say about the therapist,
- `level`: 1-5 within that,
- `relevance`: answer / other, whether the words answer a question about the therapist at all.

The heads are trained by `python -m bot.language.train` (`make train`) into models/language.npz
from the training side of the corpus and our own lines; nothing is downloaded. The decisions made
from these numbers (thresholds, what to say) live in answers.py and safety.py.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from bot.language.encoder import DIMENSION, LAYERS_DIMENSION, Encoder, encoder
from bot.language.heads import Head
from bot.language.rules import mask_idioms
from bot.scoring import score_answer

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PATH = ROOT / "models" / "language.npz"
HEADS = ("crisis", "band", "level", "relevance")
# What each head reads (`analyse` reads them so, train.fit_heads trains them so): "layers", every
# layer of the embedding (Encoder.encode_layers); "answer", those and the lexicon's reading
# (answer_features); "sentence", the sentence embedding alone. And how many numbers that is.
READS = {"crisis": "layers", "band": "answer", "level": "answer", "relevance": "sentence"}
LEXICON_FEATURES = 6  # lexicon_features: no level, or 1-5
SIZES = {"layers": LAYERS_DIMENSION, "answer": LAYERS_DIMENSION + LEXICON_FEATURES, "sentence": DIMENSION}
MAX_SENTENCES = 3  # sentences embedded one by one for the crisis head (the most salient ones)
LONG_CHARS = 2000  # a longer message is read through one excerpt, so reading it stays bounded:
EXCERPT_CHARS = 200  # the sentence the rules flagged, or the most salient one (about 45 word pieces)
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")


@dataclass(frozen=True)
class Analysis:
    """What the heads read in one message (probabilities keyed by class name)."""

    crisis: dict[str, float]  # the most worrying sentence's probabilities
    band: dict[str, float]
    level: dict[str, float]
    relevance: dict[str, float]
    sentences: int = 1
    words: int = 0  # in the message (at most what was read)

    @property
    def crisis_risk(self) -> float:
        return self.crisis.get("direct", 0.0) + self.crisis.get("indirect", 0.0)


@dataclass
class LanguageModel:
    encoder: Encoder
    heads: dict[str, Head]
    info: dict = field(default_factory=dict)
    salience: dict[str, float] = field(default_factory=dict)  # word -> weight (warning-sign words)

    def analyse(self, normalised: str, risky_sentences: Optional[list[str]] = None) -> Analysis:
        """Reads a message already passed through `bot.language.normalize.normalise`.

        A message of up to LONG_CHARS is embedded whole, and sentence by sentence (up to
        MAX_SENTENCES) for the crisis head, so one worrying sentence in a long answer is not
        diluted. A longer one is read through one excerpt: `risky_sentences[0]` (where a crisis
        rule matched) or else its most salient sentence (`salience`), so the cost is bounded
        whatever the length.
        """
        if len(normalised) > LONG_CHARS:
            excerpt = (risky_sentences[0] if risky_sentences else None) or self.salient_sentence(normalised)
            texts = [excerpt[:EXCERPT_CHARS]]
            count = MAX_SENTENCES
        else:
            sentences = [s.strip() for s in _SENTENCE.findall(normalised) if len(s.split()) >= 2]
            if len(sentences) > MAX_SENTENCES:
                sentences.sort(key=self.salience_of, reverse=True)  # stable: ties keep their order
            chosen = list(dict.fromkeys((risky_sentences or []) + sentences))[:MAX_SENTENCES]
            texts = [normalised] + (chosen if len(sentences) > 1 else [])
            count = max(1, len(sentences))
        # The crisis head reads the texts with harmless idioms masked (rules.mask_idioms), as it
        # was trained; the other heads read the words as written.
        masked = [mask_idioms(t) for t in texts]
        unique = list(dict.fromkeys(texts + masked))
        layers = dict(zip(unique, self.encoder.encode_layers(unique)))
        whole = layers[texts[0]][-DIMENSION:]
        with_lexicon = answer_features(layers[texts[0]][None, :], texts[:1])[0]
        crisis_rows = self.heads["crisis"].probabilities(np.stack([layers[t] for t in masked]))
        worst = crisis_rows[int(np.argmin(crisis_rows[:, _index(self.heads["crisis"], "none")]))]
        return Analysis(
            crisis=_named(self.heads["crisis"], worst),
            band=_named(self.heads["band"], self.heads["band"].probabilities(with_lexicon)),
            level=_named(self.heads["level"], self.heads["level"].probabilities(with_lexicon)),
            relevance=_named(self.heads["relevance"], self.heads["relevance"].probabilities(whole)),
            sentences=count,
            words=sum(1 for w in normalised[:LONG_CHARS].split() if any(c.isalnum() for c in w)),
        )

    def salience_of(self, sentence: str) -> float:
        """How much a sentence sounds like warning-sign language, by its words (weights learned
        from the training data in train.py). Only chooses what to read, never decides."""
        return sum(self.salience.get(w, 0.0) for w in set(sentence.split()))

    def salient_sentence(self, normalised: str) -> str:
        """The most salient sentence: where to read a very long message (the first if none is)."""
        best, best_score = "", 0.0
        for match in _SENTENCE.finditer(normalised):
            score = self.salience_of(match.group(0))
            if not best or score > best_score:
                best, best_score = match.group(0), max(score, best_score)
        return best.strip() or normalised[:EXCERPT_CHARS]

    def crisis_probabilities(self, normalised: str) -> dict[str, float]:
        """The crisis head on one normalised text, read as `analyse` reads it."""
        row = self.heads["crisis"].probabilities(self.encoder.encode_layers([mask_idioms(normalised)])[0])
        return _named(self.heads["crisis"], row)

    def band_probabilities(self, texts: list[str]) -> list[dict[str, float]]:
        """The band head on each of `texts` (already normalised or plain: both embed alike)."""
        if not texts:
            return []
        rows = self.heads["band"].probabilities(answer_features(self.encoder.encode_layers(texts), texts))
        return [_named(self.heads["band"], row) for row in rows]

    def save(self, path: Path = DEFAULT_PATH) -> None:
        arrays: dict[str, np.ndarray] = {"info": np.array(json.dumps(self.info))}
        for name, head in self.heads.items():
            arrays.update(head.as_arrays(name))
        words = sorted(self.salience)
        arrays["salience.words"] = np.array(words)
        arrays["salience.weights"] = np.array([self.salience[w] for w in words], dtype=np.float32)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, path)


LEXICON_WEIGHT = 0.2  # scale of the lexicon's one-hot reading beside the 384 embedding numbers


def lexicon_features(normalised: str) -> np.ndarray:
    """The hand-written lexicon's reading (bot/scoring.py) as six numbers: no level, or 1-5.
    The band and level heads read it beside the embedding: the lexicon knows negation and the
    scale's own words, the embedding knows meaning; the head learns how far to trust each."""
    level = score_answer(normalised)
    features = np.zeros(LEXICON_FEATURES, dtype=np.float32)
    features[0 if level is None else level] = LEXICON_WEIGHT
    return features


def answer_features(layers: np.ndarray, texts: list[str]) -> np.ndarray:
    """What the band and level heads read for each text: every layer of its embedding
    (`Encoder.encode_layers`) and the lexicon's reading (`lexicon_features`)."""
    return np.hstack([layers, np.stack([lexicon_features(t) for t in texts])])


def _index(head: Head, name: str) -> int:
    return head.classes.index(name)


def _named(head: Head, row: np.ndarray) -> dict[str, float]:
    return {name: float(p) for name, p in zip(head.classes, row)}


def model_path() -> Path:
    return Path(os.environ.get("RAPPORT_LANGUAGE_MODEL") or DEFAULT_PATH)


def load_model(path: Optional[Path] = None) -> LanguageModel:
    """Loads the heads from `path` (models/language.npz) and the encoder. FileNotFoundError if the
    model was not trained yet (`make train`)."""
    path = path or model_path()
    started = time.perf_counter()
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    heads = {name: Head.from_arrays(arrays, name) for name in HEADS}
    for name, head in heads.items():
        if head.weights.shape[0] != SIZES[READS[name]]:
            raise ValueError(f"{path}: the {name} head reads {head.weights.shape[0]} numbers where this code gives "
                             f"{SIZES[READS[name]]}: it was trained by older code; run `make train`")
    info = json.loads(str(arrays["info"]))
    salience = dict(zip((str(w) for w in arrays["salience.words"]), (float(x) for x in arrays["salience.weights"])))
    model = LanguageModel(encoder(), heads, info, salience)
    logger.info("language model loaded in %.2f s (%s)", time.perf_counter() - started, path.name)
    return model


_LOCK = threading.Lock()
_CACHE: dict[str, Optional[LanguageModel]] = {}


def shared_model() -> Optional[LanguageModel]:
    """The process's model, loaded once; None (logged as an error once) when it is missing, so the
    deterministic layers keep working. `make train` builds it."""
    key = str(model_path())
    with _LOCK:
        if key not in _CACHE:
            try:
                _CACHE[key] = load_model(Path(key))
            except (FileNotFoundError, KeyError, ValueError, ImportError) as error:
                logger.error("language model unavailable (%s: %s): run `make train`; only the rules and "
                             "the lexicon are in use", type(error).__name__, error)
                _CACHE[key] = None
        return _CACHE[key]


def data_fingerprint(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for p in sorted(paths):
        digest.update(p.name.encode())
        digest.update(p.read_bytes())
    return digest.hexdigest()[:16]
