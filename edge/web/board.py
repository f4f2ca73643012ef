"""What the page shows, kept for it: the latest state and the last hours of mood and tracks.

The conductor publishes to the board as it does to MQTT (the daemon's thread writes); the
web server's threads only read copies. One lock, no waiting on anything else under it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

TRAIL_EVERY_S = 20.0  # one point of the mood trail this often
TRAIL_HOURS = 6.0
PLAYED_KEPT = 200
ERRORS_KEPT = 20


class StateBoard:
    """A :class:`~moodcast.edge.music.conductor.Publisher` for the page."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {}
        self.version = 0
        self._trail: deque[dict[str, Any]] = deque(maxlen=int(TRAIL_HOURS * 3600 / TRAIL_EVERY_S))
        self._played: deque[dict[str, Any]] = deque(maxlen=PLAYED_KEPT)
        self._errors: deque[dict[str, Any]] = deque(maxlen=ERRORS_KEPT)

    # -- the daemon's thread ---------------------------------------------------------------

    def publish_state(self, state: dict[str, Any]) -> None:
        now = self._wall()
        with self._lock:
            self._state = {**state, "at": now}
            self.version += 1
            if state.get("mood_source") == "camera" and (
                not self._trail or now - self._trail[-1]["at"] >= TRAIL_EVERY_S
            ):
                point = {k: state.get(k) for k in ("valence", "arousal", "mood")}
                self._trail.append({"at": now, **point})

    def publish_event(self, name: str, data: dict[str, Any]) -> None:
        with self._lock:
            if name == "track_started":
                self._played.append({**data, "at": self._wall()})
            elif name == "error":
                self._errors.append({**data, "at": self._wall()})
            self.version += 1

    def publish_error(self, data: dict[str, Any]) -> None:
        self.publish_event("error", {"error": f"{data.get('command')}: {data.get('error')}"})

    # -- the web server's threads ----------------------------------------------------------

    def view(self) -> dict[str, Any]:
        """A copy of everything the page draws."""
        with self._lock:
            return {
                "version": self.version,
                "state": dict(self._state),
                "trail": list(self._trail),
                "played": list(self._played),
                "errors": list(self._errors),
            }


class Fanout:
    """Publishes to several publishers (MQTT and the page) in turn."""

    def __init__(self, *targets: Any) -> None:
        self._targets = targets

    def publish_state(self, state: dict[str, Any]) -> None:
        for target in self._targets:
            target.publish_state(state)

    def publish_event(self, name: str, data: dict[str, Any]) -> None:
        for target in self._targets:
            target.publish_event(name, data)

    def publish_error(self, data: dict[str, Any]) -> None:
        for target in self._targets:
            target.publish_error(data)
