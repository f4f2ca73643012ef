"""Writes the library could not take (disk full, I/O error), held and tried again.

A track that failed to play must stay skipped even when its flag cannot be written, or the
daemon would pick it again and again; so flags are applied to the tracks in memory at once,
and written when the disk takes them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from moodcast.player.track import Track, TrackStore, TrackStoreError

logger = logging.getLogger(__name__)

RETRY_S = 10.0  # how often held writes are tried again


class PendingFlags:
    """Track flags (status, reason) by id: written now when possible, else held and retried."""

    def __init__(self, retry_s: float = RETRY_S) -> None:
        self._retry_s = retry_s
        self._held: dict[int, tuple[str, str]] = {}
        self._next_try = 0.0
        self.problem = ""  # why writes are held, '' when none are

    def flag(self, library: TrackStore, track_id: int, status: str, error: str, now: float) -> None:
        self._held[track_id] = (status, error)
        self._write(library, now)

    def retry(self, library: TrackStore, now: float) -> bool:
        """Writes what is held when it is time; True when everything held is now written."""
        if not self._held or now < self._next_try:
            return False
        return self._write(library, now)

    def _write(self, library: TrackStore, now: float) -> bool:
        try:
            library.flag_many(dict(self._held))
        except TrackStoreError as exc:
            self._next_try = now + self._retry_s
            if not self.problem:
                logger.error("library %s: cannot write (%s); holding %d change(s) in memory and"
                             " trying again every %.0f s", library.path, exc, len(self._held),
                             self._retry_s)  # fmt: skip
            self.problem = f"library {library.path} cannot be written ({exc})"
            return False
        if self.problem:
            logger.info("library %s: held changes written", library.path)
        self._held.clear()
        self.problem = ""
        return True

    def apply(self, tracks: Sequence[Track], playable_only: bool) -> list[Track]:
        """The tracks as they will be once the held flags are written."""
        out = []
        for track in tracks:
            held = self._held.get(track.id)
            now = track if held is None else replace(track, status=held[0], error=held[1])
            if not playable_only or now.playable:
                out.append(now)
        return out
