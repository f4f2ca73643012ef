"""Sentence embeddings on the device: all-MiniLM-L6-v2 in ONNX Runtime, mean-pooled, L2-normed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from moodcast.models.onnx_runtime import Manifest, make_session

MAX_CHARS = 1000  # the tokenizer keeps 128 tokens anyway; this bounds the work on a long text
TEXT_FIX = "reinstall moodcast, or run 'moodcast models export --out DIR' for a custom model"


def graph_name(manifest: Manifest, precision: str) -> str:
    """The text graph for a precision: int8 where asked or where it is the only one."""
    if precision != "int8" and "text.onnx" in manifest.files:
        return "text.onnx"
    return "text.int8.onnx"


class TextEmbedder:
    """Text → a unit vector of 384 floats, one ONNX session and its tokenizer."""

    def __init__(
        self, manifest: Manifest, precision: str = "int8", threads: int = 1,
        providers: Sequence[str] = ("CPUExecutionProvider",),
    ) -> None:  # fmt: skip
        from tokenizers import Tokenizer

        self.graph = graph_name(manifest, precision)
        self.precision = "int8" if self.graph == "text.int8.onnx" else "fp32"
        self.session = make_session(manifest.file(self.graph), threads, providers, "malloc")
        self.tokenizer = Tokenizer.from_file(str(manifest.file("text_tokenizer.json")))

    def __call__(self, text: str) -> NDArray[np.float32]:
        enc = self.tokenizer.encode(text[:MAX_CHARS])
        ids = np.array([enc.ids], dtype=np.int64)
        (vector,) = self.session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        return np.asarray(vector[0], dtype=np.float32)

    def many(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return np.stack([self(t) for t in texts]) if texts else np.zeros((0, 384), np.float32)


def text_manifest(folder: Path) -> Manifest:
    return Manifest(folder / "text_manifest.json", "caption-mood", TEXT_FIX)
