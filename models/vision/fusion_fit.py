"""Fitting the scene fusion on labelled photographs, with k-fold cross-validation.

Pure numpy on a table of cues (one dict per photograph, as ``SceneReader.observe`` gives)
and the quadrant each was labelled with. Each axis is one logistic regression; the cue group
and the regularisation are chosen by cross-validation (``scripts/fit_scene_fusion.py``: the
least log-loss over repeated splits). ``Balance`` weighs up what the set has few of: each
axis's sides halfway towards equal weight (the labelled set is three quarters pleasant and a
camera's rooms need not be, yet fully equal weights made the reader call plain rooms
unpleasant; halfway is the best over 5 and 10 folds), and on top each quadrant halfway: what
packages ship is two thirds pleasant and calm, which says what was easy to find, not what
cameras see, and with each source held out that made the reader better on the rare quadrants
(docs/scene-reader.md). The confidence is fitted with each quadrant weighed equally, for the
same reason: how often a sure reading is right depends on the mix of scenes it is read on.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from moodcast.models.text.caption_labels import quadrant_recalls
from moodcast.models.vision import fusion
from moodcast.models.vision.fusion import (
    Appearance,
    Axis,
    ClassTable,
    Neighbours,
    SceneFusion,
    fit_axis,
)

RIDGES = (0.3, 1.0, 3.0, 10.0, 30.0)
CUE_LIMIT = 3.0  # standard deviations a cue's z-score is held within (fusion.SceneFusion)
# Of the classifier's pooled features (of all its views), tried in cross-validation.
COMPONENTS = (20, 40, 60, 80, 100, 120, 150)
Looks = Sequence[NDArray[np.float32]]  # the classifier's pooled features, one row per photograph


@dataclass(frozen=True)
class Memory:
    """How the fit's table of its photographs' nearest (fusion.Neighbours) is built and read:
    chosen on random shares of the sources read by fits on the rest (docs/scene-reader.md)."""

    k: int = 15
    sharpness: float = 10.0
    weight: float = 0.2
    directions: int = 32  # of the standardised features kept: the file stays small


MEMORY = Memory()


@dataclass(frozen=True)
class Probe:
    """How the classifier's pooled features enter a fit: their leading principal components
    (over the photographs fitted on), standardised like the cues."""

    looks: Looks  # each row the named views' pooled features, one after the other
    components: int
    model_sha256: str
    views: tuple[str, ...] = ("frame",)
    style: int = 0  # how many of the frame's style statistics follow (fusion.Appearance.style)
    # The same photographs' features under each of COPIES (the fit's augmentation), row for
    # row with ``looks``; empty: the photographs alone.
    copies: tuple[Looks, ...] = ()
    # The nearest-photograph table the fit also builds from ``looks`` (None: none).
    memory: Memory | None = None

    def subset(self, rows: Sequence[int]) -> Probe:
        return replace(self, looks=[self.looks[i] for i in rows],
                       copies=tuple([copy[i] for i in rows] for copy in self.copies))  # fmt: skip


# What each photograph is also fitted as: mirrored, and cut to four fifths of each side (its
# middle and its corners). A camera frames a scene a little differently from the photograph
# its mood was labelled on; fitted on the copies too, each source held out, the reader was
# right on 386 of 482 photographs against 382, log-loss 0.572 against 0.593
# (docs/scene-reader.md). Only the fit reads them: a frame is read once, as before.
COPIES = ("mirrored", "middle", "top-left", "top-right", "bottom-left", "bottom-right")
CUT = 0.8  # of each side, for the cut copies


def copy_of(frame: NDArray[Any], name: str) -> NDArray[Any]:
    """The copy of ``frame`` that ``name`` (one of COPIES) names, contiguous for the classifier."""
    if name not in COPIES:
        raise ValueError(f"unknown copy {name!r} (known: {', '.join(COPIES)})")
    if name == "mirrored":
        return np.ascontiguousarray(frame[:, ::-1])
    height, width = frame.shape[:2]
    high, wide = max(1, int(height * CUT)), max(1, int(width * CUT))
    top = {"top": 0, "bottom": height - high}.get(name[: name.find("-")], (height - high) // 2)
    left = {"left": 0, "right": width - wide}.get(name[name.find("-") + 1 :], (width - wide) // 2)
    return np.ascontiguousarray(frame[top : top + high, left : left + wide])


def sides(quadrants: Sequence[str]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """1 where the label is pleasant (HV) / lively (HA), else 0."""
    return (np.array([q.startswith("HV") for q in quadrants], dtype=np.float64),
            np.array([q.endswith("HA") for q in quadrants], dtype=np.float64))  # fmt: skip


def balanced(y: NDArray[np.float64], balance: float = 1.0) -> NDArray[np.float64]:
    """Weights that move each side of an axis towards the same total (``balance`` 1: equal)."""
    positive = max(float(y.sum()), 1.0)
    negative = max(float(len(y) - y.sum()), 1.0)
    equal = np.where(y > 0.5, len(y) / (2 * positive), len(y) / (2 * negative))
    return np.asarray(equal**balance, dtype=np.float64)


def quadrant_weights(quadrants: Sequence[str], power: float) -> NDArray[np.float64]:
    """Each photograph's weight (n / (kinds * n_quadrant)) ** power, scaled to mean 1: the
    quadrants the set has few of count for more (power 0: all alike, 1: each quadrant equal)."""
    labels = np.asarray(quadrants)
    kinds, index, counts = np.unique(labels, return_inverse=True, return_counts=True)
    weights = (len(labels) / (len(kinds) * counts[index].astype(np.float64))) ** power
    return np.asarray(weights / weights.mean(), dtype=np.float64)


@dataclass(frozen=True)
class Balance:
    """How far the fit moves towards equal weight (0: as the set has them, 1: equal): each
    axis's two sides, and on top of that each quadrant."""

    sides: float = 0.5
    # Halfway since the round after 2ce1c00, with the table of nearest photographs beside the
    # fit (fusion.Neighbours): together as often right as a quarter without it, with sources
    # held out, and the rare quadrants read right more often (docs/scene-reader.md).
    quadrants: float = 0.5
    # The confidence curve's readings, each quadrant weighed towards equal (1: equal). Fitted
    # on the set as it is (0, until the round after a773cee), readings at 0.75 or more from
    # unseen sources were right 0.885 of the time on the set's own mix (two thirds pleasant,
    # calm scenes), 0.817 on a mix like the and 0.774 with each quadrant equally
    # often; equal: 0.932, 0.870, 0.834. A camera's scenes need not be the packages'; equal
    # costs sure readings of calm scenes, not their quadrant (docs/scene-reader.md).
    confidence: float = 1.0

    def weights(self, y: NDArray[np.float64], quadrants: Sequence[str]) -> NDArray[np.float64]:
        return balanced(y, self.sides) * quadrant_weights(quadrants, self.quadrants)


