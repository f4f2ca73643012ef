"""The library's SQLite connection: the schema (numbered migrations recorded in
``schema_migrations``), and one writer at a time.

SQLite in WAL mode. Every write goes through :meth:`LibraryDatabase.transaction`: one writer
at a time in the process (a lock, so that threads sharing the connection take turns),
committed together or not at all. Another process (``moodcast scan`` beside the daemon) waits
on SQLite's own lock, up to the connection's busy timeout. The tables' reads and writes are in
:mod:`moodcast.player.library` (tracks, moods, bans), :mod:`moodcast.player.playlog_rows` and
:mod:`moodcast.player.analysis_rows`.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from moodcast.config.errors import MoodcastError
from moodcast.player.tags import unaccent
from moodcast.player.track import TrackStoreError

logger = logging.getLogger(__name__)

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


class LibraryLockedError(MoodcastError):
    """The library is whole but another program held its lock past the wait: never set
    aside as damaged."""


class LibraryError(TrackStoreError, sqlite3.Error):
    """An SQLite error, seen through the store's interface (and still an sqlite3.Error)."""


class LibraryDatabase:
    """One library database file (``:memory:`` works for tests): its connection and schema."""

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

    def __enter__(self) -> Self:
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


def _busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _unopenable(path: str, exc: sqlite3.DatabaseError) -> MoodcastError:
    return MoodcastError(
        f"library database {path} cannot be opened ({exc})",
        "point --library at a moodcast library file, or a new path to create one",
    )


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
