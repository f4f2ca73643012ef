"""The library database: tracks, their mood data by source, and community tags.

SQLite in WAL mode; the schema is owned here and upgraded by numbered migrations recorded in
``schema_migrations``. Every write goes through :meth:`Library.transaction`: one writer at a
time in the process (a lock, so that the rescan thread and the daemon's thread take turns on
the one connection), committed together or not at all. Another process (``moodcast scan``
beside the daemon) waits on SQLite's own lock, up to the connection's 30 s timeout.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moodcast.config.errors import MoodcastError
from moodcast.config.text import safe_text
from moodcast.player.tags import unaccent
from moodcast.player.track import Play, Track, TrackMood, TrackStoreError

logger = logging.getLogger(__name__)

# Which mood data wins when a track has several: the user's own file tag, then a community
# tag, then audio analysis, then the genre as a weak hint.
SOURCE_PRECEDENCE = ("file", "imported", "analysed", "genre")

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE tracks (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        mtime REAL NOT NULL,
        artist TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL DEFAULT '',
        album TEXT NOT NULL DEFAULT '',
        genre TEXT NOT NULL DEFAULT '',
        duration REAL,
        match_key TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'unreadable', 'failed')),
        error TEXT NOT NULL DEFAULT '',
        added_at REAL NOT NULL
    );
    CREATE INDEX tracks_match_key ON tracks(match_key);
    CREATE TABLE track_moods (
        track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        taxonomy TEXT NOT NULL,
        mood TEXT NOT NULL,
        valence REAL NOT NULL,
        arousal REAL NOT NULL,
        probabilities TEXT NOT NULL,
        tags TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (track_id, source)
    );
    CREATE TABLE community_tags (
        match_key TEXT NOT NULL,
        tag TEXT NOT NULL,
        origin TEXT NOT NULL,
        PRIMARY KEY (match_key, tag, origin)
    );
    """,
    """
    CREATE TABLE analyses (
        track_id INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
        size INTEGER NOT NULL,
        mtime REAL NOT NULL,
        tags TEXT NOT NULL DEFAULT '{}',
        features TEXT NOT NULL DEFAULT '{}',
        error TEXT NOT NULL DEFAULT '',
        analysed_at REAL NOT NULL
    );
    """,
    """
    ALTER TABLE tracks ADD COLUMN loudness_lufs REAL;
    ALTER TABLE tracks ADD COLUMN true_peak_dbtp REAL;
    ALTER TABLE tracks ADD COLUMN loudness_source TEXT NOT NULL DEFAULT '';
    ALTER TABLE tracks ADD COLUMN loudness_error TEXT NOT NULL DEFAULT '';
    ALTER TABLE tracks ADD COLUMN explicit INTEGER NOT NULL DEFAULT 0;
    """,
    # Match keys ignore accents now (Beyoncé = Beyonce): keys made before are folded the same
    # way; a community tag whose folded key already exists is a duplicate and goes.
    """
    UPDATE tracks SET match_key = moodcast_unaccent(match_key);
    UPDATE OR IGNORE community_tags SET match_key = moodcast_unaccent(match_key);
    DELETE FROM community_tags WHERE match_key != moodcast_unaccent(match_key);
    """,
    # "Not this track": by file path, so a ban outlives rescans and the track's row.
    """
    CREATE TABLE bans (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        artist TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL DEFAULT '',
        banned_at REAL NOT NULL
    );
    """,
    # The play log (what licensing bodies ask for), and the tags it needs from each file.
    """
    ALTER TABLE tracks ADD COLUMN isrc TEXT NOT NULL DEFAULT '';
    ALTER TABLE tracks ADD COLUMN label TEXT NOT NULL DEFAULT '';
    CREATE TABLE plays (
        id INTEGER PRIMARY KEY,
        started_at REAL NOT NULL,
        seconds REAL,
        kind TEXT NOT NULL CHECK (kind IN ('track', 'announcement')),
        title TEXT NOT NULL DEFAULT '',
        artist TEXT NOT NULL DEFAULT '',
        album TEXT NOT NULL DEFAULT '',
        isrc TEXT NOT NULL DEFAULT '',
        label TEXT NOT NULL DEFAULT '',
        path TEXT NOT NULL DEFAULT '',
        mood TEXT NOT NULL DEFAULT '',
        why TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX plays_started_at ON plays(started_at);
    """,
)


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


class LibraryLockedError(MoodcastError):
    """The library is whole but another program held its lock past the wait: never set
    aside as damaged."""


