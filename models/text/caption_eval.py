"""How right the caption → mood reading is, on labelled captions: plain and cross-validated.

Pure functions over readings (MoodEstimate) and labels; the embedding is done once per caption
by the caller, and cross-validation refits only the small valence/arousal model per fold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from moodcast.models.mood import MoodEstimate, Taxonomy
from moodcast.models.text.caption_labels import (
    QUADRANTS,
    Labelled,
    quadrant_of,
    quadrant_recalls,
)
from moodcast.models.text.caption_mood import MoodVocabulary, has_words, no_reading, reading
from moodcast.models.text.caption_training import fit_rows
from moodcast.models.text.caption_va import QuadrantModel

CONFIDENCE_BINS = (0.0, 0.25, 0.5, 0.75, 1.0001)


@dataclass(frozen=True)
class Wrong:
    caption: str
    truth: str
    read_as: str
    mood: str
    confidence: float


@dataclass
class Evaluation:
    """Accuracy figures of a set of readings against their labels."""

    n: int
    quadrant: float
    valence: float
    arousal: float
    mood_in_quadrant: float  # the top mood's anchor lies in the reading's quadrant
    confusion: dict[str, dict[str, int]]  # truth → read as → count
    by_confidence: list[tuple[str, int, float | None]]  # (bin, readings, quadrant accuracy)
    wrong: list[Wrong] = field(default_factory=list)
    # Each labelled quadrant's share read right, and their mean: every quadrant counts the
    # same, so a reader that leans to the set's largest quadrant shows it (a camera's scenes
    # need not come in the labelled set's mix).
    recall: dict[str, float] = field(default_factory=dict)
    mean_recall: float = float("nan")

    def to_dict(self) -> dict[str, object]:
        return {"n": self.n, "quadrant": self.quadrant, "valence": self.valence,
                "arousal": self.arousal, "mood_in_quadrant": self.mood_in_quadrant,
                "confusion": self.confusion,
                "by_confidence": [list(b) for b in self.by_confidence],
                "recall": self.recall, "mean_recall": self.mean_recall,
                "wrong": [w.__dict__ for w in self.wrong]}  # fmt: skip


def evaluate(
    rows: Sequence[Labelled], readings: Sequence[MoodEstimate], taxonomy: Taxonomy
) -> Evaluation:
    read_as = [quadrant_of(r.valence, r.arousal) for r in readings]
    truth = [row.quadrant for row in rows]
    right = np.array([a == t for a, t in zip(read_as, truth, strict=True)])
    valence = np.mean([a[:2] == t[:2] for a, t in zip(read_as, truth, strict=True)])
    arousal = np.mean([a[3:] == t[3:] for a, t in zip(read_as, truth, strict=True)])
    anchors = {m.name: quadrant_of(m.valence, m.arousal) for m in taxonomy.moods}
    agree = np.mean([anchors[r.mood] == q for r, q in zip(readings, read_as, strict=True)])
    confusion = {t: {a: 0 for a in QUADRANTS} for t in QUADRANTS}
    for t, a in zip(truth, read_as, strict=True):
        confusion[t][a] += 1
    wrong = [
        Wrong(row.caption, row.quadrant, a, r.mood, round(r.confidence, 3))
        for row, r, a in zip(rows, readings, read_as, strict=True)
        if a != row.quadrant
    ]
    conf = np.array([r.confidence for r in readings])
    recall = quadrant_recalls(truth, right)
    return Evaluation(len(rows), float(right.mean()), float(valence), float(arousal),
                      float(agree), confusion, _by_confidence(conf, right), wrong, recall,
                      float(np.mean(list(recall.values()))))  # fmt: skip


def _by_confidence(
    confidence: NDArray[np.float64], right: NDArray[np.bool_]
) -> list[tuple[str, int, float | None]]:
    """(confidence range, readings in it, share of them in the right quadrant)."""
    table = []
    for low, high in pairwise(CONFIDENCE_BINS):
        inside = (confidence >= low) & (confidence < high)
        share = float(right[inside].mean()) if inside.any() else None
        table.append((f"{low:.2f}–{min(high, 1.0):.2f}", int(inside.sum()), share))
    return table


def read_all(
    rows: Sequence[Labelled], vectors: NDArray[np.float32], model: QuadrantModel,
    vocabulary: MoodVocabulary, taxonomy: Taxonomy,
) -> list[MoodEstimate]:  # fmt: skip
    """Readings of embedded captions through a valence/arousal model (as CaptionMood reads)."""
    odds = model.probabilities(vectors)
    return [
        reading(r.caption, p, vocabulary.similarity(v), taxonomy)
        if has_words(r.caption)
        else no_reading(r.caption, taxonomy)
        for r, p, v in zip(rows, odds, vectors, strict=True)
    ]


def cross_validate(
    rows: Sequence[Labelled], vectors: NDArray[np.float32], vocabulary: MoodVocabulary,
    taxonomy: Taxonomy,
    extra: Sequence[Labelled] = (), extra_vectors: NDArray[np.float32] | None = None,
    folds: int = 10, seed: int = 0,
) -> Evaluation:  # fmt: skip
    """k-fold: train on k−1 folds (plus ``extra``, never scored), read the held-out fold."""
    if folds < 2 or folds > len(rows):
        from moodcast.config.errors import MoodcastError

        raise MoodcastError(f"{folds} folds for {len(rows)} captions",
                            "use between 2 folds and one per caption")  # fmt: skip
    keys = {r.caption.casefold() for r in rows}
    keep = [i for i, r in enumerate(extra) if r.caption.casefold() not in keys]
    extra = [extra[i] for i in keep]
    ev = np.zeros((0, vectors.shape[1]), np.float32)
    if extra_vectors is not None and keep:
        ev = extra_vectors[keep]
    readings: list[MoodEstimate | None] = [None] * len(rows)
    order = np.random.default_rng(seed).permutation(len(rows))
    for fold in np.array_split(order, folds):
        train = np.setdiff1d(order, fold)
        model = fit_rows(np.vstack([vectors[train], ev]), [rows[i] for i in train] + list(extra))
        held_out = read_all([rows[i] for i in fold], vectors[fold], model, vocabulary, taxonomy)
        for i, estimate in zip(fold, held_out, strict=True):
            readings[i] = estimate
    return evaluate(rows, [r for r in readings if r is not None], taxonomy)


def report(result: Evaluation, title: str) -> str:
    """The figures as Markdown: accuracy, confusion matrix, confidence table, wrong readings."""
    lines = [
        f"### {title}",
        "",
        f"{result.n} captions: quadrant **{result.quadrant:.3f}**, valence {result.valence:.3f}, "
        f"arousal {result.arousal:.3f}; top named mood in the reading's quadrant "
        f"{result.mood_in_quadrant:.3f}; mean of the quadrants' recalls "
        f"{result.mean_recall:.3f} ("
        + ", ".join(f"{q} {r:.2f}" for q, r in result.recall.items())
        + ").",
        "",
        "| truth \\ read as | " + " | ".join(QUADRANTS) + " |",
        "|---|" + "---|" * len(QUADRANTS),
    ]
    for truth, row in result.confusion.items():
        lines.append(f"| {truth} | " + " | ".join(str(row[q]) for q in QUADRANTS) + " |")
    lines += ["", "| confidence | readings | right quadrant |", "|---|---|---|"]
    for label, n, share in result.by_confidence:
        lines.append(f"| {label} | {n} | {'–' if share is None else f'{share:.3f}'} |")
    if result.wrong:
        lines += [
            "",
            "| caption | truth | read as | named mood | confidence |",
            "|---|---|---|---|---|",
        ]
        for w in result.wrong:
            lines.append(
                f"| {w.caption} | {w.truth} | {w.read_as} | {w.mood} | {w.confidence:.2f} |"
            )
    return "\n".join(lines)
