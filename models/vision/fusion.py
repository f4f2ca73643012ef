"""The scene reader's fitted fusion: cues in, P(pleasant) and P(lively) out.

How light, colour, what the detector counted, what the classifier named and what the text
model read from "what was seen" combine is fitted on labelled photographs
(``scripts/fit_scene_fusion.py``, cross-validated; figures in docs/scene-reader.md), not set by
hand. The fit is two L2-regularised logistic regressions, one per axis, on the standardised cues and
on the classifier's pooled features of the frame and of parts of it seen closer (its
"appearance", reduced to their leading principal components while fitting and folded back
into one weight per feature), beside a table of the training photographs as the classifier
saw them, whose nearest to a frame lean each axis (``Neighbours``), stored with the class
table in ``scene_fusion.json`` and checked against ``manifest.json``. A cue that is missing at
run time (no classifier installed, no detector) is set to its training mean, so its term drops
out and the rest still reads. Pure numpy: no I/O after load.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from moodcast.config.errors import MoodcastError
from moodcast.config.text import parse_json

KIND = "scene-fusion"
FILE = "scene_fusion.json"
# The fusion for frames without colour (night vision, black-and-white cameras): fitted on
# colourless copies of the same photographs (models/vision/monochrome.py); beside the other,
# in the same manifest.
MONO_FILE = "scene_fusion_mono.json"
FIX = "reinstall moodcast, or fit the fusion again: scripts/fit_scene_fusion.py"
AXES = ("valence", "arousal")
# The parts of a frame whose pooled features the appearance reads, each seen by the classifier
# at its full input size: the whole frame, its upper and lower halves and its quarters (seen
# closer: the sky, the ground, a face in a corner; docs/scene-reader.md).
VIEWS = ("frame", "top", "bottom", "top-left", "top-right", "bottom-left", "bottom-right")


def top_quadrant(p_pleasant: Any, p_lively: Any) -> Any:
    """The likeliest quadrant's probability for the two sides' odds (scalars or arrays)."""
    return np.maximum(p_pleasant, 1 - p_pleasant) * np.maximum(p_lively, 1 - p_lively)


def sigmoid(logits: Any) -> Any:
    """The probability for a logit (scalar or array), clipped to ±30 against overflow."""
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))


def log_loss(p: NDArray[np.float64], y: NDArray[np.float64], floor: float = 1e-6) -> float:
    """Mean binary log-loss of probabilities ``p`` for outcomes ``y`` (0 or 1), each
    probability kept ``floor`` away from 0 and 1."""
    p = np.clip(p, floor, 1 - floor)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def zscores(raw: NDArray[np.float64], mean: NDArray[np.float64], scale: NDArray[np.float64],
            limit: float) -> NDArray[np.float64]:  # fmt: skip
    """Cues (a row, or a row per photograph) as z-scores within ±``limit``; a missing or
    non-finite cue is 0, its training mean. One rule for fitting and for reading."""
    z = (raw - mean) / scale
    return np.clip(np.where(np.isfinite(z), z, 0.0), -limit, limit)


def fusion_dir() -> Path:
    """The folder of the fusion shipped inside the package."""
    return Path(__file__).resolve().parent


@dataclass(frozen=True)
class Axis:
    """One logistic regression: P(positive side) = sigmoid(weights · z + bias)."""

    weights: NDArray[np.float64]
    bias: float


@dataclass(frozen=True)
class ClassTable:
    """Per ImageNet class, the text model's P(pleasant) and P(lively) for the class's name."""

    pleasant: NDArray[np.float64]
    lively: NDArray[np.float64]
    labels_sha256: str  # the class names the table was read from

    def lean(self, probs: NDArray[np.float32]) -> tuple[float, float]:
        """What the classifier's classes say, each side in [-1, 1]: Σ p(class)·(2·P − 1)."""
        p = np.asarray(probs, dtype=np.float64)
        return float(p @ (2 * self.pleasant - 1)), float(p @ (2 * self.lively - 1))


