"""The built-in scene reader: mood from colour, light, motion and what is in view.

Colour → emotion follows Valdez & Mehrabian (1994), "Effects of color on emotions",
J. Exp. Psychol. Gen. 123(4): pleasure = 0.69·B + 0.22·S and arousal = −0.31·B + 0.60·S
for brightness B and saturation S. Warm hues add a little pleasure and arousal, visible
motion between frames adds arousal, people in view (and more of them than a moment ago) make
a scene livelier, traffic makes it tenser, darkness calmer, a hazy or blurred view (rain, fog)
gloomier, and the kind of place the objects suggest (a café, a lounge, a road) leans it its
way. With the object detector and the text model, what was seen ("three people and a car") is
also read like a caption and blended in by confidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from moodcast.config.text import with_article
from moodcast.models.mood import MoodEstimate, Taxonomy, clamp
from moodcast.models.vision import motion
from moodcast.models.vision.frames import FrameRefusedError, fit_frame
from moodcast.models.vision.fusion import view
from moodcast.models.vision.monochrome import grey, is_monochrome
from moodcast.models.vision.naming import QuadrantNamer
from moodcast.models.vision.objects import Detections
from moodcast.models.vision.picture import Picture, picture

if TYPE_CHECKING:
    from moodcast.models.text.caption_mood import CaptionMood
    from moodcast.models.vision.classifier import Look
    from moodcast.models.vision.fusion import ClassTable, SceneFusion

Frame = NDArray[np.uint8]
Pooled = NDArray[np.float32] | None  # the classifier's pooled features, when it has them

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
    arrivals_arousal: float = 0.04  # per person more than at the last reading
    vehicle_arousal: float = 0.05
    vehicle_valence: float = -0.04
    darkness_arousal: float = -0.15
    haze_valence: float = -0.15
    haze_arousal: float = -0.1
    detected_weight: float = 0.4  # share of the reading of what was seen, at equal confidence


# How the kind of place leans a reading: (valence, arousal).
PLACE_LEAN = {"café or restaurant": (0.1, -0.05), "home or lounge": (0.1, -0.15),
              "shop": (0.05, 0.0), "road": (-0.05, 0.1), "office": (0.0, -0.05),
              "sports": (0.05, 0.15)}  # fmt: skip


class SceneLook(Protocol):
    """What kind of scene it is: a probability per ImageNet class, and the features they are
    read from (the scene classifier)."""

    labels: tuple[str, ...]

    def look(self, frame: Frame, style: bool = False) -> Look: ...


class ThingCounter(Protocol):
    """What is in view, as counts: the object detector, or HOG's people alone."""

    def detect(self, frame: Frame) -> Detections: ...


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

    def detect(self, frame: Frame) -> Detections:
        if frame.ndim not in (2, 3) or min(frame.shape[:2]) < 16:
            raise ValueError(f"a frame of shape {frame.shape} is too small to find people in")
        people = self.count(frame)
        return Detections({"person": people} if people else {})


def _fit_or_none(frame: Frame) -> Frame | None:
    try:
        return fit_frame(frame)
    except FrameRefusedError:
        return None


