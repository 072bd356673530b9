"""Small classifiers on sentence embeddings: fitted with scikit-learn, run with numpy.

A `Head` is a multinomial logistic regression: `probabilities(x) = softmax(x @ weights + bias)`.
It is fitted by scikit-learn's LogisticRegression (a well-kept library) and kept as plain arrays,
so loading one needs no pickle and running one is a matrix product.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Head:
    classes: tuple[str, ...]
    weights: np.ndarray  # (features, classes)
    bias: np.ndarray  # (classes,)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """(n, classes) probabilities for (n, features) inputs (or one (features,) input)."""
        single = x.ndim == 1
        logits = np.atleast_2d(x) @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        return p[0] if single else p

    def as_arrays(self, name: str) -> dict[str, np.ndarray]:
        return {f"{name}.classes": np.array(self.classes), f"{name}.weights": self.weights,
                f"{name}.bias": self.bias}

    @classmethod
    def from_arrays(cls, arrays: dict, name: str) -> "Head":
        return cls(tuple(str(c) for c in arrays[f"{name}.classes"]),
                   np.asarray(arrays[f"{name}.weights"], dtype=np.float32),
                   np.asarray(arrays[f"{name}.bias"], dtype=np.float32))


def fit(x: np.ndarray, labels: Sequence[str], classes: Sequence[str], c: float = 1.0,
        sample_weight: np.ndarray | None = None, balanced: bool = True) -> Head:
    """A head fitted to (x, labels); every class in `classes` must occur in `labels`."""
    from sklearn.linear_model import LogisticRegression

    index = {name: i for i, name in enumerate(classes)}
    y = np.array([index[label] for label in labels])
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced" if balanced else None,
                               random_state=0)
    model.fit(x, y, sample_weight=sample_weight)
    if len(classes) == 2:  # scikit-learn keeps one column for two classes
        weights = np.hstack([-model.coef_.T / 2, model.coef_.T / 2])
        bias = np.array([-model.intercept_[0] / 2, model.intercept_[0] / 2])
    else:
        weights, bias = model.coef_.T, model.intercept_
    return Head(tuple(classes), weights.astype(np.float32), bias.astype(np.float32))