BALANCE = Balance()


def matrix(rows: Sequence[Mapping[str, float]], features: Sequence[str]) -> NDArray[np.float64]:
    return np.array([[float(r.get(f, np.nan)) for f in features] for r in rows], dtype=np.float64)


def standardiser(x: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean and scale per column over the finite values (a column never seen: 0 and 1)."""
    finite = np.isfinite(x)
    counts = np.maximum(finite.sum(axis=0), 1)
    mean = np.where(finite, x, 0.0).sum(axis=0) / counts
    var = np.where(finite, (x - mean) ** 2, 0.0).sum(axis=0) / counts
    scale = np.sqrt(var)
    return mean, np.where(scale > 1e-9, scale, 1.0)


def fit(rows: Sequence[Mapping[str, float]], quadrants: Sequence[str], features: Sequence[str],
        ridge: float, classes: ClassTable, training: Mapping[str, Any],
        balance: Balance = BALANCE, probe: Probe | None = None) -> SceneFusion:  # fmt: skip
    """The fusion fitted on every row (with the classifier's features when ``probe`` says)."""
    x = matrix(rows, features)
    mean, scale = standardiser(x)
    z = fusion.zscores(x, mean, scale, CUE_LIMIT)
    basis, factors, looks = None, np.ones(0), np.zeros((0, 0))
    times = 1  # each photograph's rows: itself and its copies
    if probe is not None and probe.components > 0:
        times += len(probe.copies)
        looks = np.vstack([np.asarray(part, dtype=np.float64)
                           for part in (probe.looks, *probe.copies)])  # fmt: skip
        factors = _factors(looks, probe.style)
        basis = _principal(looks * factors, probe.components, len(probe.looks))
        z = np.hstack([np.tile(z, (times, 1)), basis[3]])
    pleasant, lively = sides(quadrants)
    # A photograph weighs as much with its copies as without: each row a share of it.
    axes: list[Axis] = [fit_axis(z, np.tile(y, times),
                                 ridge, np.tile(balance.weights(y, quadrants), times) / times)
                        for y in (pleasant, lively)]  # fmt: skip
    appearance = None
    if basis is not None and probe is not None:
        n = len(features)
        _, directions, spread, _ = basis
        # One weight a feature, on the features as read (the factors folded in too).
        folded = [factors * (directions.T @ (a.weights[n:] / spread)) for a in axes]
        centre = looks.mean(axis=0)
        offset = np.array([centre @ folded[0], centre @ folded[1]])
        seen = looks @ np.stack(folded, axis=1) - offset
        limit = np.maximum(np.abs(seen).max(axis=0), 1e-6)
        appearance = Appearance(folded[0], folded[1], offset, probe.model_sha256, limit,
                                probe.views, probe.style)  # fmt: skip
        axes = [Axis(a.weights[:n], a.bias) for a in axes]
    near = None
    if appearance is not None and probe is not None and probe.memory is not None:
        near = neighbours(np.asarray(probe.looks, dtype=np.float64), pleasant, lively,
                          probe.memory)  # fmt: skip
    return SceneFusion(tuple(features), mean, scale, axes[0], axes[1], classes, dict(training),
                       appearance=appearance, cue_limit=CUE_LIMIT, neighbours=near)  # fmt: skip


def neighbours(looks: NDArray[np.float64], pleasant: NDArray[np.float64],
               lively: NDArray[np.float64], memory: Memory) -> Neighbours | None:  # fmt: skip
    """The table of the photographs (not their copies: a frame's nearest would be one
    photograph seven times) on the leading directions of their standardised features; None
    for a single photograph, which has no direction."""
    if len(looks) < 2:
        return None
    mean, scale = standardiser(looks)
    z = (looks - mean) / scale  # centred already: the mean is these photographs'
    basis = _directions(z, min(memory.directions, len(z) - 1))
    rows = z @ basis.T
    rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    return Neighbours(mean, scale, basis, rows, np.stack([pleasant, lively], axis=1), memory.k,
                      memory.sharpness, np.full(2, memory.weight))  # fmt: skip


def _factors(looks: NDArray[np.float64], style: int) -> NDArray[np.float64]:
    """What each feature is multiplied by before the principal components: 1 for the pooled
    features; each style statistic standardised (they come in different units, block by
    block), and the style block as a whole given the pooled features' total variance, so that
    neither part drowns the other (a constant statistic: 0, it tells nothing)."""
    factors = np.ones(looks.shape[1])
    if style:
        spread = looks[:, -style:].std(axis=0)
        pooled = float(looks[:, :-style].var(axis=0).sum()) or float(style)
        safe = np.where(spread > 1e-9, spread, 1.0)
        factors[-style:] = np.where(spread > 1e-9, np.sqrt(pooled / style) / safe, 0.0)
    return factors


def _principal(looks: NDArray[np.float64], components: int,
               photographs: int | None = None) -> tuple[NDArray[np.float64], ...]:  # fmt: skip
    """Centre, leading directions and their spread, and the standardised projections; with
    copies after the first ``photographs`` rows, the directions within the photographs'
    span (:func:`_span_directions`)."""
    centre = looks.mean(axis=0)
    centred = looks - centre
    if photographs is None or photographs >= len(looks):
        directions = _directions(centred, components)
    else:
        directions = _span_directions(centred, components, photographs)
    projected = centred @ directions.T
    spread = projected.std(axis=0)
    spread = np.where(spread > 1e-9, spread, 1.0)
    return centre, directions, spread, projected / spread


def _directions(centred: NDArray[np.float64], components: int) -> NDArray[np.float64]:
    """The leading principal directions (rows) of centred rows. With fewer photographs than
    features (hundreds against the five views' 7,328) they come from the photographs' Gram
    matrix: its eigenvectors carried back to the features, about ten times faster than the
    full SVD, which the nested by-source calibration runs thousands of times. The full SVD
    where the leading eigenvalues are not clear of zero (fewer independent rows than
    components), as before."""
    rows, width = centred.shape
    if rows <= width and components < rows:
        values, vectors = np.linalg.eigh(centred @ centred.T)
        order = np.argsort(values)[::-1][:components]
        values, vectors = values[order], vectors[:, order]
        if values[-1] > 1e-9 * max(values[0], 1e-300):
            directions = (vectors.T @ centred) / np.sqrt(values)[:, None]
            return np.asarray(directions, dtype=np.float64)
    _, _, directions = np.linalg.svd(centred, full_matrices=False)
    return np.asarray(directions[:components], dtype=np.float64)


def _span_directions(centred: NDArray[np.float64], components: int,
                     photographs: int) -> NDArray[np.float64]:  # fmt: skip
    """The leading principal directions of all the rows (photographs and their copies),
    within the span of the first ``photographs`` rows: the full decomposition of seven times
    the rows took minutes for one by-source pass here against 26 s, too slow for the nested
    by-source calibration's thousands of fits, and the directions outside that span read one
    photograph more (387 of 482 right each source held out, against 386;
    docs/scene-reader.md)."""
    own = centred[:photographs]
    if photographs >= centred.shape[1]:
        return _directions(centred, components)
    values, vectors = np.linalg.eigh(own @ own.T)
    kept = values > 1e-9 * max(float(values.max()), 1e-300)
    basis = (vectors[:, kept].T @ own) / np.sqrt(values[kept])[:, None]  # orthonormal rows
    inside = centred @ basis.T
    spread, turn = np.linalg.eigh(inside.T @ inside)
    order = np.argsort(spread)[::-1][:components]
    return np.asarray(turn[:, order].T @ basis, dtype=np.float64)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def folds(quadrants: Sequence[str], names: Sequence[str], k: int, salt: str = "") -> list[int]:
    """A fold per row, stratified by quadrant, fixed by the names' hashes (no random seed);
    another ``salt`` gives another split (repeated cross-validation)."""
    fold = [0] * len(quadrants)
    for quadrant in sorted(set(quadrants)):
        members = sorted((i for i, q in enumerate(quadrants) if q == quadrant),
                         key=lambda i: _hash(salt + names[i]))  # fmt: skip
        for position, i in enumerate(members):
            fold[i] = position % k
    return fold


def source_folds(names: Sequence[str]) -> list[int]:
    """A fold per source: the first part of each name (its package), in sorted order."""
    sources = sorted({source_of(n) for n in names})
    return [sources.index(source_of(n)) for n in names]


def source_of(name: str) -> str:
    """The source of a photograph named '<package>/<file>' (a bare name is its own)."""
    return name.split("/", 1)[0]


def out_of_fold(rows: Sequence[Mapping[str, float]], quadrants: Sequence[str],
                names: Sequence[str], features: Sequence[str], ridge: float, classes: ClassTable,
                k: int = 5, balance: Balance = BALANCE, probe: Probe | None = None,
                salt: str = "", fold: Sequence[int] | None = None,
                ) -> NDArray[np.float64]:  # fmt: skip
    """Each row's two logits (pleasant, lively) from a fusion fitted without its fold
    (``fold``: one given per row, e.g. ``source_folds``; else stratified k-fold)."""
    fold = list(folds(quadrants, names, k, salt) if fold is None else fold)
    k = max(fold) + 1
    logits = np.zeros((len(rows), 2))
    for f in range(k):
        train = [i for i in range(len(rows)) if fold[i] != f]
        looks = None if probe is None else probe.subset(train)
        model = fit([rows[i] for i in train], [quadrants[i] for i in train], features, ridge,
                    classes, {}, balance, looks)  # fmt: skip
        for i in (i for i in range(len(rows)) if fold[i] == f):
            logits[i] = model.logits(rows[i], None if probe is None else probe.looks[i])
    return logits


def temperature(logits: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    """The factor on one axis's logits that makes its out-of-fold probabilities honest (least
    log-loss): a strongly regularised fit is too timid, and its confidence would say so."""
    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 121))

    return float(min(grid, key=lambda t: _log_loss(t * logits, y)))


def bands(
    confidence: NDArray[np.float64],
    right: NDArray[np.float64],
    edges: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
) -> list[tuple[float, float, int, float]]:
    """Per confidence band: how many readings fall in it and the share that were right."""
    out = []
    for low, high in itertools.pairwise(edges):
        inside = (confidence >= low) & ((confidence < high) | (high >= 1.0))
        n = int(inside.sum())
        out.append((low, high, n, float(right[inside].mean()) if n else float("nan")))
    return out


def logistic_curve(
    x: NDArray[np.float64], y: NDArray[np.float64], weights: NDArray[np.float64] | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The share right against the likeliest quadrant's probability ``x`` as a logistic in its
    log-odds (Platt's two parameters), as knots for np.interp; each reading counted by its
    ``weights`` (all alike without).

    Why not the rising steps of an isotonic fit (before the round after 2f3893e): on a few
    hundred readings its top steps are small and sure of themselves; with each source read
    by a fusion calibrated on the others, the logistic's readings at 0.75 or more were more
    often right with both fusions (colour 0.879 against 0.873, monochrome 0.826 against 0.793)
    and its Brier score lower (docs/scene-reader.md). A curve that does not rise (the
    readings say nothing of their own surety) is the flat share right."""
    odds = _log_odds(x)
    counted = np.ones_like(odds) if weights is None else np.asarray(weights, dtype=np.float64)
    curve = fit_axis(odds[:, None], y, 1e-3, counted)  # the small ridge keeps a flat x solvable
    at = np.linspace(0.25, 1.0, 76)  # the likeliest of four quadrants is never under 0.25
    if not curve.weights[0] > 0:
        return at, np.full_like(at, float(np.average(y, weights=counted)))
    # Flat past the surest and the least sure reading fitted on: not extrapolated.
    held = np.clip(_log_odds(at), odds.min(), odds.max())
    return at, fusion.sigmoid(curve.weights[0] * held + curve.bias)


def _log_odds(p: NDArray[np.float64]) -> NDArray[np.float64]:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return np.asarray(np.log(q / (1 - q)))


def top_quadrant(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    p = fusion.sigmoid(logits)
    return np.asarray(fusion.top_quadrant(p[:, 0], p[:, 1]))


def right_quadrant(logits: NDArray[np.float64], quadrants: Sequence[str]) -> NDArray[np.float64]:
    pleasant, lively = sides(quadrants)
    right = ((logits[:, 0] >= 0) == (pleasant > 0.5)) & ((logits[:, 1] >= 0) == (lively > 0.5))
    return np.asarray(right, dtype=np.float64)


def calibrated(model: SceneFusion, factors: tuple[float, float], logits: NDArray[np.float64],
               quadrants: Sequence[str], balance: Balance = BALANCE) -> SceneFusion:  # fmt: skip
    """The fusion with each axis's logit multiplied by its factor, and a confidence that says
    how often out-of-fold readings as sure as this one had the right quadrant, each quadrant
    weighed as ``balance.confidence`` says."""
    axes = [Axis(a.weights * t, a.bias * t) for a, t in
            zip((model.valence, model.arousal), factors, strict=True)]  # fmt: skip
    look = model.appearance
    if look is not None:
        scale = np.asarray(factors)
        look = replace(look, valence=look.valence * factors[0], arousal=look.arousal * factors[1],
                       offset=look.offset * scale, limit=look.limit * scale)  # fmt: skip
    near = model.neighbours
    if near is not None:
        near = replace(near, weight=near.weight * np.asarray(factors))
    scaled = logits * np.asarray(factors)
    at, says = logistic_curve(top_quadrant(scaled), right_quadrant(scaled, quadrants),
                              quadrant_weights(quadrants, balance.confidence))  # fmt: skip
    return replace(model, valence=axes[0], arousal=axes[1], confidence_at=at, confidence_is=says,
                   appearance=look, neighbours=near)  # fmt: skip


@dataclass(frozen=True)
class CrossValidation:
    ridge: float
    quadrant: float  # accuracy over all held-out rows of all folds (mean over the repeats)
    valence: float
    arousal: float
    per_fold: tuple[float, ...]  # of the first split
    logits: NDArray[np.float64]  # each row's out-of-fold (pleasant, lively) logits, first split
    log_loss: float = float("nan")  # both axes', after each axis's temperature (mean, repeats)
    components: int = 0  # of the classifier's pooled features (0: not read)

    def to_dict(self) -> dict[str, Any]:
        return {"ridge": self.ridge, "quadrant": round(self.quadrant, 4),
                "valence": round(self.valence, 4), "arousal": round(self.arousal, 4),
                "log_loss": round(self.log_loss, 4), "components": self.components,
                "per_fold": [round(a, 4) for a in self.per_fold]}  # fmt: skip


SPLITS = 5  # repeats of the k-fold split: one split of ~100 photographs is a noisy judge


def cross_validate(rows: Sequence[Mapping[str, float]], quadrants: Sequence[str],
                   names: Sequence[str], features: Sequence[str], ridge: float, classes: ClassTable,
                   k: int = 5, balance: Balance = BALANCE, probe: Probe | None = None,
                   repeats: int = 1) -> CrossValidation:  # fmt: skip
    """k-fold figures, each fold read by a fusion fitted on the other folds, averaged over
    ``repeats`` different splits."""
    scores, first, right_q = [], np.zeros((len(rows), 2)), np.zeros(len(rows), dtype=bool)
    for repeat in range(repeats):
        logits = out_of_fold(rows, quadrants, names, features, ridge, classes, k, balance, probe,
                             salt="" if repeat == 0 else f"{repeat}:")  # fmt: skip
        right_v, right_a, loss = _scored(logits, quadrants)
        if repeat == 0:  # the split whose folds and logits are kept
            first, right_q = logits, right_v & right_a
        scores.append(((right_v & right_a).mean(), right_v.mean(), right_a.mean(), loss))
    fold = np.array(folds(quadrants, names, k))
    per_fold = tuple(float(right_q[fold == f].mean()) if np.any(fold == f) else float("nan")
                     for f in range(k))  # fmt: skip
    quadrant, valence, arousal, loss = (float(x) for x in np.mean(scores, axis=0))
    return CrossValidation(ridge, quadrant, valence, arousal, per_fold, first, loss,
                           0 if probe is None else probe.components)  # fmt: skip


@dataclass(frozen=True)
class BySource:
    """Figures with each source (package) held out in turn: how a fusion does on photographs
    from a source it never saw, which is how it is used."""

    sources: int
    quadrant: float
    valence: float
    arousal: float
    log_loss: float
    unpleasant_read_unpleasant: float  # of the LV photographs, the share read LV
    # Each labelled quadrant's share read right: where the mean recall is lost (the rare
    # quadrants are what photographs from elsewhere are read worst on).
    recalls: dict[str, float] = field(default_factory=dict)
    # Each row's (pleasant, lively) logits from the fit without its source: what the
    # confidence is fitted on (the fitting script), not a figure.
    logits: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 2)), repr=False)
    # Per source: its photographs and how many of them had the right quadrant, so that a
    # training file grown by new sources can be compared with the old one on the old sources.
    per_source: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def mean_recall(self) -> float:
        """Each labelled quadrant's share read right, averaged (NaN without labels)."""
        return float(np.mean(list(self.recalls.values()))) if self.recalls else math.nan

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: v if isinstance(v, int) else round(v, 4)
                               for k, v in vars(self).items()
                               if k not in ("logits", "per_source", "recalls")}  # fmt: skip
        out["mean_recall"] = round(self.mean_recall, 4)
        out["recalls"] = {q: round(r, 4) for q, r in self.recalls.items()}
        out["per_source"] = {s: list(counts) for s, counts in self.per_source.items()}
        return out


def by_source(rows: Sequence[Mapping[str, float]], quadrants: Sequence[str],
              names: Sequence[str], features: Sequence[str], ridge: float, classes: ClassTable,
              balance: Balance = BALANCE, probe: Probe | None = None,
              ) -> BySource | None:  # fmt: skip
    """Leave-one-source-out figures (sources: the first part of each name); None with fewer
    than two sources, where no source can be held out (all the photographs in one folder)."""
    fold = source_folds(names)
    if max(fold) < 1:
        return None
    logits = out_of_fold(rows, quadrants, names, features, ridge, classes, balance=balance,
                         probe=probe, fold=fold)  # fmt: skip
    right_v, right_a, loss = _scored(logits, quadrants)
    unpleasant = sides(quadrants)[0] < 0.5
    read_lv = float((logits[unpleasant, 0] < 0).mean()) if unpleasant.any() else float("nan")
    right = right_v & right_a
    recall = quadrant_recalls(quadrants, right)
    per_source: dict[str, tuple[int, int]] = {}
    for name, ok in zip(names, right, strict=True):
        n, r = per_source.get(source_of(name), (0, 0))
        per_source[source_of(name)] = (n + 1, r + int(ok))
    return BySource(max(fold) + 1, float(right.mean()), float(right_v.mean()),
                    float(right_a.mean()), float(loss), read_lv, dict(sorted(recall.items())),
                    logits, dict(sorted(per_source.items())))  # fmt: skip


def confidence_logits(unseen: BySource | None,
                      stratified: NDArray[np.float64]) -> NDArray[np.float64]:  # fmt: skip
    """The out-of-fold logits the confidence is fitted on: each source read by a fusion
    fitted without it (``unseen``). The reader is used on photographs from elsewhere, and a
    stratified fold's readings of sources the fit has seen are surer, and more often right,
    than a camera's will be. With one source, ``stratified`` (the k-fold ones)."""
    return stratified if unseen is None else unseen.logits


def by_source_confidence(rows: Sequence[Mapping[str, float]], quadrants: Sequence[str],
                         names: Sequence[str], features: Sequence[str], ridge: float,
                         classes: ClassTable, k: int = 5, balance: Balance = BALANCE,
                         probe: Probe | None = None, sure: float = 0.75,
                         ) -> Confident | None:  # fmt: skip
    """How many readings say ``sure`` or more, and the share of them right (as the set has its
    quadrants, and with each equally often), when each source is read by a fusion fitted
    *and calibrated* on the other sources alone (temperature from their k-fold out-of-fold
    readings, confidence from their readings with each of them held out in turn, as the
    fitting script does): whether the confidence holds on photographs from elsewhere. None
    with fewer than two sources."""
    fold = source_folds(names)
    if max(fold) < 1:
        return None
    said, held = np.zeros(len(rows)), np.zeros((len(rows), 2))
    for f in range(max(fold) + 1):
        rest = [i for i in range(len(rows)) if fold[i] != f]
        part = ([rows[i] for i in rest], [quadrants[i] for i in rest], [names[i] for i in rest])
        looks = None if probe is None else probe.subset(rest)
        logits = out_of_fold(*part, features, ridge, classes, k, balance, looks)
        pleasant, lively = sides(part[1])
        factors = (temperature(logits[:, 0], pleasant), temperature(logits[:, 1], lively))
        unseen = by_source(*part, features, ridge, classes, balance, looks)
        model = calibrated(fit(part[0], part[1], features, ridge, classes, {}, balance, looks),
                           factors, confidence_logits(unseen, logits), part[1],
                           balance)  # fmt: skip
        for i in (i for i in range(len(rows)) if fold[i] == f):
            held[i] = model.logits(rows[i], None if probe is None else probe.looks[i])
            said[i] = model.confidence(*fusion.sigmoid(held[i]))
    return confident_share(said >= sure, right_quadrant(held, quadrants) > 0.5, quadrants)


class Confident(NamedTuple):
    """The readings at a confidence or more, and the share of them right: as the set has its
    quadrants, and with each labelled quadrant's readings weighed as if every quadrant were
    equally many (a camera's scenes need not be the packages' mix)."""

    readings: int
    right: float
    right_each_quadrant_alike: float


def confident_share(confident: NDArray[np.bool_], right: NDArray[np.bool_],
                    quadrants: Sequence[str]) -> Confident:  # fmt: skip
    """The ``confident`` readings' count and share ``right``, as the set and each quadrant alike
    (NaN where none is confident)."""
    if not confident.any():
        return Confident(0, math.nan, math.nan)
    alike = quadrant_weights(quadrants, 1.0)[confident]
    return Confident(int(confident.sum()), float(right[confident].mean()),
                     float(np.average(right[confident], weights=alike)))  # fmt: skip


def _scored(logits: NDArray[np.float64], quadrants: Sequence[str],
            ) -> tuple[NDArray[np.bool_], NDArray[np.bool_], float]:  # fmt: skip
    """Out-of-fold logits scored: each row's valence and arousal side right, and both axes'
    log-loss after each axis's temperature."""
    pleasant, lively = sides(quadrants)
    right_v = (logits[:, 0] >= 0) == (pleasant > 0.5)
    right_a = (logits[:, 1] >= 0) == (lively > 0.5)
    loss = sum(_log_loss(temperature(z, y) * z, y)
               for z, y in ((logits[:, 0], pleasant), (logits[:, 1], lively)))  # fmt: skip
    return right_v, right_a, float(loss)


def _log_loss(logits: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    return fusion.log_loss(fusion.sigmoid(logits), y)


CENTRINGS = tuple(round(0.1 * i, 1) for i in range(11))


def centring(similarity: NDArray[np.float64], homes: Sequence[str],
             read_as: Sequence[str]) -> float:  # fmt: skip
    """How much of each mood's mean similarity to subtract before naming (0 to 1): the
    weight at which the training photographs' named moods are spread most evenly (the
    largest share smallest; the least centring on a tie). ``similarity``: one row per
    described photograph, one column per mood; ``homes``: each mood's quadrant;
    ``read_as``: each photograph's read quadrant."""
    centre = similarity.mean(axis=0)
    best, best_share = 0.0, 2.0
    for weight in CENTRINGS:
        shifted = similarity - weight * centre
        named = []
        for row, quadrant in zip(shifted, read_as, strict=True):
            members = [i for i, home in enumerate(homes) if home == quadrant]
            if members:
                named.append(max(members, key=lambda i: row[i]))
        share = np.bincount(named).max() / len(named) if named else 0.0
        if share < best_share - 1e-9:
            best, best_share = weight, share
    return best
