"""What is wrong with the device now, as values: a kind, the text, since when.

Problems are raised and cleared by kind, never by matching their wording, so a message can be
reworded without breaking the code that clears it. One event (a rescan that failed, a track
that would not play) is a problem too: it stands until something of its kind succeeds, or
until it is replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ProblemKind(str, Enum):
    """Each kind of problem the state can carry (their values are part of the state schema)."""

    LIBRARY_EMPTY = "library_empty"
    LIBRARY_UNREADABLE = "library_unreadable"
    LIBRARY_UNWRITABLE = "library_unwritable"
    PLAY_LOG = "play_log"  # plays the library would not take: kept in memory, tried again
    LIBRARY_REBUILT = "library_rebuilt"  # damaged at start: set aside, rebuilt by a rescan
    STATE_UNSAVED = "state_unsaved"
    TRACK_FAILED = "track_failed"
    SOUND = "sound"  # the audio output could not be opened: tracks play to nobody
    DESCRIPTORS = "descriptors"  # out of file descriptors: tracks are not flagged, play waits
    RESCAN = "rescan"
    RULES = "rules"
    ANNOUNCEMENT = "announcement"
    COMMAND = "command"  # a command that was understood but cannot be carried out
    WEB = "web"
    DUPLICATE_DEVICE = "duplicate_device"
    READER = "reader"
    INTERNAL = "internal"  # a bug met while handling an event: logged with its traceback


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    text: str
    since: float  # wall-clock epoch seconds


class Problems:
    """The problems standing now, one per kind, and the newest one said."""

    def __init__(self) -> None:
        self._by_kind: dict[ProblemKind, Problem] = {}
        self.latest: Problem | None = None

    def raise_(self, kind: ProblemKind, text: str, now: float) -> bool:
        """Record a problem; True when it is new or its text changed (worth saying)."""
        old = self._by_kind.get(kind)
        same = old is not None and old.text == text
        problem = old if old is not None and same else Problem(kind, text, now)
        self._by_kind[kind] = problem
        self.latest = problem
        return not same

    def clear(self, kind: ProblemKind) -> bool:
        """Clear a kind; True when one stood."""
        if self._by_kind.pop(kind, None) is None:
            return False
        if self.latest is not None and self.latest.kind is kind:
            self.latest = None
        return True

    def get(self, kind: ProblemKind) -> Problem | None:
        return self._by_kind.get(kind)

    def standing(self) -> list[Problem]:
        """Oldest first."""
        return sorted(self._by_kind.values(), key=lambda p: p.since)
