"""The play log: what was heard, when and for how long, kept in the library database.

Licensing bodies (PRS, GEMA, SACEM, ASCAP) ask a shop what was played, when and for how long.
A play is logged when it starts (with why it was chosen) and its seconds are set when it
stops, whatever stopped it: the conductor says what it starts, and :meth:`PlayLog.follow`
compares, at every tick, what the player and the announcer hold with what the log holds, so
a skip, a failure, a pause, a closing or a crossfade all end the entry the same way. Paused
time is not counted. A write the library refuses (locked, disk full) is kept in memory and
tried again: a busy library delays the log, never loses it nor holds up the music.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from moodcast.edge.status.health import Health
from moodcast.edge.status.problems import ProblemKind
from moodcast.player.track import Play, Track, TrackStore, TrackStoreError

logger = logging.getLogger(__name__)

DAY_S = 86_400.0


@dataclass
class _Open:
    """The entry being heard now."""

    key: object  # the track's id, or the announcement object
    play: Play
    started: float  # monotonic
    paused_s: float = 0.0  # seconds spent paused, not counted
    paused_at: float | None = None
    row: int | None = None  # its id once written


class PlayLog:
    def __init__(self, store: TrackStore, wall: Callable[[], float], mono: Callable[[], float],
                 keep_days: int, retry_s: float = 10.0, health: Health | None = None,
                 ) -> None:  # fmt: skip
        """``health``: where a log that falls behind (and catches up) is said."""
        self._store, self._wall, self._mono = store, wall, mono
        self._health, self._said = health, ""
        self._keep_s = keep_days * DAY_S
        self._retry_s = retry_s
        self._track: _Open | None = None
        self._announcement: _Open | None = None
        self._unwritten: list[_Open] = []  # entries the store refused, oldest first
        self._retry_at = 0.0
        self._pruned_at: float | None = None
        self.problem = ""  # why the log is behind ('' when it is not)

    def started(self, track: Track, why: str, mood: str) -> None:
        """A track starts: the one before it (if any) ends now."""
        self._close("_track")
        play = Play(started_at=self._wall(), kind="track", title=track.title, artist=track.artist,
                    album=track.album, isrc=track.isrc, label=track.label, path=track.path,
                    mood=mood, why=why)  # fmt: skip
        self._track = self._write(_Open(track.id, play, self._mono()))

    def follow(
        self, playing: Track | None, paused: bool, announcing: object | None, label: str = ""
    ) -> None:
        """At every tick: end what no longer plays, count pauses out, log an announcement
        that has started, and retry writes the library refused."""
        now = self._mono()
        if self._track is not None and (playing is None or playing.id != self._track.key):
            self._close("_track")
        if self._track is not None:
            if paused and self._track.paused_at is None:
                self._track.paused_at = now
            elif not paused and self._track.paused_at is not None:
                self._track.paused_s += now - self._track.paused_at
                self._track.paused_at = None
        if self._announcement is not None and self._announcement.key is not announcing:
            self._close("_announcement")
        if announcing is not None and self._announcement is None:
            play = Play(started_at=self._wall(), kind="announcement", title=label[:200])
            self._announcement = self._write(_Open(announcing, play, now))
        if self._unwritten and now >= self._retry_at:
            self._flush(now)
        self._prune()
        self._report()

    def _report(self) -> None:
        """A change of :attr:`problem` said to health once (kind PLAY_LOG)."""
        if self._health is None or self.problem == self._said:
            return
        self._said = self.problem
        if self.problem:
            self._health.report(ProblemKind.PLAY_LOG, self.problem)
        else:
            self._health.clear(ProblemKind.PLAY_LOG)

    def close(self) -> None:
        """At shutdown: what plays ends now, and one last try at what is unwritten."""
        self._close("_track")
        self._close("_announcement")
        self._flush(self._mono())

    def _close(self, slot: str) -> None:
        entry: _Open | None = getattr(self, slot)
        if entry is None:
            return
        setattr(self, slot, None)
        now = self._mono()
        end = entry.paused_at if entry.paused_at is not None else now
        entry.play = replace(entry.play, seconds=max(0.0, end - entry.started - entry.paused_s))
        if entry.row is None:
            if entry not in self._unwritten:
                self._unwritten.append(entry)
            return
        try:
            self._store.set_play_seconds(entry.row, entry.play.seconds or 0.0)
        except TrackStoreError as exc:
            self._behind(entry, exc)

    def _write(self, entry: _Open) -> _Open:
        try:
            entry.row = self._store.add_play(entry.play)
        except TrackStoreError as exc:
            self._behind(entry, exc)
        return entry

    def _behind(self, entry: _Open, exc: Exception) -> None:
        if entry not in self._unwritten:
            self._unwritten.append(entry)
        if not self.problem:
            logger.warning("play log: the library refused a write (%s); kept, tried again", exc)
        self.problem = f"play log not written ({exc}); {len(self._unwritten)} kept, tried again"
        self._retry_at = self._mono() + self._retry_s

    def _flush(self, now: float) -> None:
        """Write what waits, oldest first; stop at the first refusal."""
        while self._unwritten:
            entry = self._unwritten[0]
            try:
                if entry.row is None:
                    entry.row = self._store.add_play(entry.play)
                elif entry.play.seconds is not None:
                    self._store.set_play_seconds(entry.row, entry.play.seconds)
            except TrackStoreError as exc:
                self.problem = f"play log not written ({exc}); {len(self._unwritten)} kept"
                self._retry_at = now + self._retry_s
                return
            self._unwritten.pop(0)
        self.problem = ""

    def _prune(self) -> None:
        """Once a day (and at start): plays older than the kept days go."""
        now = self._wall()
        if self._pruned_at is not None and now - self._pruned_at < DAY_S:
            return
        self._pruned_at = now
        try:
            gone = self._store.prune_plays(now - self._keep_s)
        except TrackStoreError as exc:
            logger.warning("play log: old plays not pruned (%s); tried again tomorrow", exc)
            return
        if gone:
            logger.info("play log: %d plays older than %d days pruned", gone,
                        round(self._keep_s / DAY_S))  # fmt: skip
