"""Trains the heads of the language model into models/language.npz (`make train` runs this).

    .venv/bin/python -m bot.language.train [--out models/language.npz]

Training data, all from the repository (nothing is downloaded):
- corpus/therapist.train.yml and corpus/crisis.train.yml: real lines from public pages;
- corpus/authored/*.yml: lines we wrote ourselves (training only, never held out);
- data/nlu.yml: the intent examples (answers vs. everything else, for the relevance head).
The held-out files are never read here. Settings (C, the weight of our own lines) were chosen by
cross-validation grouped by source on the training side (`python -m bench.language --cv`).
Embeddings are cached in models/.embeddings.npz (keyed by text) so retraining is quick.
"""
from __future__ import annotations

import argparse
import hashlib
import logging
import math
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import yaml

from bot.language import corpus
from bot.language.encoder import DIMENSION, LAYERS_DIMENSION
from bot.language.heads import Head, fit
from bot.language.model import DEFAULT_PATH, READS, ROOT, LanguageModel, answer_features, data_fingerprint
from bot.language.normalize import normalise
from bot.language.rules import mask_idioms

logger = logging.getLogger(__name__)

NLU_PATH = ROOT / "data" / "nlu.yml"
CACHE_PATH = ROOT / "models" / ".embeddings.npz"
BANDS = ("negative", "mixed", "positive")
LEVELS = ("1", "2", "3", "4", "5")
CRISIS_LABELS = ("none", "indirect", "direct")
# Intents whose examples are "other" for the relevance head; crisis intents are left out (the
# crisis head reads those), and so is `answer` (that is the other class).
NOT_ANSWERS = ("greet", "goodbye", "thank", "affirm", "deny", "start_checkin", "ask_more", "ask_why",
               "ask_privacy", "skip_question", "go_back", "pause", "bot_challenge", "out_of_scope",
               "delete_data", "show_summary", "share_checkin", "keep_private")
# Regularisation strengths (scikit-learn's C), chosen by cross-validation on the training side.
C = {"band": 0.7, "level": 1.0, "relevance": 4.0, "crisis": 1.0}
AUTHORED_WEIGHT = 0.5  # our own lines count half as much as real ones


@dataclass
class Example:
    text: str
    label: str
    weight: float = 1.0
    group: str = ""  # the source, for grouped cross-validation ("" for our own lines)


@dataclass
class TrainingSets:
    band: list[Example] = field(default_factory=list)
    level: list[Example] = field(default_factory=list)
    relevance: list[Example] = field(default_factory=list)
    crisis: list[Example] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def nlu_examples(path: Path = NLU_PATH) -> dict[str, list[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: dict[str, list[str]] = {}
    for block in data.get("nlu") or []:
        if "intent" in block:
            lines = [re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", l[2:].strip()) for l in
                     str(block["examples"]).splitlines() if l.strip().startswith("- ")]
            out.setdefault(block["intent"], []).extend(lines)
    return out


def training_sets(directory: Path = corpus.CORPUS_DIR) -> TrainingSets:
    sets = TrainingSets()
    therapist = corpus.load(corpus.THERAPIST, "train", directory)
    crisis = corpus.load(corpus.CRISIS, "train", directory)
    sets.files += [corpus.path(corpus.THERAPIST, "train", directory), corpus.path(corpus.CRISIS, "train", directory)]
    authored_dir = directory / "authored"
    authored_therapist = corpus.load_authored(corpus.THERAPIST, directory)
    authored_crisis = corpus.load_authored(corpus.CRISIS, directory)
    sets.files += sorted(authored_dir.glob("*.yml")) if authored_dir.exists() else []
    nlu = nlu_examples()
    sets.files.append(NLU_PATH)

    for line in therapist:
        level = int(line.fields["level"])
        sets.band.append(Example(line.text, corpus.band(level), 1.0, line.source))
        sets.level.append(Example(line.text, str(level), 1.0, line.source))
        sets.relevance.append(Example(line.text, "answer", 1.0, line.source))
        sets.crisis.append(Example(line.text, "indirect" if line.fields.get("crisis_language") else "none",
                                   1.0, line.source))
    for item in authored_therapist:
        level = int(item["level"])
        sets.band.append(Example(item["text"], corpus.band(level), AUTHORED_WEIGHT))
        sets.level.append(Example(item["text"], str(level), AUTHORED_WEIGHT))
        sets.relevance.append(Example(item["text"], "answer", AUTHORED_WEIGHT))
        sets.crisis.append(Example(item["text"], "none", AUTHORED_WEIGHT))
    for line in crisis:
        sets.crisis.append(Example(line.text, line.fields["label"], 1.0, line.source))
    for item in authored_crisis:
        sets.crisis.append(Example(item["text"], item["label"], AUTHORED_WEIGHT))
    for text in nlu.get("answer", []):
        sets.relevance.append(Example(text, "answer", AUTHORED_WEIGHT))
        sets.crisis.append(Example(text, "none", AUTHORED_WEIGHT))
    for intent in NOT_ANSWERS:
        for text in nlu.get(intent, []):
            sets.relevance.append(Example(text, "other", AUTHORED_WEIGHT))
            sets.crisis.append(Example(text, "none", AUTHORED_WEIGHT))
    for text in nlu.get("crisis", []):
        sets.crisis.append(Example(text, "direct", AUTHORED_WEIGHT))
    for text in nlu.get("crisis_unclear", []):
        sets.crisis.append(Example(text, "indirect", AUTHORED_WEIGHT))
    return sets


class EmbeddingCache:
    """Embeddings of normalised texts, kept between runs (keyed by a hash of the text)."""

    def __init__(self, path: Path = CACHE_PATH) -> None:
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            try:
                with np.load(path, allow_pickle=False) as data:
                    if data["vectors"].shape[1] == LAYERS_DIMENSION:  # else: an older cache, recomputed
                        self.vectors = dict(zip((str(k) for k in data["keys"]), data["vectors"]))
            except (OSError, KeyError, ValueError):
                self.vectors = {}
        self.changed = False

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]

    def layers(self, normalised: list[str]) -> np.ndarray:
        """`Encoder.encode_layers` of each (already normalised) text, computing only what is missing."""
        from bot.language.encoder import encoder

        missing = [t for t in dict.fromkeys(normalised) if self.key(t) not in self.vectors]
        if missing:
            for text, vector in zip(missing, encoder().encode_layers(missing, batch_size=32)):
                self.vectors[self.key(text)] = vector
            self.changed = True
        if not normalised:
            return np.zeros((0, LAYERS_DIMENSION), dtype=np.float32)
        return np.stack([self.vectors[self.key(t)] for t in normalised])

    def save(self) -> None:
        if not self.changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self.vectors)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, keys=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys]))
        tmp.replace(self.path)


