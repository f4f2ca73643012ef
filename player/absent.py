"""Tracks whose file went away: looked for again, so that an outage is not forever.

A USB stick or a network share that remounts takes every file with it for a few seconds; each
track tried then fails. A failure because the file is gone is not the file's fault: those
tracks are flagged with :data:`GONE` in their reason and their paths checked every
``interval_s`` (clock passed in), and the ones that are back are handed to the caller to
make playable again. A file that is there but will not play stays flagged until a rescan
(which looks at flagged files again).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

GONE = "the file is gone (removed, or its folder unmounted); tried again when it is back"


def is_gone(path: str) -> bool:
    try:
        return not Path(path).is_file()
    except OSError:  # a dead network mount can raise on stat
        return True


class AbsentFiles:
    """Track id → path of files that were gone when they should have played."""

    def __init__(self, interval_s: float = 10.0) -> None:
        self.interval_s = interval_s
        self._paths: dict[int, str] = {}
        self._next_check = 0.0

    def __len__(self) -> int:
        return len(self._paths)

    def add(self, track_id: int, path: str) -> None:
        self._paths[track_id] = path

    def add_all(self, flagged: Iterable[tuple[int, str]]) -> None:
        for track_id, path in flagged:
            self.add(track_id, path)

    def returned(self, now: float) -> list[int]:
        """Ids whose file is back (at most one look per interval); they are forgotten here."""
        if not self._paths or now < self._next_check:
            return []
        self._next_check = now + self.interval_s
        back = [i for i, path in self._paths.items() if not is_gone(path)]
        for track_id in back:
            del self._paths[track_id]
        return back
