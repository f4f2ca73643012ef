"""Domain events: what foreign threads (paho, the scheduler, the camera job) hand to the daemon.

The decks' own events (started, ended, failed) live with the decks (moodcast.player.decks).

Callbacks only build one of these and put it on the daemon's bounded queue; all decisions
are made on the daemon's own thread.
"""

from __future__ import annotations

import logging
import queue
from dataclasses import dataclass
from typing import Any

from moodcast.models.mood import MoodEstimate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MoodRead:
    estimate: MoodEstimate
    at: float


@dataclass(frozen=True)
class CameraStatusChanged:
    status: str
    detail: str


@dataclass(frozen=True)
class RetainedCommand:
    """A command left on the broker (retained): an old one, not the operator's now; the
    daemon ignores it and says once how to clear it."""

    verb: str


@dataclass(frozen=True)
class BrokerStatus:
    connected: bool
    detail: str


@dataclass(frozen=True)
class HomeAssistantOnline:
    pass


@dataclass(frozen=True)
class OtherInstance:
    """Another daemon announced itself under this device's topics."""

    token: str


@dataclass(frozen=True)
class RescanDue:
    pass


@dataclass(frozen=True)
class AnnounceDue:
    """A scheduled announcement's time has come (from the scheduler's thread)."""

    name: str


@dataclass(frozen=True)
class RescanDone:
    summary: str
    error: str


class EventQueue:
    """A bounded queue that drops (and counts) events rather than block a foreign thread."""

    def __init__(self, maxsize: int = 256) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=maxsize)
        self.dropped = 0

    def put(self, event: Any) -> None:
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1
            logger.warning("event queue full: dropped %s (%d so far)", event, self.dropped)

    def get(self, timeout: float) -> Any | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
