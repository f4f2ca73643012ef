"""What can be played now: the library's playable tracks, the owner's rules over them, and the
selector that draws from what the rules leave.

It also keeps what the library could not take (flags held in memory while the disk is full)
and the files that went away (looked for again, played again when back). Problems go to
:class:`Health` by kind; the conductor asks only for the selector and whether it changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from moodcast.config.settings import MoodcastConfig
from moodcast.edge import fds
from moodcast.edge.music.library_feed import DirectFeed, LibraryFeed
from moodcast.edge.status.health import Health
from moodcast.edge.status.problems import ProblemKind
from moodcast.edge.timing import Clocks, Timings
from moodcast.models.mood import Taxonomy
from moodcast.player.absent import GONE, AbsentFiles, is_gone
from moodcast.player.pending import PendingFlags
from moodcast.player.rules import RuleOutcome, apply_rules, in_force
from moodcast.player.selection import TrackSelector
from moodcast.player.track import Track, TrackStore, TrackStoreError

logger = logging.getLogger(__name__)


class Repertoire:
    """The playable tracks under the rules in force, kept in step with the library."""

    def __init__(self, config: MoodcastConfig, taxonomy: Taxonomy, library: TrackStore,
                 health: Health, clocks: Clocks, timings: Timings,
                 feed: LibraryFeed | None = None) -> None:  # fmt: skip
        self.config, self.taxonomy, self.library = config, taxonomy, library
        self.feed = feed or DirectFeed(library)
        self._dropped: dict[int, int] = {}  # track id -> the read that will show it flagged
        self.shortage: Callable[[], str] = fds.shortage  # why files may not open now
        self.health, self.clocks, self.timings = health, clocks, timings
        self.playable: list[Track] = []
        self.rules = RuleOutcome([], ())
        self.selector = TrackSelector([], taxonomy, config.selection)
        self.pending = PendingFlags(timings.retry_s)  # flags the library could not take
        self.absent = AbsentFiles()  # files gone at play time, looked for again

    def load(self, tracks: list[Track]) -> None:
        """Tracks read by the daemon itself at start (a sample to begin with, when the
        whole library is read by the feed)."""
        self.absent.add_all((t.id, t.path) for t in tracks
                            if t.status == "failed" and GONE in t.error)  # fmt: skip
        self._set_playable(self.pending.apply(tracks, playable_only=True))

    def rescanned(self, summary: str, error: str) -> None:
        """A rescan ended: its problem said or cleared, the library read again."""
        if error:
            self.health.report(ProblemKind.RESCAN, f"rescan failed: {error}")
        else:
            logger.info("rescan: %s", summary)
            self.health.clear(ProblemKind.RESCAN)
            self.health.clear(ProblemKind.LIBRARY_REBUILT)
        self.reload()

    def tick(self, now: float, local: datetime) -> None:
        """Writes the library refused tried again, a read the feed finished taken, the rules
        of this moment applied, files that came back played again."""
        self.retry_writes(now)
        self.take()
        self.apply_rules(local)
        self.bring_back(now)

    def reload(self) -> None:
        """Ask the feed for the library again; what it reads is taken by :meth:`take`."""
        self.feed.request()
        self.take()

    def take(self) -> bool:
        """A read the feed finished, put in use; True when there was one."""
        loaded = self.feed.take()
        if loaded is None:
            return False
        if loaded.tracks is None:  # keep playing what is loaded
            self.health.report(ProblemKind.LIBRARY_UNREADABLE,
                               f"library {self.library.path} cannot be read ({loaded.error});"
                               " playing on from the tracks already loaded")  # fmt: skip
            return True
        self.health.clear(ProblemKind.LIBRARY_UNREADABLE)
        self._dropped = {i: n for i, n in self._dropped.items() if n > loaded.asked}
        self.load([t for t in loaded.tracks if t.id not in self._dropped])
        return True

    def ready_to_play(self) -> bool:
        """False while the process is short of descriptors (said, and cleared when not)."""
        if self.health.problems.get(ProblemKind.DESCRIPTORS) is None:
            return True
        short = self.shortage()
        if short:
            return False
        self.health.clear(ProblemKind.DESCRIPTORS)
        return True

    def drop(self, track_id: int) -> None:
        """Out of the selection now; the library, read again, says the rest."""
        self.selector.drop(track_id)
        self._dropped[track_id] = self.feed.request()
        self.take()

    def _set_playable(self, tracks: list[Track]) -> None:
        self.playable = tracks
        if not tracks and self.absent:
            self.health.report(ProblemKind.LIBRARY_EMPTY,
                               f"no playable tracks: {len(self.absent)} music file(s) are gone (a"
                               " stick or share unmounted?); they play again as soon as they are"
                               " back, looked for every 10 s")  # fmt: skip
        elif not tracks:
            self.health.report(ProblemKind.LIBRARY_EMPTY,
                               "the library has no playable tracks: run 'moodcast scan DIR' on a"
                               " music folder (or set library.music_dirs)")  # fmt: skip
        else:
            self.health.clear(ProblemKind.LIBRARY_EMPTY)
        self.apply_rules(self.clocks.local(), changed=True)

    def apply_rules(self, local: datetime, changed: bool = False) -> bool:
        """The owner's rules before the selection: rebuilt when the library changes or the set
        of rules in force does (a daypart boundary). True when the selector was rebuilt."""
        names = tuple(r.name for r in in_force(self.config.rules.rules, local))
        if not changed and names == self.rules.in_force:
            return False
        outcome = apply_rules(self.playable, self.config.rules, local)
        if outcome.in_force != self.rules.in_force:
            logger.info("rules in force: %s", ", ".join(outcome.in_force) or "none")
        if outcome.note and outcome.note != self.rules.note:
            self.health.report(ProblemKind.RULES, outcome.note)
        elif not outcome.note:
            self.health.clear(ProblemKind.RULES)
        self.rules = outcome
        self.selector = TrackSelector(outcome.tracks, self.taxonomy, self.config.selection)
        self.health.dirty = True
        return True

    def ban(self, track_id: int) -> Track | None:
        """The track's file out of rotation for good; None (and the reason said) when it
        cannot be: no such track, or the library cannot be written."""
        try:
            track = self.library.ban(track_id)
        except TrackStoreError as exc:
            self.health.report(ProblemKind.COMMAND, f"cannot ban track {track_id}: the library"
                               f" cannot be written ({exc}); try again")  # fmt: skip
            return None
        if track is None:
            self.health.report(ProblemKind.COMMAND, f"cannot ban track {track_id}: there is no"
                               " such track (see 'moodcast library list')")  # fmt: skip
            return None
        logger.info("banned %s", track.path)
        self.health.clear(ProblemKind.COMMAND)
        self.drop(track_id)
        return track

    def failed(self, track: Track, reason: str) -> str:
        """A track that did not play: flagged with the reason (and looked for again when its
        file is gone), the library read again; the reason as said, or '' when the process is
        out of file descriptors (not the track's fault: nothing is flagged)."""
        short = self.shortage()
        if short:
            self.health.report(ProblemKind.DESCRIPTORS, short)
            return ""
        if is_gone(track.path):
            reason = f"{reason}; {GONE}"
            self.absent.add(track.id, track.path)
        self.flag(track.id, "failed", reason)
        self.drop(track.id)
        return reason

    def bring_back(self, now: float) -> None:
        """Files that were gone and are there again become playable again."""
        back = self.absent.returned(now)
        if not back:
            return
        for track_id in back:
            self.flag(track_id, "ok", "")
        logger.info("%d track(s) whose file was gone are back", len(back))
        self.reload()

    def flag(self, track_id: int, status: str, error: str) -> None:
        had = self.pending.problem
        self.pending.flag(self.library, track_id, status, error, self.clocks.mono())
        if self.pending.problem and not had:
            self.health.report(ProblemKind.LIBRARY_UNWRITABLE,
                               f"{self.pending.problem}: held in memory, tried again every"
                               f" {self.timings.retry_s:.0f} s; the music plays on")  # fmt: skip

    def retry_writes(self, now: float) -> None:
        """Held library flags are written once the disk takes them."""
        had = self.pending.problem
        if self.pending.retry(self.library, now) and had:
            self.health.clear(ProblemKind.LIBRARY_UNWRITABLE)
            self.reload()
