"""One small class per ONNX model: the musicnn taggers on ONNX Runtime.

Resolves the file from the manifest, refuses a file whose sha256 does not match, pins the
thread count (models.onnx_runtime), reads the input name from the session and warms up once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from moodcast.config.errors import MoodcastError
from moodcast.models.audio import N_MELS, PATCH_FRAMES
from moodcast.models.onnx_runtime import Manifest, checked, make_session

logger = logging.getLogger(__name__)

MODELS_DIR = Path(__file__).parent / "musicnn"


@dataclass(frozen=True)
class TagOutput:
    tags: dict[str, float]  # mean probability over patches
    embedding: NDArray[np.float32]


class MusicnnTagger:
    def __init__(self, name: str, models_dir: Path = MODELS_DIR, threads: int = 1) -> None:
        fix = "restore it from the moodcast release (or rerun convert_musicnn.py)"
        manifest = Manifest(models_dir / "manifest.json", None, fix)
        entry = manifest.get("models", {}).get(name)
        if entry is None:
            raise MoodcastError(f"model {name!r} is not in {models_dir}/manifest.json", fix)
        path = checked(models_dir / entry["file"], entry["sha256"], fix)
        self.session = make_session(path, threads)
        self.input_name = self.session.get_inputs()[0].name
        self.labels: list[str] = entry["labels"]
        self.name = name
        self(np.zeros((1, PATCH_FRAMES, N_MELS), np.float32))  # warm-up

    def __call__(self, batch: NDArray[np.float32]) -> TagOutput:
        tags, embedding = self.session.run(None, {self.input_name: batch})
        mean = np.asarray(tags, dtype=np.float64).mean(axis=0)
        return TagOutput(
            dict(zip(self.labels, (float(v) for v in mean), strict=True)),
            np.asarray(embedding, dtype=np.float32).mean(axis=0),
        )