class SceneReader:
    """Reads a BGR frame (and optionally the previous one) into a :class:`MoodEstimate`."""

    def __init__(
        self,
        taxonomy: Taxonomy,
        people: ThingCounter | None = None,
        weights: SceneWeights | None = None,
        text: CaptionMood | None = None,
        classifier: SceneLook | None = None,
        fusion: SceneFusion | None = None,
        mono: SceneFusion | None = None,
    ) -> None:
        """``people``: what counts things in view; ``text``: reads what was seen into mood;
        ``classifier``: what kind of scene it is; ``fusion``: the fitted way the cues combine
        (without it, the hand-set ``weights`` do); ``mono``: the one fitted on colourless
        copies of the same photographs, for frames without colour (night vision)."""
        import cv2

        self._cv2 = cv2
        self.taxonomy = taxonomy
        self._people = people
        self._weights = weights or SceneWeights()
        self._text = text
        self._classifier = classifier
        self._fusion = fusion
        self._namer = None if fusion is None else QuadrantNamer(taxonomy, text, fusion)
        self._mono = mono if fusion is not None else None
        self._mono_namer = None if self._mono is None else QuadrantNamer(taxonomy, text, self._mono)
        # Why colourless frames are read by the colour fusion, when they are (for evidence).
        self.mono_detail = "" if self._mono is not None else "no monochrome fusion"
        # What a frame without colour is: a camera's night vision ("camera": its colour says
        # nothing of the room, the monochrome fusion reads it) or a black-and-white
        # photograph ("photograph": the colour fusion reads it as the photographs it learnt
        # from, where black and white mostly went with gloom; docs/scene-reader.md).
        self.colourless_as = "camera"
        self._last_people: int | None = None
        self.detect_beside = True  # the detector beside the classifier (False: one after the other)
        self.counter_detail = ""  # which counter is in use and why (for doctor and the state)
        self.models_detail = ""  # which cues and fusion are in use and why

    @property
    def text(self) -> CaptionMood | None:
        """The text model reading what was seen; the caption reader shares it."""
        return self._text

    def _small(self, frame: Frame) -> Frame:
        cv2 = self._cv2
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        height = max(1, round(frame.shape[0] * _ANALYSIS_WIDTH / frame.shape[1]))
        small: Frame = cv2.resize(frame, (_ANALYSIS_WIDTH, height), interpolation=cv2.INTER_AREA)
        return small

    def measure(self, frame: Frame, previous: Frame | None = None,
                small: Frame | None = None) -> dict[str, float]:  # fmt: skip
        """The raw cues in [0, 1] (warmth in [-1, 1]) that the reading is built from
        (``small``: the frame at the analysis width, when already made)."""
        cv2 = self._cv2
        small = self._small(frame) if small is None else small
        hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
        hue = hsv[..., 0].astype(np.float32) * 2.0  # degrees
        sat = hsv[..., 1].astype(np.float32) / 255.0
        val = hsv[..., 2].astype(np.float32) / 255.0
        # Warm hues (reds to yellows) vs cool (greens to blues), weighted by saturation.
        warm = np.cos(np.deg2rad(hue - 30.0))
        warmth = float((warm * sat).sum() / max(float(sat.sum()), 1e-6))
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        # Whether the frame holds a picture is judged at its own size when it is narrower
        # than the analysis width: enlarging repeats pixels, which made random noise look
        # like a picture (a 100-px frame of noise read *dreamy* at confidence 0.89).
        native = gray
        if frame.shape[1] < _ANALYSIS_WIDTH:
            native = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        cues = {
            "brightness": float(val.mean()),
            "saturation": float(sat.mean()),
            "warmth": warmth * min(1.0, float(sat.mean()) * 4.0),
            "contrast": float(gray.std() / 128.0),
            "sharpness": min(1.0, float(cv2.Laplacian(gray, cv2.CV_32F).var()) / 400.0),
            "colourfulness": _colourfulness(small),
            "structure": _structure(native),
            "activity": 0.0,
        }
        if previous is not None:  # what moved, not what changed (exposure, a shaken camera)
            cues["activity"] = motion.activity(small, self._small(previous))
        return cues

    def _measured(self, frame: Frame, previous: Frame | None, small: Frame | None = None,
                  ) -> tuple[dict[str, float], dict[str, Any]]:  # fmt: skip
        """The raw cues, and the evidence they start (with darkness and haze)."""
        cues = self.measure(frame, previous, small)
        evidence: dict[str, Any] = {k: round(v, 4) for k, v in cues.items()}
        evidence.update(darkness=round(_darkness(cues), 4), haze=round(_haze(cues), 4))
        return cues, evidence

    def prepare(self, frame: Frame, previous: Frame | None = None) -> Picture:
        """The picture this reader reads in a frame from outside: fitted (any shape in:
        bounded time and memory, or FrameRefusedError), bars cut, privacy masks filled; the
        previous frame made alike, or left out when it cannot be fitted."""
        frame = fit_frame(frame)
        return picture(frame, None if previous is None else _fit_or_none(previous))

    def read(self, frame: Frame, previous: Frame | None = None) -> MoodEstimate:
        return self.read_picture(self.prepare(frame, previous))

    def read_picture(self, framed: Picture) -> MoodEstimate:
        """The reading of a prepared picture (:meth:`prepare`), its notes in the evidence: a
        caller that also reads the picture another way (the caption reader) prepares it once."""
        estimate = self._read_picture(framed.frame, framed.previous)
        if not framed.notes:
            return estimate
        return replace(estimate, evidence={**estimate.evidence, **framed.notes})

    def _read_picture(self, frame: Frame, previous: Frame | None) -> MoodEstimate:
        """The reading of a fitted frame's picture, by whichever fusion or weights apply."""
        small = self._small(frame)  # once: the cues and the colour test both read it
        cues, evidence = self._measured(frame, previous, small)
        darkness, haze = _darkness(cues), _haze(cues)
        if self._fusion is not None:
            if self.colourless_as == "camera" and is_monochrome(small):
                return self._colourless(frame, previous, cues, evidence)
            assert self._namer is not None  # built with the fusion
            return self._fused(frame, cues, darkness, haze, evidence, self._fusion, self._namer)
        b, s = cues["brightness"], cues["saturation"]
        w = self._weights
        valence = _rescale(0.69 * b + 0.22 * s, _PLEASURE_RANGE) * 0.8
        arousal = _rescale(-0.31 * b + 0.60 * s, _AROUSAL_RANGE) * 0.7
        valence += w.warmth_valence * cues["warmth"]
        arousal += w.warmth_arousal * cues["warmth"] + w.activity_arousal * cues["activity"]
        arousal += w.darkness_arousal * darkness + w.haze_arousal * haze
        valence += w.haze_valence * haze
        seen = self._detect(frame, evidence)
        if seen is not None:
            dv, da = self._objects_lean(seen, evidence)
            valence, arousal = valence + dv, arousal + da
        valence, arousal = clamp(valence), clamp(arousal)
        # A black, flat or washed-out frame says little about the room.
        exposure = 1.0 - abs(b - 0.5) * 1.2
        confidence = clamp(0.25 + 0.5 * min(1.0, cues["contrast"] * 2.5) + 0.25 * exposure, 0, 1)
        little = _says_little(cues)
        if little:  # dark and flat frames already have a low confidence from the formula
            evidence["frame"] = little
        if cues["structure"] < NO_PICTURE:
            confidence *= 0.25
        evidence["reader"] = "scene"
        estimate = _named(self.taxonomy, valence, arousal, confidence, evidence)
        if seen is not None and self._text is not None and seen.counts:
            return self._with_description(estimate, seen)
        return estimate

    def observe(self, frame: Frame, previous: Frame | None = None,
                classes: ClassTable | None = None, described: list[str] | None = None,
                looks: list[Pooled] | None = None, views: Sequence[str] = ("frame",),
                style: bool = False) -> dict[str, float]:  # fmt: skip
        """The cues the fitted fusion reads, by name (what ``scripts/fit_scene_fusion.py``
        fits on); a cue whose part is missing is NaN. What was described (objects and
        classes, as a phrase; '' for nothing) is appended to ``described`` when given, and
        the classifier's pooled features of ``views`` (and the frame's style statistics after
        them when ``style``; None without them) to ``looks``."""
        framed = self.prepare(frame, previous)
        frame, previous = framed.frame, framed.previous
        cues = self.measure(frame, previous)
        evidence: dict[str, Any] = {}
        found, words, look = self._cues(frame, cues, _darkness(cues), _haze(cues), evidence,
                                        classes, views, style)  # fmt: skip
        if described is not None:
            described.append(_description(evidence, words))
        if looks is not None:
            looks.append(look)
        return found

    def _cues(self, frame: Frame, cues: dict[str, float], darkness: float, haze: float,
              evidence: dict[str, Any], classes: ClassTable | None,
              views: Sequence[str] = ("frame",), style: bool = False,
              ) -> tuple[dict[str, float], list[str], Pooled]:  # fmt: skip
        """The fusion's cues, the classifier's likeliest class names (at least 10 %) and its
        pooled features of ``views`` (with the frame's style after them when ``style``; None
        without them)."""
        nan = float("nan")
        out = {k: cues[k] for k in ("brightness", "saturation", "warmth", "contrast",
                                    "sharpness", "colourfulness")}  # fmt: skip
        out.update(darkness=darkness, haze=haze, people=nan, crowd=nan, vehicles=nan,
                   seen_pleasant=nan, seen_lively=nan, class_pleasant=nan,
                   class_lively=nan)  # fmt: skip
        seen, words, look = self._detect_and_look(frame, out, evidence, classes, views, style)
        if seen is not None:
            self._objects_lean(seen, evidence)  # the counts and place into the evidence
            out.update(people=float(np.log1p(min(seen.people, 20))),
                       vehicles=float(np.log1p(min(seen.vehicles, 10))))  # fmt: skip
            if seen.glimpsed is not None:  # HOG gives no scores: the cue drops out
                out["crowd"] = float(np.log1p(seen.glimpsed))
            if self._text is not None:
                out.update(seen_pleasant=0.0, seen_lively=0.0)  # nothing seen: no lean
                if seen.counts:
                    told = self._text.read(seen.sentence())
                    evidence["seen"] = seen.sentence()
                    odds = told.evidence
                    out.update(seen_pleasant=2 * float(odds["caption_pleasant"]) - 1,
                               seen_lively=2 * float(odds["caption_lively"]) - 1)  # fmt: skip
        return out, words, look

    def _detect_and_look(self, frame: Frame, out: dict[str, float], evidence: dict[str, Any],
                         classes: ClassTable | None, views: Sequence[str], style: bool,
                         ) -> tuple[Detections | None, list[str], Pooled]:  # fmt: skip
        """What the detector found, and the classifier's likeliest class names and pooled
        features (its lean into ``out``). With both, the detector runs in a thread of its own
        beside the classifier: each leaves cores idle on its own (OpenCV's SSD gains little
        from a second thread) and both let go of the GIL while they compute."""
        classifier = self._classifier
        if classifier is None or classes is None:
            return self._detect(frame, evidence), [], None
        found: dict[str, Any] = {}  # the detector's evidence, merged once it is done
        if self.detect_beside and self._people is not None:
            with ThreadPoolExecutor(1, thread_name_prefix="moodcast-detect") as pool:
                detecting = pool.submit(self._detect, frame, found)
                words, look = _class_cues(classifier, classes, frame, out, evidence, views, style)
                seen = detecting.result()
        else:
            seen = self._detect(frame, found)
            words, look = _class_cues(classifier, classes, frame, out, evidence, views, style)
        evidence.update(found)
        return seen, words, look

    def _colourless(self, frame: Frame, previous: Frame | None, cues: dict[str, float],
                    evidence: dict[str, Any]) -> MoodEstimate:  # fmt: skip
        """A frame without colour (night vision, a black-and-white camera, an old print): read
        as the colourless copies the monochrome fusion was fitted on (a tint dropped). Without
        that fusion, by the colour one with a quarter of its confidence: it reads almost every
        colourless frame gloomy, whatever the room is doing."""
        assert self._fusion is not None and self._namer is not None
        if self._mono is None or self._mono_namer is None:
            estimate = self._fused(frame, cues, _darkness(cues), _haze(cues), evidence,
                                   self._fusion, self._namer)  # fmt: skip
            said = ("none: read by the colour fusion at a quarter of its confidence, since it"
                    f" reads colourless frames gloomy ({self.mono_detail})")  # fmt: skip
            return replace(estimate, confidence=estimate.confidence * 0.25,
                           evidence={**estimate.evidence, "colour": said})  # fmt: skip
        frame = grey(frame)
        cues, evidence = self._measured(frame, None if previous is None else grey(previous))
        estimate = self._fused(frame, cues, _darkness(cues), _haze(cues), evidence, self._mono,
                               self._mono_namer)  # fmt: skip
        said = ("none (night vision or black and white): read by the fusion fitted on colourless"
                " copies of the photographs")  # fmt: skip
        return replace(estimate, evidence={**estimate.evidence, "colour": said})

    def _fused(self, frame: Frame, cues: dict[str, float], darkness: float, haze: float,
               evidence: dict[str, Any], fusion: SceneFusion,
               namer: QuadrantNamer) -> MoodEstimate:  # fmt: skip
        """The reading from the fitted fusion: each axis's side from its probability, motion
        on top (motion adds arousal; a still frame is not taken as calm for lack of it)."""
        layout = fusion.appearance
        views = ("frame",) if layout is None else layout.views
        found, words, look = self._cues(frame, cues, darkness, haze, evidence, fusion.classes,
                                        views, layout is not None and layout.style > 0)  # fmt: skip
        p_pleasant, p_lively = fusion.odds(found, look)
        p_lively = min(1.0, p_lively + 0.5 * self._weights.activity_arousal * cues["activity"])
        evidence.update(reader="scene", fusion="fitted", p_pleasant=round(p_pleasant, 3),
                        p_lively=round(p_lively, 3))  # fmt: skip
        if fusion.appearance is not None and look is not None:  # how far the look moved it
            v, a = fusion.appearance.terms(look)
            evidence["appearance"] = f"valence {v:+.2f}, arousal {a:+.2f} (logit)"
        near = _near_axis(2 * p_pleasant - 1, 2 * p_lively - 1)
        if near:  # a coin toss on that axis: said (the confidence already says it is one)
            evidence["near_axis"] = near
        named = namer.estimate(p_pleasant, p_lively, _description(evidence, words), evidence)
        estimate = replace(named, confidence=fusion.confidence(p_pleasant, p_lively))
        little = _says_little(cues)
        if little:  # the fusion was fitted on photographs: such a frame says little of a room
            estimate = replace(estimate, confidence=estimate.confidence * 0.25,
                               evidence={**estimate.evidence, "frame": little})  # fmt: skip
        return estimate

    def _detect(self, frame: Frame, evidence: dict[str, Any]) -> Detections | None:
        if self._people is None:
            return None
        try:
            return self._people.detect(frame)
        except Exception as exc:  # a frame it cannot take (ValueError, cv2.error): read the rest
            evidence["objects_error"] = str(exc)[:200]
            return None

    def _objects_lean(self, seen: Detections, evidence: dict[str, Any]) -> tuple[float, float]:
        """How the things in view move the reading; their counts go into the evidence."""
        w, people = self._weights, seen.people
        arrivals = 0 if self._last_people is None else people - self._last_people
        self._last_people = people
        evidence.update(people=people, people_change=arrivals, vehicles=seen.vehicles)
        if seen.glimpsed is not None:  # a crowd too far to count still shows here
            evidence["people_glimpsed"] = round(seen.glimpsed, 1)
        if seen.counts:
            evidence["objects"] = seen.summary()
        place = seen.place()
        if place:
            evidence["place"] = place
        lean_v, lean_a = PLACE_LEAN.get(place, (0.0, 0.0))
        vehicles = min(seen.vehicles, 6)
        valence = w.people_valence * min(people, 5) + w.vehicle_valence * vehicles + lean_v
        arousal = (w.people_arousal * min(people, 5) + w.arrivals_arousal * clamp(arrivals, -3, 5)
                   + w.vehicle_arousal * vehicles + lean_a)  # fmt: skip
        return valence, arousal

    def _with_description(self, estimate: MoodEstimate, seen: Detections) -> MoodEstimate:
        """Blend in what the text model reads from a sentence of what was seen."""
        assert self._text is not None
        sentence = seen.sentence()
        told = self._text.read(sentence)
        share = self._weights.detected_weight * told.confidence
        k = share / max(share + (1 - self._weights.detected_weight) * estimate.confidence, 1e-6)
        valence = clamp((1 - k) * estimate.valence + k * told.valence)
        arousal = clamp((1 - k) * estimate.arousal + k * told.arousal)
        evidence = {**estimate.evidence, "seen": sentence, "seen_weight": round(k, 3)}
        return _named(self.taxonomy, valence, arousal, max(estimate.confidence, told.confidence),
                      evidence)  # fmt: skip