class LibraryError(TrackStoreError, sqlite3.Error):
    """An SQLite error, seen through the store's interface (and still an sqlite3.Error)."""


class Library:
    """Access to one library database file (``:memory:`` works for tests)."""

    def __init__(self, path: Path | str, busy_timeout_s: float = 30.0) -> None:
        """``busy_timeout_s``: how long a write waits for another process's lock before it
        fails (the daemon's decision thread waits a quarter second, then keeps the write in
        memory: the music never waits on a lock)."""
        self.path = str(path)
        self._write_lock = threading.RLock()
        self._depth = 0  # nesting of transaction() blocks held by the writing thread
        if self.path != ":memory:":
            Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.path = str(Path(self.path).expanduser())
        try:
            self._db = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.create_function("moodcast_unaccent", 1, unaccent, deterministic=True)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()  # opening waits its 30 s: the start may meet a scan's lock
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise _unopenable(self.path, exc) from exc
            raise LibraryLockedError(
                f"library database {self.path} is locked by another program ({exc})",
                "wait for it ('moodcast scan' or 'tag' running?) and start again",
            ) from exc
        except sqlite3.DatabaseError as exc:
            raise _unopenable(self.path, exc) from exc

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _migrate(self) -> None:
        db = self._db
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        done = {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
        for version, script in enumerate(MIGRATIONS, start=1):
            if version in done:
                continue
            with db:
                for statement in filter(str.strip, script.split(";")):
                    db.execute(statement)
                db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, time.time()))
            logger.info("library %s: applied schema migration %d", self.path, version)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Writes inside commit together on success and roll back on error; one writer at a
        time. A block inside another joins it (the outer one commits)."""
        with self._write_lock:
            self._depth += 1
            try:
                yield
                if self._depth == 1:
                    self._db.commit()
            except BaseException:
                if self._depth == 1:
                    self._db.rollback()
                raise
            finally:
                self._depth -= 1

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

    # -- community tags -------------------------------------------------------------------

    def add_community_tags(self, rows: Sequence[tuple[str, str, str]]) -> None:
        with self.transaction():
            self._db.executemany("INSERT OR IGNORE INTO community_tags VALUES (?, ?, ?)", rows)

    def community_tags(self) -> Iterator[tuple[str, list[str]]]:
        """(match_key, tags) for every key that has community tags."""
        grouped: dict[str, list[str]] = {}
        for r in self._db.execute("SELECT match_key, tag FROM community_tags ORDER BY tag"):
            grouped.setdefault(r[0], []).append(r[1])
        yield from grouped.items()


def _mood_row(track_id: int, mood: TrackMood, when: float) -> tuple[Any, ...]:
    return (track_id, mood.source, mood.taxonomy, mood.mood, mood.valence, mood.arousal,
            json.dumps(mood.probabilities), json.dumps(list(mood.tags)), when)  # fmt: skip


def _play(r: sqlite3.Row) -> Play:
    return Play(started_at=r["started_at"], kind=r["kind"], title=r["title"], artist=r["artist"],
                album=r["album"], isrc=r["isrc"], label=r["label"], path=from_db(r["path"]),
                mood=r["mood"], why=r["why"], seconds=r["seconds"], id=r["id"])  # fmt: skip


def _busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _unopenable(path: str, exc: sqlite3.DatabaseError) -> MoodcastError:
    return MoodcastError(
        f"library database {path} cannot be opened ({exc})",
        "point --library at a moodcast library file, or a new path to create one",
    )


def _rank(source: str) -> int:
    known = SOURCE_PRECEDENCE
    return known.index(source) if source in known else len(known)


def _mood(r: sqlite3.Row) -> TrackMood:
    return TrackMood(source=r["source"], taxonomy=r["taxonomy"], mood=r["mood"],
                     valence=r["valence"], arousal=r["arousal"],
                     probabilities=json.loads(r["probabilities"]),
                     tags=tuple(json.loads(r["tags"])))  # fmt: skip


def to_db(path: str) -> str | bytes:
    """A path as the database keeps it: text, or its raw bytes when the name is not valid
    UTF-8 (Python holds such names with surrogate escapes, which SQLite text cannot take)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path)
    return path


def from_db(value: str | bytes) -> str:
    """The inverse of :func:`to_db`: the same ``str`` the file system gave the scanner."""
    return os.fsdecode(value) if isinstance(value, bytes) else str(value)


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
