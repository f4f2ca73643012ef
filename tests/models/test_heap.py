from __future__ import annotations

import ctypes
import ctypes.util
import sys
from pathlib import Path

import pytest

from moodcast.models.heap import release_freed_heap


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc behaviour")
def test_freed_heap_goes_back_to_the_system() -> None:
    """What the daemon's minute trim relies on: freed small blocks stay resident until trimmed."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    blocks = [libc.malloc(4096) for _ in range(20_000)]  # 80 MB of heap, below mmap's threshold
    for block in blocks:
        libc.memset(block, 1, 4096)
    for block in blocks[:-1]:  # the last block pins the top of the heap: no shrink on free
        libc.free(block)
    retained = rss_mb()
    assert release_freed_heap()
    assert retained - rss_mb() > 50
    libc.free(blocks[-1])
