"""The play log's rows: what was heard, when, for how long (licensing bodies ask)."""

from __future__ import annotations

import sqlite3

from moodcast.config.text import safe_text
from moodcast.player.library_db import LibraryDatabase, LibraryError, from_db, to_db
from moodcast.player.track import Play


class PlayLogRows(LibraryDatabase):
    """The ``plays`` table of a library."""

    def add_play(self, play: Play) -> int:
        """The :class:`TrackStore` play log write."""
        text = [safe_text(t) for t in (play.title, play.artist, play.album, play.isrc,
                                       play.label)]  # a name that is not UTF-8: U+FFFD  # fmt: skip
        values = (play.started_at, play.seconds, play.kind, *text, to_db(play.path),
                  safe_text(play.mood), safe_text(play.why))  # fmt: skip
        try:
            with self.transaction():
                row = self._db.execute(
                    "INSERT INTO plays (started_at, seconds, kind, title, artist, album, isrc,"
                    " label, path, mood, why) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " RETURNING id", values).fetchone()  # fmt: skip
            return int(row[0])
        except sqlite3.Error as exc:
            raise LibraryError(str(exc)) from exc

    def set_play_seconds(self, play_id: int, seconds: float) -> None:
        try:
            with self.transaction():
                self._db.execute("UPDATE plays SET seconds = ? WHERE id = ?",
                                 (round(seconds, 2), play_id))  # fmt: skip
        except sqlite3.Error as exc:
            raise LibraryError(str(exc)) from exc

    def prune_plays(self, before: float) -> int:
        try:
            with self.transaction():
                return self._db.execute(
                    "DELETE FROM plays WHERE started_at < ?", (before,)
                ).rowcount
        except sqlite3.Error as exc:
            raise LibraryError(str(exc)) from exc

    def plays(self, start: float, end: float, limit: int | None = None) -> list[Play]:
        """Plays started in [start, end) (Unix times), oldest first; the newest ``limit``
        of them when given."""
        query = "SELECT * FROM plays WHERE started_at >= ? AND started_at < ?"
        if limit is not None:
            query = f"SELECT * FROM ({query} ORDER BY started_at DESC, id DESC LIMIT {int(limit)})"
        rows = self._db.execute(query + " ORDER BY started_at, id", (start, end))
        return [_play(r) for r in rows]

    def plays_after(self, after_id: int, settled_before: float, limit: int) -> list[Play]:
        """Plays with an id above ``after_id``, oldest first, that are over: their seconds
        known, or started before ``settled_before`` (the power went mid-play)."""
        try:
            rows = self._db.execute(
                "SELECT * FROM plays WHERE id > ? AND (seconds IS NOT NULL OR started_at < ?)"
                " ORDER BY id LIMIT ?", (after_id, settled_before, limit))  # fmt: skip
            return [_play(r) for r in rows]
        except sqlite3.Error as exc:
            raise LibraryError(str(exc)) from exc


def _play(r: sqlite3.Row) -> Play:
    return Play(started_at=r["started_at"], kind=r["kind"], title=r["title"], artist=r["artist"],
                album=r["album"], isrc=r["isrc"], label=r["label"], path=from_db(r["path"]),
                mood=r["mood"], why=r["why"], seconds=r["seconds"], id=r["id"])  # fmt: skip
