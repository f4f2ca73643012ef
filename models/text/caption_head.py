"""A caption → mood classifier head trained on a user's labelled captions (optional).

Softmax regression over the sentence embeddings, in numpy: small enough to train on the
device, and it replaces the mood-sentence similarity when present in the models folder as
``head.<taxonomy>.npz``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from moodcast.config.errors import MoodcastError


def read_labelled(path: Path, moods: tuple[str, ...]) -> tuple[list[str], list[int]]:
    """(captions, mood indices) from a CSV with ``caption`` and ``mood`` columns."""
    captions, labels = [], []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"caption", "mood"} <= set(reader.fieldnames):
            raise MoodcastError(f"{path} needs the columns caption and mood")
        for line, row in enumerate(reader, start=2):
            mood = (row.get("mood") or "").strip()
            if mood not in moods:
                raise MoodcastError(f"{path}:{line}: unknown mood {mood!r}",
                                    f"use one of {', '.join(moods)}")  # fmt: skip
            captions.append((row.get("caption") or "").strip())
            labels.append(moods.index(mood))
    if len(set(labels)) < 2:
        raise MoodcastError(f"{path} needs examples of at least two moods")
    return captions, labels


def train(
    x: NDArray[np.float32], y: list[int], classes: int, epochs: int = 400, lr: float = 0.5,
    l2: float = 1e-3,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:  # fmt: skip
    """Full-batch gradient descent on the cross-entropy; returns (weights, bias)."""
    n, d = x.shape
    w = np.zeros((d, classes), np.float32)
    b = np.zeros(classes, np.float32)
    onehot = np.eye(classes, dtype=np.float32)[y]
    for _ in range(epochs):
        p = softmax(x @ w + b)
        grad = (p - onehot) / n
        w -= lr * (x.T @ grad + l2 * w)
        b -= lr * grad.sum(axis=0)
    return w, b


def softmax(z: NDArray[np.float32]) -> NDArray[np.float32]:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    result: NDArray[np.float32] = (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)
    return result
