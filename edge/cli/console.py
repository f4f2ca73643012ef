"""What the CLI writes to a terminal: JSON for scripts, a progress bar for people."""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def print_json(data: Any) -> None:
    """Valid JSON in UTF-8 whatever the data holds: a file name that is not UTF-8 shows
    U+FFFD (before, its raw bytes made the output no JSON at all)."""
    from moodcast.edge.status.device_state import safe_value

    json.dump(safe_value(data), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


class ProgressBar:
    """A one-line progress bar with an ETA on a terminal; silent elsewhere."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._start = time.monotonic()
        self._enabled = sys.stderr.isatty()

    def __call__(self, done: int, total: int, item: str) -> None:
        if not self._enabled or total == 0:
            return
        elapsed = time.monotonic() - self._start
        eta = elapsed / done * (total - done) if done else 0.0
        filled = int(30 * done / total)
        bar = "#" * filled + "-" * (30 - filled)
        line = f"\r{self._label} [{bar}] {done}/{total} ETA {eta:4.0f}s {item[:30]:<30}"
        sys.stderr.write(line)
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()
