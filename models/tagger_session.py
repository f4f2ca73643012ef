"""One small class per ONNX model: the musicnn taggers on ONNX Runtime.

Resolves the file from the manifest, refuses a file whose sha256 does not match, pins the
thread count, reads the input name from the session and warms up once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from edge.errors import MoodcastError
from models.audio import N_MELS, PATCH_FRAMES
from models.ort_threads import session_options

logger = logging.getLogger(__name__)

MODELS_DIR = Path(__file__).parent / "musicnn"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checked(path: Path, expected_sha256: str | None, fix: str) -> Path:
    """``path``, refused when missing or unlike the manifest's sha256; ``fix`` says what to do."""
    if expected_sha256 is None or not path.is_file():
        raise MoodcastError(f"model file {path} is missing", fix)
    if sha256(path) != expected_sha256:
        raise MoodcastError(
            f"model file {path} does not match its manifest checksum (damaged or replaced)", fix
        )
    return path


@dataclass(frozen=True)
class TagOutput:
    tags: dict[str, float]  # mean probability over patches
    embedding: NDArray[np.float32]


class MusicnnTagger:
    def __init__(self, name: str, models_dir: Path = MODELS_DIR, threads: int = 1) -> None:
        import onnxruntime as ort

        manifest = json.loads((models_dir / "manifest.json").read_text(encoding="utf-8"))
        entry = manifest["models"].get(name)
        if entry is None:
            raise MoodcastError(f"model {name!r} is not in {models_dir}/manifest.json")
        fix = "restore it from the moodcast release (or rerun convert_musicnn.py)"
        path = checked(models_dir / entry["file"], entry["sha256"], fix)
        options = session_options(threads)
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
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
