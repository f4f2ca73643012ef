"""ONNX Runtime's threads and arena: one of each for the process once the caption reader asks.

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

from typing import Any

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
