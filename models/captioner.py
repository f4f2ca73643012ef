"""The on-device captioner: BLIP's exported graphs on ONNX Runtime, no torch at run time.

numpy + onnxruntime + tokenizers + Pillow. Preprocessing equals BlipImageProcessor
(RGB → square bicubic resize → /255 → CLIP mean/std → CHW); decoding is greedy with a KV
cache, stops on [SEP], and masks [SEP] while under ``min_new_tokens`` — token for token what
``generate(do_sample=False, num_beams=1)`` does.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edge.errors import MoodcastError
from edge.heap import release_freed_heap
from models.ort_threads import session_options, share_arena, share_threads
from models.rows import TableRows
from models.tagger_session import checked
from models.wordpiece import WordPieceText

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caption:
    text: str
    tokens: list[int]
    encoder_ms: float
    decoder_ms: float


def load_manifest(models_dir: Path, kind: str) -> dict[str, Any]:
    path = models_dir / "manifest.json"
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MoodcastError(
            f"no readable model manifest at {path} ({exc})",
            "run 'moodcast models export --out DIR' and point reader.models_dir at DIR",
        ) from exc
    if manifest.get("kind") != kind:
        raise MoodcastError(f"{path} describes {manifest.get('kind')!r}, not {kind!r}",
                            "point reader.models_dir at the folder the export wrote")  # fmt: skip
    return manifest


def verified(models_dir: Path, manifest: dict[str, Any], name: str) -> Path:
    """The path of a manifest file, refused when missing or when its sha256 differs."""
    entry = manifest["files"].get(name)
    expected = None if entry is None else entry["sha256"]
    return checked(models_dir / name, expected, "export the models again")


def make_session(path: Path, threads: int, providers: list[str], arena: bool = False) -> Any:
    """An ORT session with pinned threads and the requested providers that are installed.

    ``arena``: allocate from the process-wide arena (``models.ort_threads``), for the caption
    graphs, which take turns. Without an arena, each 16 MB attention buffer of the 384 px
    encoder went through malloc and glibc kept the freed pieces (its peak grew by 150-190 MB
    per run); with the arena and without memory patterns (a pattern reserves every planned
    buffer at once) it stays the same over runs, and the decoder reuses the same blocks.
    """
    import onnxruntime as ort

    options = session_options(threads, shared_arena=arena)
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.enable_cpu_mem_arena = arena
    options.enable_mem_pattern = False
    available = set(ort.get_available_providers())
    chosen = [p for p in providers if p in available] or ["CPUExecutionProvider"]
    missing = [p for p in providers if p not in available]
    if missing:
        logger.warning("execution providers not installed, skipped: %s", ", ".join(missing))
    session = ort.InferenceSession(str(path), options, providers=chosen)
    release_freed_heap()  # what loading freed goes back to the OS
    logger.info("%s on %s", path.name, ", ".join(session.get_providers()))
    return session


def _embedding_rows(models_dir: Path, manifest: dict[str, Any], precision: str) -> TableRows:
    if precision == "int8":
        return TableRows(verified(models_dir, manifest, "embeddings.int8.npy"),
                         verified(models_dir, manifest, "embeddings.int8.scales.npy"))  # fmt: skip
    return TableRows(verified(models_dir, manifest, "embeddings.npy"))


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
        m = load_manifest(self.dir, "blip-captioner")
        suffix = {"int8": ".int8.onnx", "fp16": ".fp16.onnx"}.get(precision, ".onnx")
        providers = providers or ["CPUExecutionProvider"]
        if precision == "fp16" and "encoder.fp16.onnx" not in m["files"]:
            raise MoodcastError(
                f"{self.dir} has no fp16 graphs",
                "export them with 'moodcast models export --fp16', or use precision int8/fp32",
            )
        for name in ("encoder", "decoder"):
            if f"{name}{suffix}.data" in m["files"]:
                verified(self.dir, m, f"{name}{suffix}.data")
        share_threads(threads)  # encoder and decoder take turns: one pool, no idle spinning
        share_arena(int(m.get("arena_bytes", -1)))  # and one arena
        self.encoder = make_session(
            verified(self.dir, m, f"encoder{suffix}"), threads, providers, arena=True
        )
        self.decoder = make_session(
            verified(self.dir, m, f"decoder{suffix}"), threads, providers, arena=True
        )
        self.embed = _embedding_rows(self.dir, m, precision)
        tokenizer_json = verified(self.dir, m, "tokenizer.json")
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