def _class_cues(classifier: SceneLook, classes: ClassTable, frame: Frame, out: dict[str, float],
                evidence: dict[str, Any], views: Sequence[str] = ("frame",), style: bool = False,
                ) -> tuple[list[str], Pooled]:  # fmt: skip
    """The classifier's lean into ``out``, its three likeliest classes into the evidence;
    the names of those at 10 % or more, and the pooled features of ``views``, with the whole
    frame's style statistics after them when ``style`` (the classes and the style are read
    from the whole frame; each other view is one more pass of the classifier)."""
    try:
        look = classifier.look(frame, style=style)
        pooled = look.appearance
        if pooled is not None and (tuple(views) != ("frame",) or style):
            parts = [pooled if v == "frame" else classifier.look(view(frame, v)).appearance
                     for v in views] + ([look.style] if style else [])  # fmt: skip
            kept = [p for p in parts if p is not None]
            pooled = np.concatenate(kept) if len(kept) == len(parts) else None
    except Exception as exc:  # a frame the classifier cannot take: read the rest
        evidence["classes_error"] = str(exc)[:200]
        return [], None
    probs, labels = look.probs, classifier.labels
    out["class_pleasant"], out["class_lively"] = classes.lean(probs)
    top = np.argsort(-probs)[:3]
    evidence["classes"] = ", ".join(f"{labels[i]} {probs[i]:.2f}" for i in top)
    return [labels[i] for i in top if round(float(probs[i]), 2) >= 0.1], pooled


