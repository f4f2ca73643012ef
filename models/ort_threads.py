"""ONNX Runtime's threads: one pool for the whole process once the caption reader asks for it.

With a pool per session, a session's idle worker keeps spinning (ONNX Runtime spins before it
sleeps) on one of the two cores while another session runs. Measured here with the 384 px
int8 captioner, in paired runs: a pool per session 10.1-10.4 ms per token and a 280-360 ms
encoder; one shared pool 8.4-8.9 ms and 250-330 ms (420-500 ms against 480-570 ms a caption).
Once a process-wide pool exists ONNX Runtime refuses sessions with pools of their own, so every
session in moodcast takes its options from here.
"""

from __future__ import annotations

from typing import Any

_pool_size: list[int] = []  # the process-wide pool's size, once it exists (ORT's state mirrored)


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


def session_options(threads: int) -> Any:
    """SessionOptions using the process-wide pool when there is one, else ``threads`` own ones."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if _pool_size:
        options.use_per_session_threads = False
    else:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return options