class CachedEncoder:
    """The encoder's `encode`, reading and filling an EmbeddingCache: cross-validation reads the same
    sentences fold after fold (keys are the texts as given, already normalised)."""

    def __init__(self, cache: EmbeddingCache) -> None:
        self.cache = cache

    def encode_layers(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self.cache.layers(texts)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self.cache.layers(texts)[:, -DIMENSION:]


def fit_head(examples: list[Example], classes: tuple[str, ...], c: float, cache: EmbeddingCache,
             features: str, view: Callable[[str], str] = lambda t: t) -> Head:
    """A head on `features` (one of model.SIZES) of `view(normalise(text))` for each example."""
    normalised = [view(normalise(e.text)) for e in examples]
    layers = cache.layers(normalised)
    if features == "answer":
        x = answer_features(layers, normalised)
    elif features == "layers":
        x = layers
    elif features == "sentence":
        x = layers[:, -DIMENSION:]
    else:
        raise ValueError(f"unknown features {features!r}")
    return fit(x, [e.label for e in examples], classes, c=c, sample_weight=np.array([e.weight for e in examples]))


def fit_heads(sets: TrainingSets, cache: EmbeddingCache,
              keep: Callable[[list[Example]], list[Example]] = lambda examples: examples) -> dict[str, Head]:
    """Every head, on the examples `keep` leaves (cross-validation leaves a fold out), each on what
    model.READS says it reads; the crisis head on the text with harmless idioms masked, as
    model.py reads it."""
    return {
        "band": fit_head(keep(sets.band), BANDS, C["band"], cache, READS["band"]),
        "level": fit_head(keep(sets.level), LEVELS, C["level"], cache, READS["level"]),
        "relevance": fit_head(keep(sets.relevance), ("answer", "other"), C["relevance"], cache, READS["relevance"]),
        "crisis": fit_head(keep(sets.crisis), CRISIS_LABELS, C["crisis"], cache, READS["crisis"], mask_idioms),
    }


SALIENT_WORDS = 400


def salience_weights(examples: list[Example]) -> dict[str, float]:
    """Words that mark warning-sign language: smoothed log-odds of appearing in a direct or
    indirect line rather than in any other line, the top SALIENT_WORDS. Only used to choose where
    to read a very long message (model.py), never to decide."""
    risky: Counter[str] = Counter()
    other: Counter[str] = Counter()
    n_risky = n_other = 0
    for e in examples:
        words = set(normalise(e.text).split())
        if e.label in ("direct", "indirect"):
            risky.update(words)
            n_risky += 1
        else:
            other.update(words)
            n_other += 1
    scores = {}
    for word, count in risky.items():
        if count < 3 or not any(c.isalpha() for c in word):
            continue
        scores[word] = math.log((count + 1) / (n_risky + 2)) - math.log((other[word] + 1) / (n_other + 2))
    top = sorted((w for w in scores if scores[w] > 0), key=scores.__getitem__, reverse=True)[:SALIENT_WORDS]
    return {w: round(scores[w], 4) for w in top}


def train(out: Path = DEFAULT_PATH, directory: Path = corpus.CORPUS_DIR) -> LanguageModel:
    from bot.language.encoder import encoder

    started = time.perf_counter()
    sets = training_sets(directory)
    cache = EmbeddingCache()
    heads = fit_heads(sets, cache)
    cache.save()
    info = {
        "data": data_fingerprint(sets.files),
        "examples": {name: len(getattr(sets, name)) for name in ("band", "level", "relevance", "crisis")},
        "seconds": round(time.perf_counter() - started, 1),
    }
    model = LanguageModel(encoder(), heads, info, salience_weights(sets.crisis))
    model.save(out)
    return model


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    model = train(args.out)
    print(f"language model: {args.out} ({model.info['examples']}, {model.info['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