# Neighbouring pixels of a photograph are alike: their correlation was 0.70 or more in every
# one of the 565 labelled photographs and 0.65 in the Hubble deep field (a photograph with
# heavy sensor noise added: 0.93), about 0 in a frame of random noise.
NO_PICTURE = 0.3


def _structure(gray: Frame) -> float:
    """How alike horizontally neighbouring pixels are (correlation; 1 for a flat frame)."""
    left, right = gray[:, :-1].astype(np.float32).ravel(), gray[:, 1:].astype(np.float32).ravel()
    spread = float(left.std() * right.std())
    if left.size < 2 or spread < 1e-6:
        return 1.0
    return float(((left - left.mean()) * (right - right.mean())).mean() / spread)


def _says_little(cues: dict[str, float]) -> str | None:
    """Why a frame says little about the room, or None."""
    if cues["contrast"] < 0.03 or cues["brightness"] < 0.04 or cues["brightness"] > 0.97:
        return "black, flat or washed out"
    if cues["structure"] < NO_PICTURE:
        return "no picture in it (noise or a broken stream)"
    return None


def _darkness(cues: dict[str, float]) -> float:
    return clamp(1.0 - cues["brightness"] / 0.25, 0.0, 1.0)


def _haze(cues: dict[str, float]) -> float:
    """Low contrast and blur together: rain, fog, a misted window."""
    return clamp(1.0 - cues["contrast"] * 4.0, 0.0, 1.0) * (1.0 - cues["sharpness"])


