"""The conductor: turns events (moods, deck events, commands, time) into music decisions.

It runs on the daemon's thread only. Every outside effect goes through the parts it was
given (player, library, publisher, state store), so tests can drive it with fakes or with
the real libVLC and broker alike.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import numpy as np

from moodcast.config.settings import Daypart, MoodcastConfig
from moodcast.edge.announcer import Announcer
from moodcast.edge.car.vehicle import Vehicle
from moodcast.edge.command_handlers import HANDLERS, track_info
from moodcast.edge.device_state import (
    DeviceState,
    to_wire,
)
from moodcast.edge.health import Health
from moodcast.edge.keeper import StateKeeper
from moodcast.edge.library_feed import LibraryFeed
from moodcast.edge.mood_follower import MoodFollower
from moodcast.edge.opening import Opening
from moodcast.edge.playlog import PlayLog
from moodcast.edge.problems import ProblemKind
from moodcast.edge.remote_commands import (
    Announce,
    Command,
)
from moodcast.edge.repertoire import Repertoire
from moodcast.edge.state import RuntimeState, StateStore
from moodcast.edge.state_view import device_state
from moodcast.edge.timing import Clocks, Timings
from moodcast.edge.volume import VolumeControl
from moodcast.models.mood import MoodEstimate, Taxonomy
from moodcast.models.response import drive_target
from moodcast.player.decks import DeckEvent
from moodcast.player.playback import PlaybackOutcome, Player
from moodcast.player.selection import Pick, PlayHistory, TrackSelector
from moodcast.player.track import Track, TrackStore

__all__ = ["Clocks", "Conductor", "NullPublisher", "Publisher", "Timings"]

logger = logging.getLogger(__name__)


class Publisher(Protocol):
    """Where state, events and rejected commands go (the MQTT link, or nowhere)."""

    def publish_state(self, state: dict[str, Any]) -> None: ...
    def publish_event(self, name: str, data: dict[str, Any]) -> None: ...
    def publish_error(self, data: dict[str, Any]) -> None: ...


class NullPublisher:
    """The publisher when MQTT is off: the daemon runs the same, telling no one."""

    def publish_state(self, state: dict[str, Any]) -> None:
        pass

    def publish_event(self, name: str, data: dict[str, Any]) -> None:
        pass

    def publish_error(self, data: dict[str, Any]) -> None:
        pass


class Conductor:
    """What to play and when. Health and problems live in :class:`Health`, the runtime state
    and its saving in :class:`StateKeeper`, announcements in their own channel."""

    def __init__(
        self,
        config: MoodcastConfig,
        taxonomy: Taxonomy,
        library: TrackStore,
        player: Player,
        publisher: Publisher,
        store: StateStore,
        clocks: Clocks | None = None,
        rng: np.random.Generator | None = None,
        reader_detail: str = "",
        *,
        announcer: Announcer,
        timings: Timings | None = None,
        feed: LibraryFeed | None = None,
    ) -> None:
        """``reader_detail``: why the configured reader is not in use, when it is not;
        ``feed``: how the library is read again (at once when not given)."""
        self.config, self.taxonomy = config, taxonomy
        self.player, self.publisher = player, publisher
        self.announcer = announcer
        self.clocks = clocks or Clocks()
        self.timings = timings or Timings()
        self.rng = rng or np.random.default_rng()
        self.health = Health(publisher, self.clocks.wall, reader_detail, self.clocks.mono)
        self.keeper = StateKeeper(store, RuntimeState(volume=config.player.volume), taxonomy,
                                  self.health, self.clocks.mono, self.timings.retry_s)  # fmt: skip
        self.mood = MoodFollower(config, taxonomy, self.clocks)
        self.vehicle = Vehicle(config.vehicle) if config.vehicle.enabled else None
        self.volume = VolumeControl(config.player, self.keeper, player, self.health,
                                    self.vehicle)  # fmt: skip
        self.volume.start()
        self.history = PlayHistory(config.selection)
        self.repertoire = Repertoire(config, taxonomy, library, self.health, self.clocks,
                                     self.timings, feed)  # fmt: skip
        self.playlog = PlayLog(library, self.clocks.wall, self.clocks.mono,
                               config.player.playlog_days, self.timings.retry_s)  # fmt: skip
        self._playlog_said = ""
        self._held_until = 0.0  # no track starts before (a failure that was not the track's)
        self._queued: tuple[Pick, TrackSelector] | None = None  # and the selector it is from
        self.opening = Opening(config, self.vehicle)

    @property
    def is_open(self) -> bool | None:
        return self.opening.is_open

    @property
    def daypart(self) -> Daypart | None:
        return self.opening.daypart

    @property
    def state(self) -> RuntimeState:
        return self.keeper.state

    @property
    def dirty(self) -> bool:
        return self.health.dirty

    @dirty.setter
    def dirty(self, value: bool) -> None:
        self.health.dirty = value

    @property
    def last_error(self) -> str:
        return self.health.last_error

    def error(self, message: str, kind: ProblemKind = ProblemKind.TRACK_FAILED) -> None:
        self.health.report(kind, message)

    def set_camera(self, status: str, detail: str) -> None:
        self.health.set_camera(status, detail)

    def set_broker(self, status: str) -> None:
        self.health.set_broker(status)

    def publish_state(self) -> None:
        """Send the state now (the daemon paces this) and mark it sent."""
        self.dirty = False
        self.publisher.publish_state(self.snapshot())

    # -- library ---------------------------------------------------------------------------

    @property
    def selector(self) -> TrackSelector:
        return self.repertoire.selector

    @property
    def next_pick(self) -> Pick | None:
        """The queue head: picked from the selector in use now (a rebuilt one drops it)."""
        if self._queued is None or self._queued[1] is not self.selector:
            return None
        return self._queued[0]

    @next_pick.setter
    def next_pick(self, pick: Pick | None) -> None:
        self._queued = None if pick is None else (pick, self.selector)

    def use_config(self, config: MoodcastConfig) -> None:
        """A config whose rules or named announcements changed while running (central
        settings from a fleet): in force from now."""
        self.config = self.repertoire.config = self.opening.config = config
        self.announcer.settings = config.announcements
        self.repertoire.apply_rules(self.clocks.local(), changed=True)
        self.dirty = True

    def load_library(self, tracks: list[Track]) -> None:
        """The library's tracks as the daemon loaded them at start (one read, not two)."""
        self.repertoire.load(tracks)

    def reload_library(self) -> None:
        self.repertoire.reload()

    # -- mood ------------------------------------------------------------------------------

    def target(self) -> tuple[MoodEstimate, str]:
        """The mood music should follow now, and where it comes from (in a car, what the
        drive calls for is applied to all but an override)."""
        estimate, source = self.mood.target(self.state)
        if self.vehicle is not None and source != "override":
            estimate = drive_target(estimate, self.vehicle.current.name,
                                    self.config.vehicle.respond, self.taxonomy)  # fmt: skip
        return estimate, source

    def on_mood(self, reading: MoodEstimate, at: float) -> None:
        if self.vehicle is not None:
            ev = reading.evidence
            self.vehicle.on_scene(float(ev.get("darkness", 0.0) or 0.0),
                                  int(ev.get("vehicles", 0) or 0))  # fmt: skip
        smoothed = self.mood.update(reading, at)
        self.health.readings += 1
        self.dirty = True
        if not smoothed.changed:
            return
        self.publisher.publish_event(
            "mood_changed", {"mood": smoothed.mood, "strong": smoothed.strong}
        )
        self.next_pick = None  # the queue head follows the new mood
        if smoothed.strong and self.state.auto and not self._override_active():
            self.play_next(fade=None)

    def _override_active(self) -> bool:
        return self.state.override_active(self.clocks.wall()) is not None

    # -- playback --------------------------------------------------------------------------

    def pick(self) -> Pick | None:
        estimate, _ = self.target()
        return self.selector.pick(estimate, self.history, self.rng)

    def play_next(self, fade: float | None) -> None:
        """Start the queued (or a fresh) pick; whatever plays crossfades out."""
        if self.is_open is False or self.state.paused or self.announcer.holding:
            return
        pick = self.next_pick or self.pick()
        if pick is None:
            return
        self.history.add(pick.track)
        self.player.play(pick.track, self.clocks.mono(), fade)
        self.playlog.started(
            pick.track, pick.reason, pick.track.mood.mood if pick.track.mood else ""
        )
        self.next_pick = self.pick()
        self.publisher.publish_event("track_started", track_info(pick.track, pick.reason))
        self.dirty = True

    def on_deck_event(self, event: DeckEvent) -> None:
        if self.announcer.owns(event):
            self._announced(self.announcer.on_deck_event(event, self.clocks.mono()))
            return
        outcome = self.player.on_deck_event(event, self.clocks.mono())
        if outcome is not None:
            self.on_playback(outcome)

    def announce(self, command: Announce, scheduled: bool = False) -> None:
        self._announced(self.announcer.request(command, bool(self.is_open), scheduled,
                                               self.clocks.mono()))  # fmt: skip

    def _announced(self, problem: str) -> None:
        """After an announcement's request, deck event or tick: its problem said."""
        if problem:
            self.error(problem, ProblemKind.ANNOUNCEMENT)
        self.dirty = True

    def on_rescan_done(self, summary: str, error: str) -> None:
        if error:
            self.error(f"rescan failed: {error}", ProblemKind.RESCAN)
        else:
            logger.info("rescan: %s", summary)
            self.health.clear(ProblemKind.RESCAN)
            self.health.clear(ProblemKind.LIBRARY_REBUILT)
            self.publisher.publish_event("rescan_done", {"summary": summary})
        self.reload_library()

    def on_playback(self, outcome: PlaybackOutcome) -> None:
        if outcome.failed:
            reason = self.repertoire.failed(outcome.track, outcome.reason)
            if not reason:  # not the track's fault (out of descriptors): wait, then again
                self._held_until = self.clocks.mono() + self.timings.retry_s
                self.dirty = True
                return
            self.error(f"{outcome.track.path}: {reason}; flagged and skipped")
        if outcome.was_active and self.player.now_playing is None:
            if self.announcer.busy and self.announcer.current is None:
                # between tracks now: one waiting for a track's end plays (the next waits)
                self._announced(self.announcer.tick(self.clocks.mono(), track_ending=True))
            self.play_next(fade=0.0 if outcome.failed else None)
        self.dirty = True

    # -- time ------------------------------------------------------------------------------

    def tick(self) -> None:
        mono, local = self.clocks.mono(), self.clocks.local()
        self.health.flush()
        self.repertoire.retry_writes(mono)
        self.repertoire.take()  # a read of the library the feed finished
        self.keeper.retry(mono)
        self.repertoire.apply_rules(local)
        self.repertoire.bring_back(mono)
        change = self.opening.tick(mono, self.clocks.wall(), local)
        if change is not None:
            self._on_opening(change.open, change.first, change.fade_s)
        part = self.opening.new_daypart(local)
        if part is not None:
            self.volume.daypart(part.volume)
        self.volume.apply()
        if self.state.override_mood and not self._override_active():
            self.set_state(override_mood=None, override_until=None)
            self.next_pick = None
        self.player.tick(mono)
        self._follow_playlog()
        remaining = self.player.remaining_s()
        ending = self.player.now_playing is None or (
            remaining is not None
            and remaining <= self.player.crossfade_for(self.player.now_playing)
        )
        if self.announcer.busy:
            current = self.announcer.current
            problem = self.announcer.tick(mono, track_ending=ending)
            if problem or current is not self.announcer.current:
                self._announced(problem)
        if not self.is_open or self.state.paused or self.announcer.holding:
            return  # (an announcement between tracks or an urgent one: the next track waits)
        if ending and mono >= self._held_until and self.repertoire.ready_to_play():
            self.play_next(fade=None if self.player.now_playing else self.config.player.fade_s)

    def _follow_playlog(self) -> None:
        current = self.announcer.current
        self.playlog.follow(self.player.now_playing, self.state.paused, current,
                            current.label if current is not None else "")  # fmt: skip
        problem = self.playlog.problem
        if problem != self._playlog_said:
            self._playlog_said = problem
            if problem:
                self.health.report(ProblemKind.PLAY_LOG, problem)
            else:
                self.health.clear(ProblemKind.PLAY_LOG)

    def _on_opening(self, open_now: bool, first: bool, fade_s: float | None = None) -> None:
        self.dirty = True
        if not first:
            self.publisher.publish_event("opening", {"open": open_now})
        if not open_now:
            self.player.stop(self.clocks.mono(), fade=True, fade_s=fade_s)

    # -- commands --------------------------------------------------------------------------

    def on_command(self, command: Command) -> None:
        handler = HANDLERS.get(type(command))
        if handler is not None:
            handler(self, command)
            self._follow_playlog()  # a pause or stop counted from now, not the next tick
        self.dirty = True

    def set_state(self, **changes: Any) -> None:
        """Runtime state a command or the clock changed (kept by the keeper, saved)."""
        if self.keeper.change(**changes):
            self.dirty = True

    # -- state -----------------------------------------------------------------------------

    def device_state(self) -> DeviceState:
        """The typed state, derived from the parts at this moment."""
        return device_state(self)

    def snapshot(self) -> dict[str, Any]:
        """The state as every consumer reads it (docs/state.md)."""
        return to_wire(self.device_state())
