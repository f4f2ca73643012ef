"""Training the caption valence/arousal model from labelled captions, for a text model folder.

Run by the export (``moodcast models export``) and by scripts/train_caption_mood.py; the
training captions ship in ``models/text/data/`` (the project's dev set and more written for
it). Hyperparameters: see docs/caption-mood.md for how they were chosen.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from moodcast.config.text import parse_json
from moodcast.models.onnx_runtime import sha256
from moodcast.models.text import caption_va
from moodcast.models.text.caption_labels import Labelled, read_labelled
from moodcast.models.text.embedder import TextEmbedder, text_manifest

DATA_DIR = Path(__file__).parent / "data"
RIDGE = 0.1
SHARPNESS = 1.0


def training_files() -> list[Path]:
    return sorted(DATA_DIR.glob("*.tsv"))


def training_set(files: Sequence[Path]) -> list[Labelled]:
    """The labelled captions of all files, each caption once (the first label wins)."""
    seen: dict[str, Labelled] = {}
    for path in files:
        for row in read_labelled(path):
            seen.setdefault(row.caption.casefold(), row)
    return list(seen.values())


def fit_rows(vectors: np.ndarray, rows: Sequence[Labelled]) -> caption_va.QuadrantModel:
    pleasant = np.array([r.pleasant for r in rows])
    lively = np.array([r.lively for r in rows])
    return caption_va.fit(vectors, pleasant, lively, RIDGE, SHARPNESS)


def write_va_models(folder: Path, files: Sequence[Path] | None = None) -> dict[str, str]:
    """Train one model per text graph in the folder and record them in its manifest."""
    files = list(files or training_files())
    rows = training_set(files)
    path = folder / "text_manifest.json"
    manifest = parse_json(path.read_text(encoding="utf-8"))
    written: dict[str, str] = {}
    for precision, graph in (("fp32", "text.onnx"), ("int8", "text.int8.onnx")):
        if graph not in manifest["files"]:
            continue
        embed = TextEmbedder(text_manifest(folder), precision)
        name = f"va.{precision}.npz"
        fit_rows(embed.many([r.caption for r in rows]), rows).save(folder / name)
        manifest["files"][name] = {"sha256": sha256(folder / name)}
        written[precision] = name
    manifest["va_models"] = written
    manifest["training"] = {"captions": len(rows), "files": [f.name for f in files],
                            "ridge": RIDGE, "sharpness": SHARPNESS}  # fmt: skip
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return written