def _colourfulness(bgr: Frame) -> float:
    """Hasler & Süsstrunk's (2003) colourfulness, scaled so that ~1 is very colourful."""
    b, g, r = (bgr[..., i].astype(np.float32) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    spread = float(np.hypot(rg.std(), yb.std()))
    centre = float(np.hypot(rg.mean(), yb.mean()))
    return min(1.5, (spread + 0.3 * centre) / 110.0)


def _description(evidence: dict[str, Any], words: list[str]) -> str:
    """What was seen and what kind of scene it is, as one phrase for the text model."""
    return ", ".join(x for x in (evidence.get("seen", ""), _class_words(words)) if x)


def _class_words(words: list[str]) -> str:
    """Class names as a phrase the text model reads: 'a seashore and a sandbar'."""
    return " and ".join(with_article(w) for w in words)


AXIS_NOISE = 0.15  # a reading closer than this to an axis may lie on either side of it


def _near_axis(valence: float, arousal: float) -> str | None:
    """The axis a reading lies within noise of ('valence' or 'arousal'), None if neither."""
    if min(abs(valence), abs(arousal)) >= AXIS_NOISE:
        return None
    return "valence" if abs(valence) <= abs(arousal) else "arousal"


def _named(taxonomy: Taxonomy, valence: float, arousal: float, confidence: float,
           evidence: dict[str, Any]) -> MoodEstimate:  # fmt: skip
    """The estimate with a mood named inside its own quadrant, and a confidence that drops
    where the reading is within noise of an axis (and says which), instead of a confident
    word for what is a coin toss."""
    near = _near_axis(valence, arousal)
    if near:
        evidence = {**evidence, "near_axis": near}
        confidence *= 0.3 + 0.7 * min(abs(valence), abs(arousal)) / AXIS_NOISE
    probs = taxonomy.probabilities_in_quadrant(valence, arousal)
    return MoodEstimate(valence, arousal, probs, confidence, evidence)
