"""What the car's sources share: a thread of their own that only enqueues, and a problem
said once when it changes (not at every poll)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from moodcast.edge.events import VehicleStatus


class SourceThread:
    """Subclasses give ``source`` ("obd", "gnss") and ``_run`` (loop until ``_stop``)."""

    source = ""

    def __init__(self, put: Callable[[object], None], mono: Callable[[], float] = time.monotonic,
                 join_s: float = 5.0) -> None:  # fmt: skip
        self._put, self._mono, self._join_s = put, mono, join_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._said: str | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.source, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._join_s)

    def _status(self, problem: str) -> None:
        if problem != self._said:
            self._said = problem
            self._put(VehicleStatus(self.source, problem))

    def _run(self) -> None:
        raise NotImplementedError
