"""Hand the heap memory the process has freed back to the system.

glibc keeps freed memory in its per-thread arenas for reuse. In a long-running process with
several threads (capture, paho, libVLC) that retained memory shows up as resident memory
creeping up in small steps, though nothing leaks (scripts/leak_probe.py, docs/reliability.md).
``malloc_trim(0)`` returns it: about a millisecond here (0.7-2.7 ms), once a minute; outside
glibc it is a no-op.
"""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Callable
from functools import cache


@cache
def _trimmer() -> Callable[[int], int] | None:
    # The symbols already loaded into the process (libc among them): no ctypes.util, whose
    # find_library runs ldconfig/gcc and imports subprocess, tempfile and shutil.
    with contextlib.suppress(OSError, AttributeError):
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
        return trim
    return None


def release_freed_heap() -> bool:
    """Trim glibc's heap; False where the C library has no malloc_trim (musl, macOS)."""
    trim = _trimmer()
    if trim is None:
        return False
    trim(0)
    return True
