"""What a track is, apart from where it is kept: pure data and the store's interface.

Selection, rules, gain and the conductor work on :class:`Track` values and a
:class:`TrackStore`; SQLite (``player/library.py``) is one store behind that interface, so
none of the pure modules pulls in sqlite3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class TrackMood:
    """Mood data for one track from one source."""

    source: str
    taxonomy: str
    mood: str
    valence: float
    arousal: float
    probabilities: dict[str, float]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Track:
    """A playable file with what is known about it; ``mood`` is the winning source's data."""

    id: int
    path: str
    artist: str
    title: str
    album: str
    duration: float | None
    status: str
    error: str
    mood: TrackMood | None
    genre: str = ""
    loudness_lufs: float | None = None  # integrated, EBU R128; None: not measured (yet)
    true_peak_dbtp: float | None = None
    explicit: bool = False
    banned: bool = False  # "Not this track": never played
    isrc: str = ""  # as tagged, for the play log
    label: str = ""

    @property
    def playable(self) -> bool:
        return self.status == "ok" and not self.banned

    def to_dict(self) -> dict[str, Any]:
        m = self.mood
        return {
            "id": self.id,
            "path": self.path,
            "artist": self.artist,
            "title": self.title,
            "album": self.album,
            "duration": self.duration,
            "status": self.status,
            "error": self.error or None,
            "mood": m.mood if m else None,
            "valence": m.valence if m else None,
            "arousal": m.arousal if m else None,
            "source": m.source if m else "none",
            "tags": list(m.tags) if m else [],
        }


@dataclass(frozen=True)
class Play:
    """One line of the play log: what was heard, when, for how long, and why (licensing
    bodies ask for the first three; the shop asks for the last)."""

    started_at: float  # Unix time
    kind: str  # "track" or "announcement"
    title: str
    artist: str = ""
    album: str = ""
    isrc: str = ""
    label: str = ""
    path: str = ""
    mood: str = ""
    why: str = ""
    seconds: float | None = None  # None while it plays (or when power went mid-play)
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at,
            "seconds": None if self.seconds is None else round(self.seconds, 1),
            "kind": self.kind,
            "title": self.title,
            "artist": self.artist,
            "album": self.album,
            "isrc": self.isrc,
            "label": self.label,
            "file": self.path,
            "mood": self.mood,
            "why": self.why,
        }


class TrackStoreError(Exception):
    """The store could not be read or written (locked, corrupt, disk full): the caller keeps
    playing from what it has, and says so."""


class TrackStore(Protocol):
    """What the daemon needs of the library while it plays."""

    path: Any

    def tracks(self, playable_only: bool = False) -> list[Track]:
        """Every track, or the playable ones; raises :class:`TrackStoreError`."""
        ...

    def flag_many(self, flags: dict[int, tuple[str, str]]) -> None:
        """Set (status, reason) of several tracks at once; raises :class:`TrackStoreError`."""
        ...

    def add_play(self, play: Play) -> int:
        """Log a play; its id (for :meth:`set_play_seconds`); raises :class:`TrackStoreError`."""
        ...

    def set_play_seconds(self, play_id: int, seconds: float) -> None:
        """How long a logged play was heard; raises :class:`TrackStoreError`."""
        ...

    def prune_plays(self, before: float) -> int:
        """Drop plays started before ``before`` (Unix time); how many went."""
        ...

    def ban(self, track_id: int) -> Track | None:
        """Never play this track again (kept over rescans); the track, None if there is no
        such track; raises :class:`TrackStoreError`."""
        ...
