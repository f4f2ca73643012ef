"""The on-device captioner: BLIP's exported graphs on ONNX Runtime, no torch at run time.

numpy + onnxruntime + tokenizers + Pillow. Preprocessing equals BlipImageProcessor
(RGB → square bicubic resize → /255 → CLIP mean/std → CHW); decoding is greedy with a KV
cache, stops on [SEP], and masks [SEP] while under ``min_new_tokens`` — token for token what
``generate(do_sample=False, num_beams=1)`` does.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from moodcast.config.errors import MoodcastError
from moodcast.models.heap import release_freed_heap
from moodcast.models.onnx_runtime import Manifest, make_session, share_arena, share_threads
from moodcast.models.rows import TableRows
from moodcast.models.text.wordpiece import WordPieceText

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caption:
    text: str
    tokens: list[int]
    encoder_ms: float
    decoder_ms: float


_EXPORT_FIX = "run 'moodcast models export --out DIR' and point reader.models_dir at DIR"


def _embedding_rows(manifest: Manifest, precision: str) -> TableRows:
    if precision == "int8":
        return TableRows(manifest.file("embeddings.int8.npy"),
                         manifest.file("embeddings.int8.scales.npy"))  # fmt: skip
    return TableRows(manifest.file("embeddings.npy"))


def _prompt_ids(tokenizer_json: Path, prompt: str) -> list[int]:
    """The prompt's token ids; the tokenizer is let go afterwards (decoding needs only the
    token table, models.wordpiece), and what it held goes back to the system."""
    if not prompt:
        return []
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_json))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    ids: list[int] = tokenizer.encode(prompt, add_special_tokens=False).ids
    del tokenizer
    release_freed_heap()
    return ids


class BlipCaptioner:
    def __init__(
        self,
        models_dir: Path,
        precision: str = "int8",
        threads: int = 2,
        providers: list[str] | None = None,
        prompt: str = "",
        max_new_tokens: int = 20,
        min_new_tokens: int = 0,
    ) -> None:
        self.dir = Path(models_dir).expanduser()
        m = Manifest(self.dir / "manifest.json", "blip-captioner", _EXPORT_FIX)
        suffix = {"int8": ".int8.onnx", "fp16": ".fp16.onnx"}.get(precision, ".onnx")
        providers = providers or ["CPUExecutionProvider"]
        if precision == "fp16" and "encoder.fp16.onnx" not in m.files:
            raise MoodcastError(
                f"{self.dir} has no fp16 graphs",
                "export them with 'moodcast models export --fp16', or use precision int8/fp32",
            )
        for name in ("encoder", "decoder"):
            if f"{name}{suffix}.data" in m.files:
                m.file(f"{name}{suffix}.data")
        share_threads(threads)  # encoder and decoder take turns: one pool, no idle spinning
        share_arena(int(m.get("arena_bytes", -1)))  # and one arena
        self.encoder = make_session(m.file(f"encoder{suffix}"), threads, providers, "shared")
        self.decoder = make_session(m.file(f"decoder{suffix}"), threads, providers, "shared")
        self.embed = _embedding_rows(m, precision)
        tokenizer_json = m.file("tokenizer.json")
        self.text = WordPieceText(tokenizer_json)
        self.size, self.layers = int(m["image_size"]), int(m["layers"])
        self.heads, self.head_dim = int(m["heads"]), int(m["head_dim"])
        self.mean = np.array(m["mean"], np.float32)
        self.std = np.array(m["std"], np.float32)
        self.bos, self.sep = int(m["bos_token_id"]), int(m["sep_token_id"])
        self.prompt_ids = _prompt_ids(tokenizer_json, prompt)
        self.max_new, self.min_new = max_new_tokens, min_new_tokens
        self.kv_names = [f"{k}.{i}" for i in range(self.layers) for k in ("key", "value")]
        inputs = {i.name: i.type for i in self.decoder.get_inputs()}
        if "image" not in inputs:
            raise MoodcastError(f"{self.dir} holds graphs of an older export (cross keys/values)",
                                "export the models again: 'moodcast models export'")  # fmt: skip
        self.kv_dtype = np.float16 if inputs["past_key.0"] == "tensor(float16)" else np.float32
        if precision == "fp16" and self.decoder.get_providers()[0] == "CPUExecutionProvider":
            logger.warning("fp16 graphs are meant for a GPU; on the CPU int8 is much faster")

    def preprocess(self, frame_bgr: NDArray[np.uint8]) -> NDArray[np.float32]:
        from PIL import Image

        rgb = np.ascontiguousarray(frame_bgr[..., ::-1]) if frame_bgr.ndim == 3 else frame_bgr
        img = (
            Image.fromarray(rgb)
            .convert("RGB")
            .resize((self.size, self.size), Image.Resampling.BICUBIC)
        )
        arr = (np.asarray(img, dtype=np.float32) / 255.0 - self.mean) / self.std
        return arr.transpose(2, 0, 1)[None].astype(np.float32)

    def __call__(self, frame_bgr: NDArray[np.uint8]) -> Caption:
        return self.caption_pixels(self.preprocess(frame_bgr))

    def caption_pixels(self, pixels: NDArray[np.float32]) -> Caption:
        start = time.perf_counter()
        (image,) = self.encoder.run(None, {"pixel_values": pixels})
        encoded = time.perf_counter()
        feeds: dict[str, Any] = {"image": image[0]}
        empty = np.zeros((1, self.heads, 0, self.head_dim), self.kv_dtype)
        past = [empty] * len(self.kv_names)
        step = [self.bos, *self.prompt_ids]
        tokens: list[int] = []
        for i in range(self.max_new):
            feeds["inputs_embeds"] = self.embed(step)[None]
            feeds.update({f"past_{n}": p for n, p in zip(self.kv_names, past, strict=True)})
            logits, *past = self.decoder.run(None, feeds)
            if i < self.min_new:
                logits[:, self.sep] = -np.inf
            token = int(np.argmax(logits[0]))
            tokens.append(token)
            if token == self.sep:
                break
            step = [token]
        done = time.perf_counter()
        text = self.text([t for t in tokens if t != self.sep])
        return Caption(text.strip(), tokens, (encoded - start) * 1000, (done - encoded) * 1000)
