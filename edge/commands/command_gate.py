"""Commands checked where they arrive, before the daemon's queue: a flood of bad ones never
crowds out a good one.

paho's thread parses each payload with the command table (pure: it only translates), puts
valid commands on the queue, and counts the rejected ones; only a few rejections a minute
are passed on to be answered on ``…/error`` (a token bucket, clock passed in), the rest are
counted for a periodic summary in the log instead of one line each.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from moodcast.edge.commands.remote_commands import (
    Command,
    CommandError,
    CommandTable,
    SetAuto,
    SetOverride,
    SetPaused,
    SetVolume,
)
from moodcast.edge.events import RetainedCommand


@dataclass(frozen=True)
class CommandAccepted:
    command: Command

    @property
    def coalesce_key(self) -> str | None:
        """Commands that set a state (volume, pause, auto, override): only the newest waiting
        one matters. Skips and announcements each count."""
        if isinstance(self.command, SetVolume | SetPaused | SetAuto | SetOverride):
            return f"command:{type(self.command).__name__}"
        return None


@dataclass(frozen=True)
class CommandRejected:
    verb: str
    error: str


@dataclass(frozen=True)
class RejectionSummary:
    count: int
    last: str


class CommandGate:
    """Turns (verb, payload) into an event for the queue, or None when it is dropped."""

    def __init__(
        self, table: CommandTable, clock: Callable[[], float] = time.monotonic,
        burst: int = 3, per_minute: float = 6.0,
    ) -> None:  # fmt: skip
        self._table, self._clock = table, clock
        self._burst, self._refill = float(burst), per_minute / 60.0
        self._tokens, self._at = float(burst), clock()
        self._lock = threading.Lock()
        self._dropped, self._last = 0, ""

    def admit(
        self, verb: str, payload: bytes, retained: bool = False
    ) -> CommandAccepted | CommandRejected | RetainedCommand | None:
        if retained:  # the daemon says once that it ignores these
            return RetainedCommand(verb[:40])
        try:
            return CommandAccepted(self._table.parse(verb, payload))
        except CommandError as exc:
            return self._reject(verb[:40], str(exc))

    def parse(self, verb: str, payload: bytes) -> Command:
        """The same table, for a caller that answers the sender itself (the web page): the
        command, or :class:`CommandError` saying what is wrong."""
        return self._table.parse(verb, payload)

    def _reject(self, verb: str, error: str) -> CommandRejected | None:
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._at) * self._refill)
            self._at = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return CommandRejected(verb, error)
            self._dropped += 1
            self._last = f"{verb}: {error}"
            return None

    def take_summary(self) -> RejectionSummary | None:
        """Rejections dropped since the last call (None when there were none)."""
        with self._lock:
            if not self._dropped:
                return None
            summary = RejectionSummary(self._dropped, self._last)
            self._dropped, self._last = 0, ""
            return summary
