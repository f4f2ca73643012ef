"""The library database: tracks, their mood data by source, and bans (the play log's and
tagging's rows are in :mod:`moodcast.player.playlog_rows` and
:mod:`moodcast.player.analysis_rows`; the connection and schema in
:mod:`moodcast.player.library_db`).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moodcast.config.errors import MoodcastError
from moodcast.player.analysis_rows import AnalysisRows
from moodcast.player.library_db import (
    MIGRATIONS,
    LibraryError,
    LibraryLockedError,
    from_db,
    to_db,
)
from moodcast.player.playlog_rows import PlayLogRows
from moodcast.player.track import Track, TrackMood

__all__ = ["MIGRATIONS", "FileRow", "Library", "LibraryError", "LibraryLockedError", "from_db",
           "open_or_set_aside", "to_db"]  # fmt: skip

logger = logging.getLogger(__name__)

# Which mood data wins when a track has several: the user's own file tag, then a community
# tag, then audio analysis, then the genre as a weak hint.
SOURCE_PRECEDENCE = ("file", "imported", "analysed", "genre")


@dataclass(frozen=True)
class FileRow:
    """One scanned file as the scan writes it: its columns, and the moods its tags gave
    (``scan_sources`` are replaced by ``moods``: a tag removed from the file leaves no mood)."""

    path: str
    size: int
    mtime: float
    fields: dict[str, Any]
    moods: tuple[TrackMood, ...] = ()
    scan_sources: tuple[str, ...] = ()  # mood sources the scan owns for this file, if known


class Library(PlayLogRows, AnalysisRows):
    """Access to one library database file (``:memory:`` works for tests)."""

    # -- tracks ---------------------------------------------------------------------------

    def failed_paths(self) -> set[str]:
        """Files flagged as failing to play: a rescan reads them again (not failed forever).
        Not the ones measured silent: the same bytes are dead air again; a changed file is
        read again anyway (its size or time changed)."""
        from moodcast.models.audio.loudness import SILENT

        rows = self._db.execute("SELECT path FROM tracks WHERE status = 'failed'"
                                " AND loudness_error != ?", (SILENT,))  # fmt: skip
        return {from_db(r[0]) for r in rows}

    def file_stamps(self) -> dict[str, tuple[int, float]]:
        """Path → (size, mtime) of every known file, for incremental rescans."""
        rows = self._db.execute("SELECT path, size, mtime FROM tracks")
        return {from_db(r["path"]): (r["size"], r["mtime"]) for r in rows}

    def upsert_track(self, path: str, size: int, mtime: float, **fields: Any) -> int:
        cols = ["size", "mtime", *fields]
        values = [size, mtime, *fields.values()]
        assignments = ", ".join(f"{c}=excluded.{c}" for c in cols)
        with self.transaction():
            row = self._db.execute(
                f"INSERT INTO tracks (path, added_at, {', '.join(cols)})"
                f" VALUES (?, ?, {', '.join('?' * len(cols))})"
                f" ON CONFLICT(path) DO UPDATE SET {assignments} RETURNING id",
                [to_db(path), time.time(), *values],
            ).fetchone()
        return int(row[0])

    def write_files(self, rows: Sequence[FileRow]) -> None:
        """A batch of scanned files in a few statements: two statements a file were a third
        of the scan's cost beside a plain tag-reading loop."""
        now = time.time()
        with self.transaction():
            by_columns: dict[tuple[str, ...], list[FileRow]] = {}
            for row in rows:
                by_columns.setdefault(tuple(row.fields), []).append(row)
            for names, group in by_columns.items():
                cols = ["size", "mtime", *names]
                self._db.executemany(
                    f"INSERT INTO tracks (path, added_at, {', '.join(cols)})"
                    f" VALUES (?, ?, {', '.join('?' * len(cols))}) ON CONFLICT(path) DO UPDATE"
                    f" SET {', '.join(f'{c}=excluded.{c}' for c in cols)}",
                    [(to_db(r.path), now, r.size, r.mtime, *r.fields.values()) for r in group],
                )
            ids = self._ids([r.path for r in rows if r.moods or r.scan_sources])
            self._db.executemany(
                "DELETE FROM track_moods WHERE track_id = ? AND source = ?",
                [(ids[r.path], source) for r in rows for source in r.scan_sources],
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO track_moods VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_mood_row(ids[r.path], m, now) for r in rows for m in r.moods],
            )

    def _ids(self, paths: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for first in range(0, len(paths), 500):
            chunk = [to_db(p) for p in paths[first : first + 500]]
            rows = self._db.execute(
                f"SELECT path, id FROM tracks WHERE path IN ({', '.join('?' * len(chunk))})", chunk
            )
            out.update((from_db(r[0]), int(r[1])) for r in rows)
        return out

    def remove_paths(self, paths: Sequence[str]) -> None:
        with self.transaction():
            self._db.executemany("DELETE FROM tracks WHERE path = ?", [(to_db(p),) for p in paths])

    def flag(self, track_id: int, status: str, error: str) -> None:
        """Mark a track as unreadable or failed (e.g. it would not play), with the reason."""
        with self.transaction():
            self._db.execute(
                "UPDATE tracks SET status = ?, error = ? WHERE id = ?", (status, error, track_id)
            )

    def set_mood(self, track_id: int, mood: TrackMood) -> None:
        with self.transaction():
            self._set_mood(track_id, mood)

    def _set_mood(self, track_id: int, mood: TrackMood) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO track_moods VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _mood_row(track_id, mood, time.time()),
        )

    def clear_mood(self, track_id: int, source: str) -> None:
        with self.transaction():
            self._db.execute(
                "DELETE FROM track_moods WHERE track_id = ? AND source = ?", (track_id, source)
            )

    def tracks(self, playable_only: bool = False) -> list[Track]:
        """Every track with its winning mood data, in path order."""
        try:
            return self._tracks(playable_only)
        except sqlite3.Error as exc:
            raise LibraryError(str(exc)) from exc

    def flag_many(self, flags: dict[int, tuple[str, str]]) -> None:
        """The :class:`TrackStore` write: several flags in one transaction."""
        try:
            with self.transaction():
                for track_id, (status, error) in flags.items():
                    self.flag(track_id, status, error)
        except sqlite3.Error as exc:
            raise LibraryError(str(exc)) from exc

    def ban(self, track_id: int) -> Track | None:
        """The :class:`TrackStore` ban: the track's file never plays again."""
        try:
            row = self._db.execute("SELECT * FROM tracks WHERE id = ?", (track_id,)).fetchone()
            if row is None:
                return None
            with self.transaction():
                values = (row["path"], row["artist"], row["title"], time.time())
                self._db.execute("INSERT OR IGNORE INTO bans (path, artist, title, banned_at)"
                                 " VALUES (?, ?, ?, ?)", values)  # fmt: skip
            return _track(row, None, banned=True)
        except sqlite3.Error as exc:
            raise LibraryError(str(exc)) from exc

    def bans(self) -> list[tuple[int, str, str, str, float]]:
        """(ban id, path, artist, title, when) of every banned file, newest first."""
        rows = self._db.execute("SELECT * FROM bans ORDER BY banned_at DESC, id DESC")
        return [(int(r["id"]), from_db(r["path"]), r["artist"], r["title"], float(r["banned_at"]))
                for r in rows]  # fmt: skip

    def unban(self, ban_id: int) -> bool:
        """Take a ban back; False when there is no such ban."""
        with self.transaction():
            done = self._db.execute("DELETE FROM bans WHERE id = ?", (ban_id,))
        return done.rowcount > 0

    def _tracks(self, playable_only: bool, sample: int | None = None) -> list[Track]:
        where = " WHERE t.status = 'ok' AND b.path IS NULL" if playable_only else ""
        order = " ORDER BY t.path"
        if sample:  # drawn among ids first: a random order over whole rows took 0.4 s
            where += (" AND t.id IN (SELECT id FROM tracks WHERE status = 'ok' AND path NOT IN"
                      " (SELECT path FROM bans) ORDER BY random() LIMIT ?)")  # fmt: skip
            order = ""
        rows = self._db.execute(
            "SELECT t.*, b.path IS NOT NULL AS banned FROM tracks t"
            f" LEFT JOIN bans b ON b.path = t.path{where}{order}",
            (sample,) if sample else (),
        ).fetchall()
        moods = self._winning_moods([r["id"] for r in rows] if sample else None)
        return [_track(r, moods.get(r["id"]), bool(r["banned"])) for r in rows]

    def _winning_moods(self, ids: list[int] | None) -> dict[int, TrackMood]:
        """Each track's winning mood row (of all tracks, or of ``ids``); only the winners'
        JSON is decoded, which was most of a 100,000-track load."""
        query = "SELECT * FROM track_moods"
        chunks = [None] if ids is None else [ids[i : i + 500] for i in range(0, len(ids), 500)]
        best: dict[int, sqlite3.Row] = {}
        for chunk in chunks:
            args = chunk or []
            where = f" WHERE track_id IN ({', '.join('?' * len(args))})" if chunk else ""
            for r in self._db.execute(query + where, args):
                held = best.get(r["track_id"])
                if held is None or _rank(r["source"]) < _rank(held["source"]):
                    best[r["track_id"]] = r
        return {track_id: _mood(r) for track_id, r in best.items()}

    def sample(self, count: int) -> list[Track]:
        """Up to ``count`` playable tracks drawn at random: enough to start playing while
        the whole library is read on another thread."""
        try:
            return self._tracks(True, count)
        except sqlite3.Error as exc:
            raise LibraryError(str(exc)) from exc

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM tracks").fetchone()[0])

    def ids_by_match_key(self, key: str) -> list[int]:
        rows = self._db.execute("SELECT id FROM tracks WHERE match_key = ?", (key,))
        return [int(r[0]) for r in rows]

    # -- audio analysis -------------------------------------------------------------------

    # -- community tags -------------------------------------------------------------------


