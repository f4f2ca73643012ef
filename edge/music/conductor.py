"""The conductor: turns events (moods, deck events, commands, time) into music decisions.

It runs on the daemon's thread only. Every outside effect goes through the parts it was
given (player, library, publisher, state store), so tests can drive it with fakes or with
the real libVLC and broker alike.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from moodcast.config.settings import MoodcastConfig
from moodcast.edge.car.vehicle import Vehicle
from moodcast.edge.commands.remote_commands import (
    Announce,
    Command,
)
from moodcast.edge.music.announce_channel import AnnouncementChannel
from moodcast.edge.music.announcer import Announcer
from moodcast.edge.music.command_handlers import HANDLERS, track_info
from moodcast.edge.music.library_feed import LibraryFeed
from moodcast.edge.music.mood_follower import MoodFollower
from moodcast.edge.music.next_up import NextUp
from moodcast.edge.music.opening import Opening
from moodcast.edge.music.playlog import PlayLog
from moodcast.edge.music.repertoire import Repertoire
from moodcast.edge.music.volume import VolumeControl
from moodcast.edge.status.device_state import to_wire
from moodcast.edge.status.health import Health
from moodcast.edge.status.keeper import StateKeeper
from moodcast.edge.status.problems import ProblemKind
from moodcast.edge.status.state import RuntimeState, StateStore
from moodcast.edge.status.state_view import device_state
from moodcast.edge.timing import Clocks, Timings
from moodcast.models.mood import MoodEstimate, Taxonomy
from moodcast.player.decks import DeckEvent
from moodcast.player.playback import PlaybackOutcome, Player
from moodcast.player.selection import TrackSelector
from moodcast.player.track import Track, TrackStore

__all__ = ["Clocks", "Conductor", "NullPublisher", "Publisher", "Timings"]


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
        health: Health | None = None,
        *,
        announcer: Announcer,
        timings: Timings | None = None,
        feed: LibraryFeed | None = None,
    ) -> None:
        """``health``: where problems go (the daemon's, which the loop and the broker's
        presence report to as well; a fresh one when not given); ``feed``: how the library
        is read again (at once when not given)."""
        self.config, self.taxonomy = config, taxonomy
        self.player, self.publisher = player, publisher
        self.clocks = clocks or Clocks()
        self.timings = timings or Timings()
        self.health = health or Health(publisher, self.clocks.wall, "", self.clocks.mono)
        self.announcements = AnnouncementChannel(announcer, self.health, self.clocks.mono)
        self.keeper = StateKeeper(store, RuntimeState(volume=config.player.volume), taxonomy,
                                  self.health, self.clocks.mono, self.timings.retry_s)  # fmt: skip
        self.mood = MoodFollower(config, taxonomy, self.clocks)
        self.vehicle = Vehicle(config.vehicle) if config.vehicle.enabled else None
        self.volume = VolumeControl(config.player, self.keeper, player, self.health,
                                    self.vehicle)  # fmt: skip
        self.volume.start()
        self.next_up = NextUp(config.selection, rng or np.random.default_rng())
        self.repertoire = Repertoire(config, taxonomy, library, self.health, self.clocks,
                                     self.timings, feed)  # fmt: skip
        self.playlog = PlayLog(library, self.clocks.wall, self.clocks.mono,
                               config.player.playlog_days, self.timings.retry_s,
                               self.health)  # fmt: skip
        self.opening = Opening(config, self.vehicle)

    @property
    def is_open(self) -> bool | None:
        return self.opening.is_open

    @property
    def state(self) -> RuntimeState:
        return self.keeper.state

    @property
    def dirty(self) -> bool:
        return self.health.dirty

    @dirty.setter
    def dirty(self, value: bool) -> None:
        self.health.dirty = value

    def error(self, message: str, kind: ProblemKind = ProblemKind.TRACK_FAILED) -> None:
        self.health.report(kind, message)

    def publish_state(self) -> None:
        """Send the state now (the daemon paces this) and mark it sent."""
        self.dirty = False
        self.publisher.publish_state(self.snapshot())

    # -- library ---------------------------------------------------------------------------

    @property
    def selector(self) -> TrackSelector:
        return self.repertoire.selector

    def use_config(self, config: MoodcastConfig) -> None:
        """A config whose rules or named announcements changed while running (central
        settings from a fleet): in force from now."""
        self.config = self.repertoire.config = self.opening.config = config
        self.announcements.use(config.announcements)
        self.repertoire.apply_rules(self.clocks.local(), changed=True)
        self.dirty = True

    def start(self, sample: list[Track]) -> None:
        """Start from ``sample`` (read by the daemon at start) while the whole library is
        read again (on the feed's thread, when there is one), at the volume in force."""
        self.repertoire.load(sample)
        self.repertoire.reload()
        self.volume.apply()

    def close(self) -> None:
        """At shutdown, before the library closes: what plays ends in the play log now."""
        self.playlog.close()

    # -- mood ------------------------------------------------------------------------------

    def target(self) -> tuple[MoodEstimate, str]:
        """The mood music should follow now, and where it comes from (in a car, what the
        drive calls for is applied to all but an override)."""
        return self.mood.target(self.state, self.vehicle)

    def on_mood(self, reading: MoodEstimate, at: float) -> None:
        if self.vehicle is not None:
            self.vehicle.on_evidence(reading.evidence)
        smoothed = self.mood.update(reading, at)
        self.health.readings += 1
        self.dirty = True
        if not smoothed.changed:
            return
        self.publisher.publish_event(
            "mood_changed", {"mood": smoothed.mood, "strong": smoothed.strong}
        )
        self.next_up.clear()  # the queue head follows the new mood
        if smoothed.strong and self.state.auto and not self._override_active():
            self.play_next(fade=None)

    def _override_active(self) -> bool:
        return self.state.override_active(self.clocks.wall()) is not None

    # -- playback --------------------------------------------------------------------------

    def play_next(self, fade: float | None) -> None:
        """Start the queued (or a fresh) pick; whatever plays crossfades out."""
        if self.is_open is False or self.state.paused or self.announcements.holding:
            return
        estimate, selector = self.target()[0], self.selector
        pick = self.next_up.take(selector, estimate)
        if pick is None:
            return
        self.player.play(pick.track, self.clocks.mono(), fade)
        self.playlog.started(
            pick.track, pick.reason, pick.track.mood.mood if pick.track.mood else ""
        )
        self.next_up.started(pick, selector, estimate)
        self.publisher.publish_event("track_started", track_info(pick.track, pick.reason))
        self.dirty = True

    def on_deck_event(self, event: DeckEvent) -> None:
        if self.announcements.on_deck_event(event):
            return
        outcome = self.player.on_deck_event(event, self.clocks.mono())
        if outcome is not None:
            self.on_playback(outcome)

    def announce(self, command: Announce, scheduled: bool = False) -> None:
        self.announcements.request(command, bool(self.is_open), scheduled)

    def on_rescan_done(self, summary: str, error: str) -> None:
        self.repertoire.rescanned(summary, error)
        if not error:
            self.publisher.publish_event("rescan_done", {"summary": summary})

    def on_playback(self, outcome: PlaybackOutcome) -> None:
        if outcome.failed:
            reason = self.repertoire.failed(outcome.track, outcome.reason)
            if not reason:  # not the track's fault (out of descriptors): wait, then again
                self.next_up.hold(self.clocks.mono() + self.timings.retry_s)
                self.dirty = True
                return
            self.error(f"{outcome.track.path}: {reason}; flagged and skipped")
        if outcome.was_active and self.player.now_playing is None:
            self.announcements.between_tracks()  # (one that plays now: the next track waits)
            self.play_next(fade=0.0 if outcome.failed else None)
        self.dirty = True

    # -- time ------------------------------------------------------------------------------

    def tick(self) -> None:
        mono, local = self.clocks.mono(), self.clocks.local()
        self.health.flush()
        self.keeper.retry(mono)
        self.repertoire.tick(mono, local)
        change = self.opening.tick(mono, self.clocks.wall(), local)
        if change is not None:
            self._on_opening(change.open, change.first, change.fade_s)
        part = self.opening.new_daypart(local)
        if part is not None:
            self.volume.daypart(part.volume)
        self.volume.apply()
        if self.state.override_mood and not self._override_active():
            self.set_state(override_mood=None, override_until=None)
            self.next_up.clear()
        self.player.tick(mono)
        self._follow_playlog()
        ending = self.player.ending()
        self.announcements.tick(track_ending=ending)
        if not self.is_open or self.state.paused or self.announcements.holding:
            return  # (an announcement between tracks or an urgent one: the next track waits)
        if ending and not self.next_up.held(mono) and self.repertoire.ready_to_play():
            self.play_next(fade=None if self.player.now_playing else self.config.player.fade_s)

    def _follow_playlog(self) -> None:
        current = self.announcements.current
        self.playlog.follow(self.player.now_playing, self.state.paused, current,
                            current.label if current is not None else "")  # fmt: skip

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

    def snapshot(self) -> dict[str, Any]:
        """The state as every consumer reads it (docs/state.md)."""
        return to_wire(device_state(self))
