"""bot.language.encoder, heads and model: the learned part, run with numpy."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.language.encoder import DIMENSION, LAYERS_DIMENSION, encoder
from bot.language.heads import Head, fit
from bot.language.model import LONG_CHARS, MAX_SENTENCES, LanguageModel, load_model, model_path
from bot.language.normalize import normalise

ROOT = Path(__file__).resolve().parents[2]


def test_the_encoder_gives_the_published_similarities() -> None:
    """sentence-transformers' own example for all-MiniLM-L6-v2: 0.6660, 0.1046, 0.1411."""
    v = encoder().encode(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
    sims = v @ v.T
    assert v.shape == (3, DIMENSION) and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert sims[0, 1] == pytest.approx(0.6660, abs=5e-4)
    assert sims[0, 2] == pytest.approx(0.1046, abs=5e-4)
    assert sims[1, 2] == pytest.approx(0.1411, abs=5e-4)


def test_padding_does_not_change_an_embedding() -> None:
    short, long = "she listens", "she listens to every word I say, even when I ramble for a long time"
    alone = encoder().encode([short])[0]
    batched = encoder().encode([short, long])[0]
    assert np.allclose(alone, batched, atol=1e-5)


def test_every_layer_is_pooled_and_the_last_is_the_sentence_embedding() -> None:
    texts = ["she never listens to me", "she listens to every word"]
    layers = encoder().encode_layers(texts)
    assert layers.shape == (2, LAYERS_DIMENSION)
    blocks = layers.reshape(2, LAYERS_DIMENSION // DIMENSION, DIMENSION)
    assert np.allclose(np.linalg.norm(blocks, axis=2), 1.0, atol=1e-5)
    assert np.allclose(blocks[:, -1], encoder().encode(texts), atol=1e-6)
    assert not np.allclose(blocks[:, 0], blocks[:, -1], atol=1e-2)  # earlier layers read differently


def test_cross_validation_reads_embeddings_through_the_cache(tmp_path: Path, monkeypatch) -> None:
    """bench.language --cv embeds each sentence once, not once per fold (train.CachedEncoder)."""
    import bot.language.encoder as encoder_module
    from bot.language.train import CachedEncoder, EmbeddingCache

    cache = EmbeddingCache(tmp_path / "embeddings.npz")
    cached = CachedEncoder(cache)
    texts = ["she listens to me", "i want to kill myself", "she listens to me"]
    vectors = cached.encode(texts)
    assert np.allclose(vectors, encoder().encode(texts), atol=1e-5)
    assert np.allclose(cached.encode_layers(texts), encoder().encode_layers(texts), atol=1e-5)
    assert len(cache.vectors) == 2 and cache.changed
    monkeypatch.setattr(encoder_module, "encoder", None)  # a text already read is never embedded again
    assert np.array_equal(cached.encode(texts[1:]), vectors[1:])
    assert cached.encode([]).shape == (0, DIMENSION)


def test_a_cache_of_an_older_shape_is_recomputed_not_misread(tmp_path: Path) -> None:
    from bot.language.train import EmbeddingCache

    path = tmp_path / "embeddings.npz"
    np.savez_compressed(path, keys=np.array([EmbeddingCache.key("she listens")]),
                        vectors=np.ones((1, DIMENSION), dtype=np.float32))
    cache = EmbeddingCache(path)
    assert cache.vectors == {}
    assert cache.layers(["she listens"]).shape == (1, LAYERS_DIMENSION)


def test_heads_fit_save_and_load_as_plain_arrays(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5))
    labels = ["a" if row[0] > 0 else "b" for row in x]
    head = fit(x, labels, ("a", "b"))
    p = head.probabilities(x)
    assert p.shape == (60, 2) and np.allclose(p.sum(axis=1), 1)
    assert np.mean((p[:, 0] > 0.5) == (x[:, 0] > 0)) > 0.9
    again = Head.from_arrays(head.as_arrays("h"), "h")
    assert np.allclose(again.probabilities(x), p, atol=1e-6)


def test_the_trained_model_loads_and_reads_a_message() -> None:
    model = load_model()
    analysis = model.analyse(normalise("She really listens to me. I feel heard every week."))
    assert set(analysis.band) == {"negative", "mixed", "positive"}
    assert abs(sum(analysis.crisis.values()) - 1) < 1e-5 and analysis.sentences == 2
    assert model.info["examples"]["band"] > 1000


def test_a_model_trained_by_older_code_is_refused_with_what_to_do(tmp_path: Path) -> None:
    trained = load_model()
    old = tmp_path / "language.npz"
    heads = dict(trained.heads)
    crisis = heads["crisis"]
    heads["crisis"] = Head(crisis.classes, crisis.weights[-DIMENSION:], crisis.bias)  # the sentence embedding only
    LanguageModel(trained.encoder, heads, trained.info, trained.salience).save(old)
    with pytest.raises(ValueError, match="crisis head reads 384 numbers.*make train"):
        load_model(old)


class CountingEncoder:
    def __init__(self, real):
        self.real, self.calls = real, []

    def encode(self, texts, batch_size=16):
        self.calls.append(list(texts))
        return self.real.encode(texts, batch_size)

    def encode_layers(self, texts, batch_size=16):
        self.calls.append(list(texts))
        return self.real.encode_layers(texts, batch_size)


def test_a_very_long_message_is_read_through_one_bounded_excerpt() -> None:
    model = load_model()
    counting = CountingEncoder(model.encoder)
    bounded = LanguageModel(counting, model.heads, model.info, model.salience)
    text = normalise("She listens to me and I like her. " * 3000 + " I have been saving my pills for weeks.")
    bounded.analyse(text)
    texts = [t for call in counting.calls for t in call]
    assert len(text) > LONG_CHARS and len(texts) <= 2 and all(len(t) <= 300 for t in texts)
    assert any("pills" in t for t in texts)  # the most salient sentence, found without reading all
    counting.calls.clear()
    bounded.analyse(normalise(" ".join(f"Sentence number {i} is here." for i in range(20))))
    assert len([t for call in counting.calls for t in call]) <= 2 * (MAX_SENTENCES + 1)


def test_nothing_is_fetched_from_a_model_hub(tmp_path: Path) -> None:
    """The encoder loads and embeds with HF_HUB_OFFLINE=1 and every connection other than to
    this machine refused."""
    script = (
        "import socket\n"
        "real = socket.socket.connect\n"
        "def guarded(self, address):\n"
        "    host = address[0] if isinstance(address, tuple) else address\n"
        "    if host not in ('127.0.0.1', '::1', 'localhost'):\n"
        "        raise OSError('network to ' + str(host) + ' is blocked in this test')\n"
        "    return real(self, address)\n"
        "socket.socket.connect = guarded\n"
        "from bot.language.model import load_model\n"
        "m = load_model()\n"
        "a = m.analyse('she never listens to me')\n"
        "print('ok', round(sum(a.band.values()), 3))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HOME=str(tmp_path / "hf"),
               PYTHONPATH=str(ROOT), RAPPORT_LANGUAGE_MODEL=str(model_path()))
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok 1.0"
    assert not (tmp_path / "hf").exists()  # no hub cache was even created
