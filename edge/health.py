"""The health of the device's parts and the problems standing: one owner, one error channel.

The camera, broker and reader report their status here; everything that goes wrong is raised
as a :class:`~moodcast.edge.problems.Problem` of its kind, logged once as said, and sent as an
``error`` event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from moodcast.edge.problems import Problem, ProblemKind, Problems

logger = logging.getLogger(__name__)


class EventPublisher(Protocol):
    def publish_event(self, name: str, data: dict[str, Any]) -> None: ...


class Health:
    """What the state says about the parts; ``dirty`` is set whenever that changes."""

    def __init__(self, publisher: EventPublisher, wall: Callable[[], float],
                 reader_detail: str = "") -> None:  # fmt: skip
        self._publisher, self._wall = publisher, wall
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
        """Raise a problem of ``kind``: logged, sent as an event, shown in the state."""
        logger.error("%s", text)
        self.problems.raise_(kind, text, self._wall())
        self._publisher.publish_event("error", {"error": text, "kind": kind.value})
        self.dirty = True

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