def _mood_row(track_id: int, mood: TrackMood, when: float) -> tuple[Any, ...]:
    return (track_id, mood.source, mood.taxonomy, mood.mood, mood.valence, mood.arousal,
            json.dumps(mood.probabilities), json.dumps(list(mood.tags)), when)  # fmt: skip


def _rank(source: str) -> int:
    known = SOURCE_PRECEDENCE
    return known.index(source) if source in known else len(known)


def _mood(r: sqlite3.Row) -> TrackMood:
    return TrackMood(source=r["source"], taxonomy=r["taxonomy"], mood=r["mood"],
                     valence=r["valence"], arousal=r["arousal"],
                     probabilities=json.loads(r["probabilities"]),
                     tags=tuple(json.loads(r["tags"])))  # fmt: skip


def _track(row: sqlite3.Row, mood: TrackMood | None, banned: bool = False) -> Track:
    return Track(
        id=row["id"],
        path=from_db(row["path"]),
        artist=row["artist"],
        title=row["title"],
        album=row["album"],
        duration=row["duration"],
        status=row["status"],
        error=row["error"],
        mood=mood,
        genre=row["genre"],
        loudness_lufs=row["loudness_lufs"],
        true_peak_dbtp=row["true_peak_dbtp"],
        explicit=bool(row["explicit"]),
        banned=banned,
        isrc=row["isrc"],
        label=row["label"],
    )


