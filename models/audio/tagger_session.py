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
from moodcast.models.audio.features import N_MELS, PATCH_FRAMES
from moodcast.models.onnx_runtime import Manifest, checked, make_session

logger = logging.getLogger(__name__)

MODELS_DIR = Path(__file__).parent.parent / "musicnn"


PATCHES_PER_RUN = 1  # 3 s patches per session run: bounds the activations' memory


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
        self.session = make_session(path, threads, memory="malloc")
        self.input_name = self.session.get_inputs()[0].name
        self.labels: list[str] = entry["labels"]
        self.name = name
        self(np.zeros((1, PATCH_FRAMES, N_MELS), np.float32))  # warm-up

    def __call__(self, batch: NDArray[np.float32]) -> TagOutput:
        """Mean outputs over the patches, run a few at a time: a whole 60 s batch at once
        made ORT's arena grow to 1.3 GB a worker; patch by patch, without an arena, the peak
        is 148 MB and the run faster (docs/tagging.md), with the same outputs."""
        runs = [self.session.run(None, {self.input_name: batch[i : i + PATCHES_PER_RUN]})
                for i in range(0, len(batch), PATCHES_PER_RUN)]  # fmt: skip
        tags = np.concatenate([np.asarray(r[0], dtype=np.float64) for r in runs])
        embedding = np.concatenate([np.asarray(r[1], dtype=np.float32) for r in runs])
        return TagOutput(
            dict(zip(self.labels, (float(v) for v in tags.mean(axis=0)), strict=True)),
            embedding.mean(axis=0),
        )
