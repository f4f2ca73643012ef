"""A GPIO line that says the power is about to go (a power HAT's or a supercapacitor's
signal), read through its sysfs value file (``/sys/class/gpio/gpioN/value``, or any file
holding 0 or 1). Polled on a thread of its own that only enqueues a change; an unreadable
line is said and never taken as power failing."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from moodcast.edge.car.source import SourceThread
from moodcast.edge.events import PowerSignal

POLL_S = 0.1


class PowerLine(SourceThread):
    source = "power"

    def __init__(self, path: Path, failing_value: str, put: Callable[[object], None],
                 mono: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        super().__init__(put, mono)
        self.path, self.failing_value = path, failing_value
        self._last: tuple[bool, str] | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._say(*self._read())
            self._stop.wait(POLL_S)

    def _read(self) -> tuple[bool, str]:
        try:
            value = self.path.read_bytes()[:8].strip().decode("ascii", "replace")
        except OSError as exc:
            return False, f"power line {self.path} cannot be read ({exc.strerror or exc})"
        if value not in {"0", "1"}:
            return False, f"power line {self.path} reads {value!r}, not 0 or 1"
        return value == self.failing_value, ""

    def _say(self, failing: bool, detail: str) -> None:
        if (failing, detail) != self._last:
            self._last = (failing, detail)
            self._put(PowerSignal(failing, detail))