def open_or_set_aside(path: Path | str, stamp: str,
                      busy_timeout_s: float = 30.0) -> tuple[Library, str]:  # fmt: skip
    """The library at ``path``; one that SQLite cannot open (damaged, not a database) is moved
    aside as ``<path>.damaged-<stamp>`` (with its -wal and -shm), kept for a person to look at,
    and a new one made in its place: the daemon plays on (from a rescan) instead of exiting
    into a restart loop. Returns the library and what was done ('' when nothing was)."""
    try:
        return Library(path, busy_timeout_s), ""
    except LibraryLockedError:
        raise  # whole, only busy: a person is told; nothing is moved
    except MoodcastError as exc:
        original = Path(path).expanduser()
        if str(path) == ":memory:" or not original.is_file():
            raise
        aside = original.with_name(f"{original.name}.damaged-{stamp}")
        try:
            os.replace(original, aside)
            for suffix in ("-wal", "-shm"):
                extra = original.with_name(original.name + suffix)
                if extra.exists():
                    os.replace(extra, aside.with_name(aside.name + suffix))
        except OSError:
            raise exc from None
        logger.error("%s; set aside as %s, a new library is made", exc, aside)
        return (
            Library(path, busy_timeout_s),
            f"library {original} could not be opened ({exc.problem}): set"
            f" aside as {aside.name} and rebuilt from library.music_dirs",
        )
