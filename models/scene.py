"""The built-in scene reader: mood from colour, light, motion and people, with no weights.

Colour → emotion follows Valdez & Mehrabian (1994), "Effects of color on emotions",
J. Exp. Psychol. Gen. 123(4): pleasure = 0.69·B + 0.22·S and arousal = −0.31·B + 0.60·S
for brightness B and saturation S. Warm hues add a little pleasure and arousal, visible
motion between frames adds arousal, and people in view make a scene livelier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from moodcast.models.mood import MoodEstimate, Taxonomy, clamp

Frame = NDArray[np.uint8]

# Ranges of the Valdez–Mehrabian formulas for B, S in [0, 1], used to map them onto [-1, 1].
_PLEASURE_RANGE = (0.0, 0.91)
_AROUSAL_RANGE = (-0.31, 0.60)
_ANALYSIS_WIDTH = 160


@dataclass(frozen=True)
class SceneWeights:
    """How much each cue moves the reading (the cues: README.md, "The scene reader")."""

    warmth_valence: float = 0.2
    warmth_arousal: float = 0.1
    activity_arousal: float = 0.6
    people_arousal: float = 0.12
    people_valence: float = 0.05


def _rescale(value: float, bounds: tuple[float, float]) -> float:
    low, high = bounds
    return clamp(2.0 * (value - low) / (high - low) - 1.0)


class PeopleCounter:
    """Counts upright people with OpenCV's built-in HOG + linear SVM detector."""

    def __init__(self, width: int = 800, scale: float = 1.2) -> None:
        import cv2

        self._cv2 = cv2
        self._hog = cv2.HOGDescriptor()
        detector = np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), dtype=np.float32)
        self._hog.setSVMDetector(detector)
        self._width = width
        self._scale = scale

    def count(self, frame: Frame) -> int:
        cv2 = self._cv2
        height = max(1, round(frame.shape[0] * self._width / frame.shape[1]))
        small = cv2.resize(frame, (self._width, height), interpolation=cv2.INTER_AREA)
        rects, weights = self._hog.detectMultiScale(
            small, winStride=(8, 8), padding=(8, 8), scale=self._scale
        )
        return int(sum(1 for w in np.ravel(weights) if w > 0.5)) if len(rects) else 0


class SceneReader:
    """Reads a BGR frame (and optionally the previous one) into a :class:`MoodEstimate`."""

    def __init__(
        self,
        taxonomy: Taxonomy,
        people: PeopleCounter | None = None,
        weights: SceneWeights | None = None,
    ) -> None:
        import cv2

        self._cv2 = cv2
        self.taxonomy = taxonomy
        self._people = people
        self._weights = weights or SceneWeights()

    def _small(self, frame: Frame) -> Frame:
        cv2 = self._cv2
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        height = max(1, round(frame.shape[0] * _ANALYSIS_WIDTH / frame.shape[1]))
        small: Frame = cv2.resize(frame, (_ANALYSIS_WIDTH, height), interpolation=cv2.INTER_AREA)
        return small

    def measure(self, frame: Frame, previous: Frame | None = None) -> dict[str, float]:
        """The raw cues in [0, 1] (warmth in [-1, 1]) that the reading is built from."""
        cv2 = self._cv2
        small = self._small(frame)
        hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
        hue = hsv[..., 0].astype(np.float32) * 2.0  # degrees
        sat = hsv[..., 1].astype(np.float32) / 255.0
        val = hsv[..., 2].astype(np.float32) / 255.0
        # Warm hues (reds to yellows) vs cool (greens to blues), weighted by saturation.
        warm = np.cos(np.deg2rad(hue - 30.0))
        warmth = float((warm * sat).sum() / max(float(sat.sum()), 1e-6))
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        cues = {
            "brightness": float(val.mean()),
            "saturation": float(sat.mean()),
            "warmth": warmth * min(1.0, float(sat.mean()) * 4.0),
            "contrast": float(gray.std() / 128.0),
            "activity": 0.0,
        }
        if previous is not None:
            prev_small = self._small(previous)
            if prev_small.shape == small.shape:
                prev_gray = cv2.cvtColor(prev_small, cv2.COLOR_BGR2GRAY)
                diff = cv2.absdiff(gray, prev_gray)
                cues["activity"] = min(1.0, float(diff.mean()) / 32.0)
        return cues

    def read(self, frame: Frame, previous: Frame | None = None) -> MoodEstimate:
        cues = self.measure(frame, previous)
        evidence: dict[str, Any] = {k: round(v, 4) for k, v in cues.items()}
        b, s = cues["brightness"], cues["saturation"]
        w = self._weights
        valence = _rescale(0.69 * b + 0.22 * s, _PLEASURE_RANGE) * 0.8
        arousal = _rescale(-0.31 * b + 0.60 * s, _AROUSAL_RANGE) * 0.7
        valence += w.warmth_valence * cues["warmth"]
        arousal += w.warmth_arousal * cues["warmth"] + w.activity_arousal * cues["activity"]
        if self._people is not None:
            people = self._people.count(frame)
            evidence["people"] = people
            arousal += w.people_arousal * min(people, 5)
            valence += w.people_valence * min(people, 5)
        valence, arousal = clamp(valence), clamp(arousal)
        # A black, flat or washed-out frame says little about the room.
        exposure = 1.0 - abs(b - 0.5) * 1.2
        confidence = clamp(0.25 + 0.5 * min(1.0, cues["contrast"] * 2.5) + 0.25 * exposure, 0, 1)
        evidence["reader"] = "scene"
        probs = self.taxonomy.probabilities(valence, arousal)
        return MoodEstimate(valence, arousal, probs, confidence, evidence)