def view(frame: NDArray[Any], name: str) -> NDArray[Any]:
    """The part of ``frame`` a view names: halves and quarters overlap by the middle row or
    column when there is an odd number (a frame one pixel high is its own top and bottom)."""
    if name not in VIEWS:
        raise ValueError(f"unknown view {name!r} (known: {', '.join(VIEWS)})")
    rows, columns = slice(None), slice(None)
    height, width = frame.shape[:2]
    if name.startswith("top"):
        rows = slice(0, max(1, (height + 1) // 2))
    elif name.startswith("bottom"):
        rows = slice(height // 2, height)
    if name.endswith("left"):
        columns = slice(0, max(1, (width + 1) // 2))
    elif name.endswith("right"):
        columns = slice(width // 2, width)
    return frame[rows, columns]


def _usable(features: NDArray[np.float32] | None,
            shape: tuple[int, ...]) -> NDArray[np.float64] | None:  # fmt: skip
    """The classifier's features as float64 when they are of ``shape`` and finite, else None
    (no classifier, another graph's features, a broken pass)."""
    if features is None or features.shape != shape:
        return None
    f = np.asarray(features, dtype=np.float64)
    return f if np.all(np.isfinite(f)) else None


@dataclass(frozen=True)
class Appearance:
    """Each axis's weights on the classifier's pooled features (and the frame's style
    statistics), and their training means.

    A linear probe: the content of the frame (a shanty lane, storm clouds, a packed stand)
    rather than its colours, and its texture and light as the network sees them. Fitted on the
    leading principal components of the training photographs' features; since every step is
    linear, it is stored as one weight per feature.
    """

    valence: NDArray[np.float64]
    arousal: NDArray[np.float64]
    offset: NDArray[np.float64]  # each axis's term at the training photographs' mean features
    model_sha256: str  # the classifier graph whose features these are
    # The largest term any training photograph had, per axis: a frame unlike all of them
    # (black, noise) is not read more surely than the surest of them.
    limit: NDArray[np.float64] = field(default_factory=lambda: np.full(2, np.inf))
    views: tuple[str, ...] = ("frame",)  # whose pooled features, one after the other
    # How many of the whole frame's style statistics follow them (classifier.STYLE; 0: none,
    # as in a fusion of an older release).
    style: int = 0

    @property
    def pooled(self) -> int:
        """How many pooled features each view has."""
        return (len(self.valence) - self.style) // len(self.views)

    def terms(self, features: NDArray[np.float32] | None) -> tuple[float, float]:
        """Each axis's logit term; 0 (the training mean) without features or with odd ones."""
        f = _usable(features, self.valence.shape)
        if f is None:
            return 0.0, 0.0
        terms = np.array([f @ self.valence, f @ self.arousal]) - self.offset
        v, a = np.clip(terms, -self.limit, self.limit)
        return float(v), float(a)

    def to_json(self) -> dict[str, Any]:
        return {"model_sha256": self.model_sha256, "offset": self.offset.tolist(),
                "limit": self.limit.tolist(), "views": list(self.views), "style": self.style,
                "valence": [float(f"{w:.6g}") for w in self.valence.tolist()],
                "arousal": [float(f"{w:.6g}") for w in self.arousal.tolist()]}  # fmt: skip


@dataclass(frozen=True)
class Neighbours:
    """The training photographs as the classifier saw them (the appearance's features,
    standardised, on their leading directions, unit length) and their quadrants' sides: the
    frame's nearest ones lean each axis's logit.

    One line per axis cannot hold every kind of scene; the photographs most like this frame
    say what its kind was labelled. Beside quadrants weighed halfway to equal in the fit, it
    read photographs of sources left out as often right and the rare quadrants more often
    right than the line alone (docs/scene-reader.md).
    """

    mean: NDArray[np.float64]  # per feature
    scale: NDArray[np.float64]
    basis: NDArray[np.float64]  # directions x features
    rows: NDArray[np.float64]  # photographs x directions, each of unit length
    sides: NDArray[np.float64]  # photographs x (pleasant, lively): 1 or 0
    k: int  # how many nearest photographs are asked
    sharpness: float  # how much more the nearer of them count (on their cosine)
    weight: NDArray[np.float64]  # per axis: the logit added per logit of their share

    def terms(self, features: NDArray[np.float32] | None) -> tuple[float, float]:
        """Each axis's logit term; 0 without features, with odd ones or one of no direction."""
        f = _usable(features, self.mean.shape)
        if f is None:
            return 0.0, 0.0
        point = self.basis @ ((f - self.mean) / self.scale)
        length = float(np.linalg.norm(point))
        if not length > 1e-12:
            return 0.0, 0.0
        return neighbour_terms(self.rows @ (point / length), self.sides, self.k, self.sharpness,
                               self.weight)  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {"k": self.k, "sharpness": self.sharpness, "weight": self.weight.tolist(),
                "mean": _short(self.mean), "scale": _short(self.scale),
                "basis": _short(self.basis), "rows": _short(self.rows),
                "sides": self.sides.astype(int).tolist()}  # fmt: skip


def _short(array: NDArray[np.float64]) -> Any:
    """Nested lists of the numbers to four significant digits (the table is ~100,000 of them:
    the file stays under a megabyte, and cosines move by less than 1e-3)."""
    flat = [float(f"{x:.4g}") for x in array.ravel().tolist()]
    return np.array(flat).reshape(array.shape).tolist()


SHARE_FLOOR = 0.05  # a share of the nearest photographs is held this far from 0 and 1


def neighbour_terms(similarity: NDArray[np.float64], sides: NDArray[np.float64], k: int,
                    sharpness: float, weight: NDArray[np.float64],
                    ) -> tuple[float, float]:  # fmt: skip
    """Each axis's term from one frame's cosine ``similarity`` to every photograph: the log-odds
    of the share of its ``k`` nearest on each side (weighted by exp(sharpness × cosine),
    held within SHARE_FLOOR), times ``weight``."""
    k = min(k, len(similarity))
    nearest = np.argpartition(-similarity, k - 1)[:k]
    closeness = np.exp((similarity[nearest] - similarity[nearest].max()) * sharpness)
    share = np.clip(closeness @ sides[nearest] / closeness.sum(), SHARE_FLOOR, 1 - SHARE_FLOOR)
    v, a = weight * np.log(share / (1 - share))
    return float(v), float(a)


@dataclass(frozen=True)
class SceneFusion:
    """Standardise the cues, then one logistic regression per axis."""

    features: tuple[str, ...]
    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    valence: Axis
    arousal: Axis
    classes: ClassTable
    training: Mapping[str, Any]
    # P(right quadrant) against the likeliest quadrant's probability, fitted on readings of
    # photographs from sources the fit had not seen (a logistic curve, as knots): what the
    # reader's confidence says.
    confidence_at: NDArray[np.float64] = field(default_factory=lambda: np.array([0.25, 1.0]))
    confidence_is: NDArray[np.float64] = field(default_factory=lambda: np.array([0.0, 1.0]))
    # What the reader described on its training photographs ("two dogs, a wood rabbit"): the
    # scene reader centres each mood's similarity on them, so a mood whose words lie near
    # every description (a hub: "beautiful") does not name most scenes for that alone.
    described: tuple[str, ...] = ()
    centring: float = 0.0  # how much of that mean similarity is subtracted (fitted, 0 to 1)
    appearance: Appearance | None = None  # the weights on the classifier's pooled features
    # Each z-score is held within this many standard deviations, in the fit and in reading:
    # a cue far outside what the training photographs showed (the haze of a flat black
    # frame) is not extrapolated into a sure reading. An older fusion has none (inf).
    cue_limit: float = math.inf
    # The training photographs' nearest to the frame (None: a fusion without them, as in an
    # older release, or one fitted without the classifier's features).
    neighbours: Neighbours | None = None

    def standardise(self, cues: Mapping[str, float]) -> NDArray[np.float64]:
        """Each cue as z-score within ±``cue_limit``; an absent or non-finite cue is 0 (its
        training mean)."""
        raw = np.array([float(cues.get(name, math.nan)) for name in self.features])
        return zscores(raw, self.mean, self.scale, self.cue_limit)

    def logits(self, cues: Mapping[str, float],
               features: NDArray[np.float32] | None = None) -> tuple[float, float]:  # fmt: skip
        """Each axis's logit for one frame's cues (and the classifier's pooled features)."""
        z = self.standardise(cues)
        look = (0.0, 0.0) if self.appearance is None else self.appearance.terms(features)
        near = (0.0, 0.0) if self.neighbours is None else self.neighbours.terms(features)
        v = float(z @ self.valence.weights) + self.valence.bias + look[0] + near[0]
        a = float(z @ self.arousal.weights) + self.arousal.bias + look[1] + near[1]
        return v, a

    def odds(self, cues: Mapping[str, float],
             features: NDArray[np.float32] | None = None) -> tuple[float, float]:  # fmt: skip
        """P(pleasant) and P(lively) for one frame's cues (and the classifier's features)."""
        v, a = self.logits(cues, features)
        return float(sigmoid(v)), float(sigmoid(a))

    def confidence(self, p_pleasant: float, p_lively: float) -> float:
        """How often a reading with these odds has had the right quadrant (0 to 1)."""
        top = top_quadrant(p_pleasant, p_lively)
        return float(np.interp(top, self.confidence_at, self.confidence_is))

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            **{name: {"weights": axis.weights.tolist(), "bias": axis.bias}
               for name, axis in zip(AXES, (self.valence, self.arousal), strict=True)},
            "classes": {"labels_sha256": self.classes.labels_sha256,
                        "pleasant": [round(x, 5) for x in self.classes.pleasant.tolist()],
                        "lively": [round(x, 5) for x in self.classes.lively.tolist()]},
            "confidence": {"at": self.confidence_at.tolist(), "is": self.confidence_is.tolist()},
            "described": list(self.described),
            "centring": self.centring,
            **({} if math.isinf(self.cue_limit) else {"cue_limit": self.cue_limit}),
            **({} if self.appearance is None else {"appearance": self.appearance.to_json()}),
            **({} if self.neighbours is None else {"neighbours": self.neighbours.to_json()}),
            "training": dict(self.training),
        }  # fmt: skip


def _vector(data: Any, n: int, what: str) -> NDArray[np.float64]:
    array = np.asarray(data, dtype=np.float64)
    if array.shape != (n,) or not np.all(np.isfinite(array)):
        raise ValueError(f"{what} must be {n} finite numbers")
    return array


def from_json(data: Mapping[str, Any]) -> SceneFusion:
    """A fusion from its JSON form; ValueError/KeyError/TypeError name what is wrong."""
    if data.get("kind") != KIND:
        raise ValueError(f"kind is {data.get('kind')!r}, not {KIND!r}")
    features = tuple(str(f) for f in data["features"])
    n = len(features)
    scale = _vector(data["scale"], n, "scale")
    if np.any(scale <= 0):
        raise ValueError("scale must be positive")
    axes = [Axis(_vector(data[a]["weights"], n, f"{a}.weights"), float(data[a]["bias"]))
            for a in AXES]  # fmt: skip
    classes = data["classes"]
    table = ClassTable(_vector(classes["pleasant"], 1000, "classes.pleasant"),
                       _vector(classes["lively"], 1000, "classes.lively"),
                       str(classes["labels_sha256"]))  # fmt: skip
    knots = data.get("confidence", {"at": [0.25, 1.0], "is": [0.0, 1.0]})
    at = np.asarray(knots["at"], dtype=np.float64)
    says = np.asarray(knots["is"], dtype=np.float64)
    if (at.ndim != 1 or at.shape != says.shape or len(at) < 2 or np.any(np.diff(at) < 0)
            or not np.all(np.isfinite(at)) or np.any(~((says >= 0) & (says <= 1)))):  # fmt: skip
        raise ValueError("confidence must be rising 'at' knots with 'is' values in [0, 1]")
    described = data.get("described", [])
    if not isinstance(described, list) or not all(isinstance(d, str) for d in described):
        raise ValueError("described must be a list of texts")
    centring = float(data.get("centring", 0.0))
    if not 0.0 <= centring <= 1.0:
        raise ValueError("centring must lie in [0, 1]")
    cue_limit = float(data.get("cue_limit", math.inf))
    if not cue_limit > 0:
        raise ValueError("cue_limit must be positive")
    appearance = _appearance(data.get("appearance"))
    neighbours = _neighbours(data.get("neighbours"), appearance)
    return SceneFusion(features, _vector(data["mean"], n, "mean"), scale, axes[0], axes[1],
                       table, dict(data.get("training", {})), at, says,
                       tuple(described), centring, appearance, cue_limit,
                       neighbours)  # fmt: skip


def _appearance(data: Any) -> Appearance | None:
    if data is None:
        return None
    valence = np.asarray(data["valence"], dtype=np.float64)
    n = len(valence)
    if valence.ndim != 1 or n < 1:
        raise ValueError("appearance.valence must be a list of numbers")
    style = data.get("style", 0)
    if not isinstance(style, int) or isinstance(style, bool) or not 0 <= style < n:
        raise ValueError("appearance.style must be a whole number of weights, fewer than all")
    views = _views(data.get("views", ["frame"]), n - style)
    return Appearance(_vector(valence, n, "appearance.valence"),
                      _vector(data["arousal"], n, "appearance.arousal"),
                      _vector(data["offset"], 2, "appearance.offset"),
                      str(data["model_sha256"]), _limit(data.get("limit")), views,
                      style)  # fmt: skip


def _neighbours(data: Any, appearance: Appearance | None) -> Neighbours | None:
    """The nearest-photograph table, checked: it reads the appearance's features, so it needs
    one of the same width."""
    if data is None:
        return None
    if appearance is None:
        raise ValueError("neighbours need the appearance whose features they read")
    n = len(appearance.valence)
    basis = np.asarray(data["basis"], dtype=np.float64)
    rows = np.asarray(data["rows"], dtype=np.float64)
    sides = np.asarray(data["sides"], dtype=np.float64)
    if (basis.ndim != 2 or basis.shape[1] != n or rows.ndim != 2
            or rows.shape[1] != basis.shape[0] or len(rows) < 1
            or not np.all(np.isfinite(basis)) or not np.all(np.isfinite(rows))):  # fmt: skip
        raise ValueError(f"neighbours.basis must be directions x {n} and neighbours.rows"
                         " photographs x directions, finite")  # fmt: skip
    if sides.shape != (len(rows), 2) or not np.all((sides == 0) | (sides == 1)):
        raise ValueError("neighbours.sides must be a 0 or 1 pair per photograph")
    k, sharpness = data["k"], float(data["sharpness"])
    if not isinstance(k, int) or isinstance(k, bool) or k < 1 or not sharpness >= 0:
        raise ValueError("neighbours.k must be a whole number above 0, sharpness 0 or more")
    scale = _vector(data["scale"], n, "neighbours.scale")
    if np.any(scale <= 0):
        raise ValueError("neighbours.scale must be positive")
    return Neighbours(_vector(data["mean"], n, "neighbours.mean"), scale, basis, rows, sides, k,
                      sharpness, _vector(data["weight"], 2, "neighbours.weight"))  # fmt: skip


def _views(data: Any, n: int) -> tuple[str, ...]:
    """Known, distinct view names that share the ``n`` pooled weights evenly (a fusion of an
    older release names none: the whole frame)."""
    if (not isinstance(data, list) or not data or len(set(map(str, data))) != len(data)
            or any(v not in VIEWS for v in data) or n % len(data)):  # fmt: skip
        raise ValueError(f"appearance.views must be distinct names among {', '.join(VIEWS)}"
                         " that share the weights evenly")  # fmt: skip
    return tuple(data)


def _limit(data: Any) -> NDArray[np.float64]:
    if data is None:
        return np.full(2, np.inf)
    limit = _vector(data, 2, "appearance.limit")
    if np.any(limit <= 0):
        raise ValueError("appearance.limit must be positive")
    return limit


def load_fusion(folder: Path | None = None, name: str = FILE) -> SceneFusion:
    """The fusion ``name`` in ``folder`` (the shipped one by default), checked against its
    manifest; the monochrome one (``MONO_FILE``) must say it was fitted on colourless frames."""
    folder = folder or fusion_dir()
    path = folder / name
    try:
        manifest = parse_json((folder / "manifest.json").read_text("utf-8"))
        if name not in manifest["files"]:
            raise MoodcastError(f"{folder / 'manifest.json'} lists no {name}", FIX)
        expected = manifest["files"][name]["sha256"]
        if manifest.get("kind") != KIND:
            raise ValueError(f"the manifest describes {manifest.get('kind')!r}, not {KIND!r}")
        data = path.read_bytes()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise MoodcastError(f"no usable scene fusion manifest in {folder} ({exc})", FIX) from exc
    if hashlib.sha256(data).hexdigest() != expected:
        raise MoodcastError(f"{path} does not match its manifest checksum (damaged or replaced)",
                            FIX)  # fmt: skip
    try:
        fusion = from_json(parse_json(data.decode("utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise MoodcastError(f"{path} is not a usable scene fusion ({exc})", FIX) from exc
    frames = fusion.training.get("frames", "colour")
    if frames != ("monochrome" if name == MONO_FILE else "colour"):
        raise MoodcastError(f"{path} was fitted on {frames} frames, not the ones its name says",
                            FIX)  # fmt: skip
    return fusion


def fit_axis(z: NDArray[np.float64], y: NDArray[np.float64], ridge: float,
             weights: Sequence[float] | NDArray[np.float64] | None = None,
             steps: int = 50) -> Axis:  # fmt: skip
    """An L2-regularised logistic regression by Newton's method (a few dozen features)."""
    n, k = z.shape
    sample = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    x = np.hstack([z, np.ones((n, 1))])
    beta = np.zeros(k + 1)
    penalty = np.full(k + 1, ridge)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = sigmoid(x @ beta)
        gradient = x.T @ (sample * (p - y)) + penalty * beta
        hessian = (
            (x * (sample * p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(k + 1)
        )
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return Axis(beta[:-1], float(beta[-1]))
