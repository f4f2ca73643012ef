"""The rows tagging writes and reads: audio analyses, loudness, and community mood tags."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence

from moodcast.player.library_db import LibraryDatabase, from_db


class AnalysisRows(LibraryDatabase):
    """The ``analyses`` and ``community_tags`` tables, and each track's loudness columns."""

    def tracks_to_analyse(self, force: bool) -> list[tuple[int, str]]:
        """(id, path) of playable tracks never analysed, or changed since (all with force)."""
        rows = self._db.execute(
            "SELECT t.id, t.path FROM tracks t LEFT JOIN analyses a ON a.track_id = t.id"
            " WHERE t.status = 'ok' AND (? OR a.track_id IS NULL OR a.size != t.size"
            " OR a.mtime != t.mtime) ORDER BY t.path",
            (force,),
        )
        return [(int(r[0]), from_db(r[1])) for r in rows]

    def save_analysis(
        self, track_id: int, tags: dict[str, float], features: dict[str, float], error: str
    ) -> None:
        """Store one result in its own transaction, so that a killed run loses nothing else."""
        with self.transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO analyses SELECT id, size, mtime, ?, ?, ?, ?"
                " FROM tracks WHERE id = ?",
                (json.dumps(tags), json.dumps(features), error, time.time(), track_id),
            )

    def analyses(self) -> list[tuple[int, dict[str, float], dict[str, float]]]:
        """Successful analyses of tracks still in the library."""
        rows = self._db.execute(
            "SELECT a.track_id, a.tags, a.features FROM analyses a JOIN tracks t"
            " ON t.id = a.track_id WHERE a.error = '' AND t.status = 'ok'"
        )
        return [(int(r[0]), json.loads(r[1]), json.loads(r[2])) for r in rows]

    def analysis_errors(self) -> list[tuple[str, str]]:
        rows = self._db.execute(
            "SELECT t.path, a.error FROM analyses a JOIN tracks t ON t.id = a.track_id"
            " WHERE a.error != '' ORDER BY t.path"
        )
        return [(from_db(r[0]), str(r[1])) for r in rows]

    def set_loudness(self, track_id: int, lufs: float | None, peak: float | None, source: str,
                     error: str) -> None:  # fmt: skip
        """A track's measured (or tagged) loudness; ``error`` when it could not be measured."""
        with self.transaction():
            self._db.execute(
                "UPDATE tracks SET loudness_lufs = ?, true_peak_dbtp = ?, loudness_source = ?,"
                " loudness_error = ? WHERE id = ?",
                (lufs, peak, source, error, track_id),
            )

    def tracks_without_loudness(self) -> list[tuple[int, str]]:
        """(id, path) of playable tracks whose loudness was never measured nor tagged."""
        rows = self._db.execute(
            "SELECT id, path FROM tracks WHERE status = 'ok' AND loudness_lufs IS NULL"
            " AND loudness_error = '' ORDER BY path"
        )
        return [(int(r[0]), from_db(r[1])) for r in rows]

    def restamp(self, track_id: int, size: int, mtime: float) -> None:
        """Record a file's new size/mtime after moodcast itself wrote its tags."""
        with self.transaction():
            self._db.execute(
                "UPDATE tracks SET size = ?, mtime = ? WHERE id = ?", (size, mtime, track_id)
            )
            self._db.execute(
                "UPDATE analyses SET size = ?, mtime = ? WHERE track_id = ?",
                (size, mtime, track_id),
            )

    def add_community_tags(self, rows: Sequence[tuple[str, str, str]]) -> None:
        with self.transaction():
            self._db.executemany("INSERT OR IGNORE INTO community_tags VALUES (?, ?, ?)", rows)

    def community_tags(self) -> Iterator[tuple[str, list[str]]]:
        """(match_key, tags) for every key that has community tags."""
        grouped: dict[str, list[str]] = {}
        for r in self._db.execute("SELECT match_key, tag FROM community_tags ORDER BY tag"):
            grouped.setdefault(r[0], []).append(r[1])
        yield from grouped.items()
