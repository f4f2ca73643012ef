"""The health of the device's parts and the problems standing: one owner, one error channel.

The camera, broker and reader report their status here; everything that goes wrong is raised
as a :class:`~moodcast.edge.status.problems.Problem` of its kind, logged once as said, and
sent as an ``error`` event.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from moodcast.edge.status.problems import Problem, ProblemKind, Problems

logger = logging.getLogger(__name__)


class EventPublisher(Protocol):
    def publish_event(self, name: str, data: dict[str, Any]) -> None: ...


@dataclass
class _Window:
    start: float
    said: int = 0
    held: int = 0
    latest: str = ""


class Throttle:
    """At most ``per_window`` problems of one kind said (logged and sent) per ``window_s``;
    the rest are counted and said as one line when the window ends. A flood of refused
    commands must not fill the log or the broker; the state still shows the latest."""

    def __init__(self, per_window: int = 5, window_s: float = 60.0) -> None:
        self.per_window, self.window_s = per_window, window_s
        self._windows: dict[ProblemKind, _Window] = {}

    def admit(self, kind: ProblemKind, text: str, now: float) -> tuple[bool, str]:
        """Whether to say this one, and a summary of what was held before it ('' if none)."""
        summary = self.summary(kind, now)
        window = self._windows.setdefault(kind, _Window(now))
        if window.said < self.per_window:
            window.said += 1
            return True, summary
        window.held += 1
        window.latest = text
        return False, summary

    def summary(self, kind: ProblemKind, now: float) -> str:
        """When the window of ``kind`` has ended: what it held back, and a fresh window."""
        window = self._windows.get(kind)
        if window is None or now - window.start < self.window_s:
            return ""
        del self._windows[kind]
        if not window.held:
            return ""
        return (
            f"{window.held} more {kind.value} problem(s) in {self.window_s:.0f} s not said"
            f" one by one; the latest: {window.latest}"
        )

    def kinds(self) -> list[ProblemKind]:
        return list(self._windows)


class Health:
    """What the state says about the parts; ``dirty`` is set whenever that changes."""

    def __init__(
        self,
        publisher: EventPublisher,
        wall: Callable[[], float],
        reader_detail: str = "",
        mono: Callable[[], float] = time.monotonic,
    ) -> None:
        self._publisher, self._wall, self._mono = publisher, wall, mono
        self.throttle = Throttle()
        self.problems = Problems()
        self.camera, self.camera_detail = "starting", ""
        self.broker = "disconnected"
        self.reader_detail = reader_detail  # why the configured reader is not in use
        self.readings = 0  # frames read since the start: captures are alive while it grows
        self.dirty = True

    def set_camera(self, status: str, detail: str) -> None:
        self.camera, self.camera_detail, self.dirty = status, detail, True

    def set_broker(self, status: str) -> None:
        self.broker, self.dirty = status, True

    def report(self, kind: ProblemKind, text: str) -> None:
        """Raise a problem of ``kind``: logged, sent as an event (both throttled per kind),
        shown in the state."""
        say, summary = self.throttle.admit(kind, text, self._mono())
        if summary:
            self._say(kind, summary)
        if say:
            self._say(kind, text)
        self.problems.raise_(kind, text, self._wall())
        self.dirty = True

    def flush(self) -> None:
        """Say what each ended window held back (the conductor's tick calls this)."""
        now = self._mono()
        for kind in self.throttle.kinds():
            summary = self.throttle.summary(kind, now)
            if summary:
                self._say(kind, summary)

    def _say(self, kind: ProblemKind, text: str) -> None:
        logger.error("%s", text)
        self._publisher.publish_event("error", {"error": text, "kind": kind.value})

    def clear(self, kind: ProblemKind) -> None:
        if self.problems.clear(kind):
            self.dirty = True

    @property
    def last_error(self) -> str:
        """The newest problem still standing, '' when none is."""
        latest = self.problems.latest
        return latest.text if latest is not None else ""

    def standing(self) -> tuple[Problem, ...]:
        return tuple(self.problems.standing())
