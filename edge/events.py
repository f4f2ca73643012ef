"""Domain events: what foreign threads (paho, the scheduler, the camera job) hand to the daemon.

The decks' own events (started, ended, failed) live with the decks (moodcast.player.decks).

Callbacks only build one of these and put it on the daemon's bounded queue; all decisions
are made on the daemon's own thread.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from moodcast.edge.car.signals import Reading
from moodcast.models.mood import MoodEstimate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MoodRead:
    estimate: MoodEstimate
    at: float


@dataclass(frozen=True)
class CameraStatusChanged:
    coalesce_key = "camera"

    status: str
    detail: str


@dataclass(frozen=True)
class RetainedCommand:
    """A command left on the broker (retained): an old one, not the operator's now; the
    daemon ignores it and says once how to clear it."""

    verb: str


@dataclass(frozen=True)
class BrokerStatus:
    # Not coalesced: a refusal's words ("Not authorized") are followed at once by paho's
    # disconnect, and must not be replaced by it.
    connected: bool
    detail: str


@dataclass(frozen=True)
class PlaysAcked:
    """The fleet holds the box's plays up to ``last_id`` (its retained acknowledgement)."""

    coalesce_key = "plays-acked"

    last_id: int


@dataclass(frozen=True)
class CentralSettings:
    """Rules and named announcements a fleet sent (JSON text, checked by the daemon as its
    own config is)."""

    body: str


@dataclass(frozen=True)
class FleetCommand:
    """A command the chain's fleet service sent (to a group): applied, then acknowledged
    with its id; ``command`` is None when it was refused, and ``error`` says why."""

    command_id: str
    command: Any
    error: str = ""


@dataclass(frozen=True)
class HomeAssistantOnline:
    coalesce_key = "home-assistant-online"


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


@dataclass(frozen=True)
class VehicleRead:
    """A reading from the car's OBD adapter or gpsd (only the newest of each waits)."""

    reading: Reading

    @property
    def coalesce_key(self) -> str:
        return f"vehicle-read-{self.reading.source}"


@dataclass(frozen=True)
class VehicleStatus:
    """What is wrong with one of the car's sources now ('' when it works again)."""

    source: str
    problem: str

    @property
    def coalesce_key(self) -> str:
        return f"vehicle-status-{self.source}"


@dataclass(frozen=True)
class PowerSignal:
    """The power line's state: failing (power about to go), or what keeps it from being read."""

    coalesce_key = "power"

    failing: bool
    detail: str


class EventQueue:
    """A bounded queue that never blocks a foreign thread, where no burst of one kind crowds
    out the others.

    An event with a ``coalesce_key`` (a state-like one: a volume, a pause, Home Assistant
    coming online, the camera's status) replaces the one of the same key still
    waiting, in its place: after 3,000 volume commands the last one is applied, and only once.
    Other events are bounded per type (``per_kind``) and in all (``maxsize``); one over the
    bound is dropped and counted, and said in the log at the first and every 100th drop.
    """

    def __init__(self, maxsize: int = 256, per_kind: int = 64) -> None:
        self._maxsize, self._per_kind = maxsize, per_kind
        self._ready = threading.Condition()
        self._items: deque[list[Any]] = deque()  # one-element boxes: coalescing swaps the event
        self._waiting: dict[str, list[Any]] = {}  # coalesce key -> its box in _items
        self._kinds: Counter[type] = Counter()
        self.dropped = 0
        self.coalesced = 0

    def put(self, event: Any) -> None:
        key = coalesce_key(event)
        with self._ready:
            if key is not None and key in self._waiting:
                self._waiting[key][0] = event
                self.coalesced += 1
                return
            kind = type(event)
            if len(self._items) >= self._maxsize or self._kinds[kind] >= self._per_kind:
                self.dropped += 1
                if self.dropped % 100 == 1:
                    logger.warning("event queue: dropped %s (%d dropped so far; a burst of %s)",
                                   kind.__name__, self.dropped, kind.__name__)  # fmt: skip
                return
            box = [event]
            self._items.append(box)
            self._kinds[kind] += 1
            if key is not None:
                self._waiting[key] = box
            self._ready.notify()

    def get(self, timeout: float) -> Any | None:
        with self._ready:
            if not self._items:
                self._ready.wait(timeout)
            if not self._items:
                return None
            box = self._items.popleft()
            event = box[0]
            self._kinds[type(event)] -= 1
            key = coalesce_key(event)
            if key is not None and self._waiting.get(key) is box:
                del self._waiting[key]
            return event


def coalesce_key(event: Any) -> str | None:
    """The key under which only the newest event matters, or None for events that all count."""
    key = getattr(event, "coalesce_key", None)
    return key if isinstance(key, str) else None
