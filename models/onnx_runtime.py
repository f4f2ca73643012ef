"""ONNX Runtime plumbing shared by every model session in moodcast.

Manifests, checksums, execution providers, threads and the arena live here once, so each
model class (captioner, caption→mood, musicnn tagger) only says which files it needs.

Threads and arena: one of each for the process once the caption reader asks.

With a pool per session, a session's idle worker keeps spinning (ONNX Runtime spins before it
sleeps) on one of the two cores while another session runs. Measured here with the 384 px
int8 captioner, in paired runs: a pool per session 10.1-10.4 ms per token and a 280-360 ms
encoder; one shared pool 8.4-8.9 ms and 250-330 ms (420-500 ms against 480-570 ms a caption).
Once a process-wide pool exists ONNX Runtime refuses sessions with pools of their own, so every
session in moodcast takes its options from here.

The arena: the caption encoder and decoder take turns, so one CPU arena serves both. With an
arena each, the encoder's arena kept its ~30 MB peak while the decoder's allocations came on
top; with one, decoding reuses the encoder's freed blocks (peak of the 384 px int8 captioner
342 → 336 MB here, same speed).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from moodcast.config.errors import MoodcastError
from moodcast.config.text import parse_json
from moodcast.models.heap import release_freed_heap

logger = logging.getLogger(__name__)

# How a session allocates: "default" is ORT's own (an arena and memory patterns per session:
# fixed-shape batches, the tagger); "malloc" neither (small graphs fed varying lengths, the text
# model); "shared" the process-wide arena without patterns (the caption graphs, which take turns).
Memory = Literal["default", "malloc", "shared"]

_pool_size: list[int] = []  # the process-wide pool's size, once it exists (ORT's state mirrored)
_arena: list[bool] = []  # the process-wide CPU arena, once registered


def share_threads(threads: int) -> bool:
    """Create the process-wide pool (the first call sets its size); True when it exists."""
    if _pool_size:
        return True
    import onnxruntime as ort

    try:
        ort.set_global_thread_pool_sizes(threads, 1)
    except Exception:  # ORT's own Fail type: the pools were created elsewhere
        return False
    _pool_size.append(threads)
    return True


def share_arena(first_region_bytes: int = -1) -> None:
    """Register the process-wide CPU arena (after :func:`share_threads`: ORT's environment
    takes its thread pools when it is created, and registering an allocator creates it).

    ``first_region_bytes``: the arena's first region; sized to the largest working set it will
    serve, the encoder's attention buffers fit in it instead of spilling into further regions
    of doubling size (384 px blip-base: peak 328 → 323 MB here). -1: ORT's default (1 MB).
    """
    if _arena:
        return
    import onnxruntime as ort

    info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0,
                             ort.OrtMemType.DEFAULT)  # fmt: skip
    config = ort.OrtArenaCfg(0, -1, first_region_bytes, -1)
    ort.create_and_register_allocator(info, config)
    _arena.append(True)


def session_options(threads: int, shared_arena: bool = False) -> Any:
    """SessionOptions using the process-wide pool when there is one, else ``threads`` own ones;
    ``shared_arena``: allocate from the process-wide arena (:func:`share_arena` first)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if shared_arena:
        share_arena()
        options.enable_cpu_mem_arena = True
        options.add_session_config_entry("session.use_env_allocators", "1")
    if _pool_size:
        options.use_per_session_threads = False
    else:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return options


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


class Manifest:
    """A model folder's manifest: what each file is and its sha256, read once."""

    def __init__(self, path: Path, kind: str | None, fix: str) -> None:
        self.dir, self.fix = path.parent, fix
        try:
            data: dict[str, Any] = parse_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise MoodcastError(f"no readable model manifest at {path} ({exc})", fix) from exc
        if not isinstance(data, dict):
            raise MoodcastError(f"{path} is not a moodcast model manifest", fix)
        if kind is not None and data.get("kind") != kind:
            raise MoodcastError(f"{path} describes {data.get('kind')!r}, not {kind!r}", fix)
        self.data = data

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    @property
    def files(self) -> dict[str, Any]:
        files = self.data.get("files")
        return files if isinstance(files, dict) else {}

    def file(self, name: str) -> Path:
        """The path of a listed file, refused when missing or when its sha256 differs."""
        entry = self.files.get(name)
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        return checked(self.dir / name, expected, self.fix)


def choose_providers(wanted: Sequence[str]) -> list[str]:
    """The wanted execution providers that are installed, in order (CPU when none is)."""
    import onnxruntime as ort

    available = set(ort.get_available_providers())
    missing = [p for p in wanted if p not in available]
    if missing:
        logger.warning("execution providers not installed, skipped: %s", ", ".join(missing))
    return [p for p in wanted if p in available] or ["CPUExecutionProvider"]


def make_session(
    path: Path, threads: int, providers: Sequence[str] = ("CPUExecutionProvider",),
    memory: Memory = "default",
) -> Any:  # fmt: skip
    """An ORT session with pinned threads and the wanted providers that are installed.

    ``memory="shared"`` for the caption graphs: without an arena, each 16 MB attention buffer of
    the 384 px encoder went through malloc and glibc kept the freed pieces (its peak grew by
    150-190 MB per run); with the arena and without memory patterns (a pattern reserves every
    planned buffer at once) it stays the same over runs, and the decoder reuses the same blocks.
    """
    import onnxruntime as ort

    options = session_options(threads, shared_arena=memory == "shared")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if memory != "default":
        options.enable_cpu_mem_arena = memory == "shared"
        options.enable_mem_pattern = False
    try:
        session = ort.InferenceSession(str(path), options, providers=choose_providers(providers))
    except Exception as exc:  # ORT's own error types: a file that is not a usable graph
        raise MoodcastError(
            f"model file {path} cannot be loaded by ONNX Runtime ({str(exc)[:200]})",
            "export or restore the model again",
        ) from exc
    release_freed_heap()  # what loading freed goes back to the OS
    logger.info("%s on %s", path.name, ", ".join(session.get_providers()))
    return session
