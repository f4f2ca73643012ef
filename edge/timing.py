"""The daemon's clocks and timings, injected so that tests and benchmarks can set them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass
class Clocks:
    mono: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    local: Callable[[], datetime] = datetime.now


@dataclass(frozen=True)
class Timings:
    """How often the daemon does its chores (seconds)."""

    tick_s: float = 0.2
    state_min_interval_s: float = 0.5  # the state is sent at most this often
    summary_s: float = 10.0  # dropped bad commands are summed up in the log this often
    announce_s: float = 20.0  # how often the instance token is repeated (duplicate ids)
    discovery_min_s: float = 10.0  # Home Assistant's births answered at most this often
    trim_interval_s: float = 60.0  # models/heap.py: the resident-memory creep (reliability.md)
    retry_s: float = 10.0  # held library writes and an unsaved state are tried again
    skip_fade_s: float = 1.0
