"""The conductor: turns events (moods, deck events, commands, time) into music decisions.

It runs on the daemon's thread only. Every outside effect goes through the parts it was
given (player, library, publisher, state store), so tests can drive it with fakes or with
the real libVLC and broker alike.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from moodcast.config.settings import Daypart, MoodcastConfig
from moodcast.edge.announcer import Announcer
from moodcast.edge.device_state import (
    DeviceState,
    Point,
    Position,
    RulesView,
    ScheduleView,
    StorageView,
    Target,
    TrackView,
    safe_value,
    to_wire,
    track_dict,
)
from moodcast.edge.health import Health
from moodcast.edge.hours import current_daypart, is_open, next_change
from moodcast.edge.keeper import StateKeeper
from moodcast.edge.problems import ProblemKind
from moodcast.edge.remote_commands import (
    Announce,
    Command,
    Rescan,
    SetAuto,
    SetOverride,
    SetPaused,
    SetVolume,
    Skip,
)
from moodcast.edge.smoothing import MoodSmoother, SmoothedMood
from moodcast.edge.state import RuntimeState, StateStore
from moodcast.edge.timing import Clocks, Timings
from moodcast.models.mood import MoodEstimate, Taxonomy
from moodcast.models.response import ResponsePolicy, labels
from moodcast.player.absent import GONE, AbsentFiles, is_gone
from moodcast.player.decks import DeckEvent
from moodcast.player.pending import PendingFlags
from moodcast.player.playback import PlaybackOutcome, Player
from moodcast.player.rules import RuleOutcome, apply_rules, in_force
from moodcast.player.selection import Pick, PlayHistory, TrackSelector
from moodcast.player.track import Track, TrackStore, TrackStoreError

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
    ) -> None:
        """``reader_detail``: why the configured reader is not in use, when it is not."""
        self.config, self.taxonomy = config, taxonomy
        self.library, self.player, self.publisher = library, player, publisher
        self.announcer = announcer
        self.clocks = clocks or Clocks()
        self.timings = timings or Timings()
        self.rng = rng or np.random.default_rng()
        self.health = Health(publisher, self.clocks.wall, reader_detail)
        self.keeper = StateKeeper(store, RuntimeState(volume=config.player.volume), taxonomy,
                                  self.health, self.clocks.mono, self.timings.retry_s)  # fmt: skip
        self.smoother = MoodSmoother(config.smoothing)
        self.response = ResponsePolicy.from_settings(config.mood, taxonomy)
        self.labels = labels(config.mood, taxonomy)
        self.history = PlayHistory(config.selection)
        self.selector = TrackSelector([], taxonomy, config.selection)
        self.playable: list[Track] = []
        self.rules = RuleOutcome([], ())
        self.pending = PendingFlags(self.timings.retry_s)  # flags the library could not take
        self.absent = AbsentFiles()  # files gone at play time, looked for again
        self.smoothed: SmoothedMood | None = None
        self.fixed: MoodEstimate | None = None  # the mood held while auto is off
        self.next_pick: Pick | None = None
        self.is_open: bool | None = None
        self.daypart: Daypart | None = None
        self.last_reading: MoodEstimate | None = None

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

    def load_library(self, tracks: list[Track]) -> None:
        """The library's tracks as the daemon loaded them at start (one read, not two)."""
        self.absent.add_all((t.id, t.path) for t in tracks
                            if t.status == "failed" and GONE in t.error)  # fmt: skip
        self._set_playable(self.pending.apply(tracks, playable_only=True))

    def reload_library(self) -> None:
        try:
            tracks = self.pending.apply(self.library.tracks(), playable_only=True)
        except TrackStoreError as exc:  # keep playing what is loaded
            self.error(f"library {self.library.path} cannot be read ({exc}); playing on from the"
                       " tracks already loaded", ProblemKind.LIBRARY_UNREADABLE)  # fmt: skip
            return
        self.health.clear(ProblemKind.LIBRARY_UNREADABLE)
        self._set_playable(tracks)

    def _set_playable(self, tracks: list[Track]) -> None:
        self.playable = tracks
        if not tracks and self.absent:
            self.error(f"no playable tracks: {len(self.absent)} music file(s) are gone (a stick"
                       " or share unmounted?); they play again as soon as they are back,"
                       " looked for every 10 s", ProblemKind.LIBRARY_EMPTY)  # fmt: skip
        elif not tracks:
            self.error("the library has no playable tracks: run 'moodcast scan DIR' on a"
                       " music folder (or set library.music_dirs)",
                       ProblemKind.LIBRARY_EMPTY)  # fmt: skip
        else:
            self.health.clear(ProblemKind.LIBRARY_EMPTY)
        self._apply_rules(self.clocks.local(), changed=True)

    def _apply_rules(self, local: datetime, changed: bool = False) -> None:
        """The owner's rules before the selection: rebuilt when the library changes or the
        set of rules in force does (a daypart boundary)."""
        names = tuple(r.name for r in in_force(self.config.rules.rules, local))
        if not changed and names == self.rules.in_force:
            return
        outcome = apply_rules(self.playable, self.config.rules, local)
        if outcome.in_force != self.rules.in_force:
            logger.info("rules in force: %s", ", ".join(outcome.in_force) or "none")
        if outcome.note and outcome.note != self.rules.note:
            self.error(outcome.note, ProblemKind.RULES)
        elif not outcome.note:
            self.health.clear(ProblemKind.RULES)
        self.rules = outcome
        self.selector = TrackSelector(outcome.tracks, self.taxonomy, self.config.selection)
        self.next_pick = None
        self.dirty = True

    # -- mood ------------------------------------------------------------------------------

    def target(self) -> tuple[MoodEstimate, str]:
        """The mood music should follow now, and where it comes from."""
        override = self.state.override_active(self.clocks.wall())
        if override:
            m = self.taxonomy.get(override)
            probs = self.taxonomy.probabilities(m.valence, m.arousal)
            return MoodEstimate(
                m.valence, m.arousal, probs, 1.0, {"override": override}
            ), "override"
        if not self.state.auto and self.fixed is not None:
            return self.fixed, "fixed"
        if self.smoothed is not None:
            s = self.smoothed
            return self.response.target(s.estimate, self.taxonomy, s.mood), "camera"
        probs = self.taxonomy.probabilities(0.0, 0.0)
        return MoodEstimate(0.0, 0.0, probs, 0.0, {"reason": "no reading yet"}), "default"

    def on_mood(self, reading: MoodEstimate, at: float) -> None:
        before = self.smoothed.mood if self.smoothed else None
        self.smoothed = self.smoother.update(reading, at)
        self.last_reading = reading
        self.health.readings += 1
        self.dirty = True
        if not self.smoothed.changed:
            return
        self._log_change(before, self.smoothed)
        self.publisher.publish_event(
            "mood_changed", {"mood": self.smoothed.mood, "strong": self.smoothed.strong}
        )
        self.next_pick = None  # the queue head follows the new mood
        if self.smoothed.strong and self.state.auto and not self._override_active():
            self.play_next(fade=None)

    def _log_change(self, before: str | None, now: SmoothedMood) -> None:
        """One INFO line per change of the named mood, with what it rests on, so that a person
        watching the journal sees what the device sees and why the music changes."""
        e = now.estimate
        target = self.response.target(e, self.taxonomy, now.mood)
        plays = f"; plays {target.mood}" if target.mood != now.mood else ""
        logger.info("mood %s → %s (valence %+.2f, arousal %+.2f, confidence %.2f%s; %s)",
                    before or "-", now.mood, e.valence, e.arousal, e.confidence, plays,
                    main_evidence(e))  # fmt: skip

    def _override_active(self) -> bool:
        return self.state.override_active(self.clocks.wall()) is not None

    # -- playback --------------------------------------------------------------------------

    def pick(self) -> Pick | None:
        estimate, _ = self.target()
        return self.selector.pick(estimate, self.history, self.rng)

    def play_next(self, fade: float | None) -> None:
        """Start the queued (or a fresh) pick; whatever plays crossfades out."""
        if self.is_open is False or self.state.paused:
            return
        pick = self.next_pick or self.pick()
        if pick is None:
            return
        self.history.add(pick.track)
        self.player.play(pick.track, self.clocks.mono(), fade)
        self.next_pick = self.pick()
        self.publisher.publish_event("track_started", _track_info(pick.track, pick.reason))
        self.dirty = True

    def on_deck_event(self, event: DeckEvent) -> None:
        if self.announcer.owns(event):
            self._announced(self.announcer.on_deck_event(event, self.clocks.mono()))
            return
        outcome = self.player.on_deck_event(event, self.clocks.mono())
        if outcome is not None:
            self.on_playback(outcome)

    def announce(self, command: Announce, scheduled: bool = False) -> None:
        self._announced(self.announcer.request(command, bool(self.is_open), scheduled))

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
            reason = outcome.reason
            if is_gone(outcome.track.path):
                reason = f"{reason}; {GONE}"
                self.absent.add(outcome.track.id, outcome.track.path)
            self._flag(outcome.track.id, "failed", reason)
            self.error(f"{outcome.track.path}: {reason}; flagged and skipped")
            self.reload_library()
        if outcome.was_active and self.player.now_playing is None:
            self.play_next(fade=0.0 if outcome.failed else None)
        self.dirty = True

    # -- time ------------------------------------------------------------------------------

    def _bring_back(self, now: float) -> None:
        """Files that were gone and are there again become playable again."""
        back = self.absent.returned(now)
        if not back:
            return
        for track_id in back:
            self._flag(track_id, "ok", "")
        logger.info("%d track(s) whose file was gone are back", len(back))
        self.reload_library()

    def _flag(self, track_id: int, status: str, error: str) -> None:
        had = self.pending.problem
        self.pending.flag(self.library, track_id, status, error, self.clocks.mono())
        if self.pending.problem and not had:
            self.error(f"{self.pending.problem}: held in memory, tried again every"
                       f" {self.timings.retry_s:.0f} s; the music plays on",
                       ProblemKind.LIBRARY_UNWRITABLE)  # fmt: skip

    def _retry_writes(self, now: float) -> None:
        """Held library flags and an unsaved state are written once the disk takes them."""
        had = self.pending.problem
        if self.pending.retry(self.library, now) and had:
            self.health.clear(ProblemKind.LIBRARY_UNWRITABLE)
            self.reload_library()
        self.keeper.retry(now)

    def tick(self) -> None:
        mono, local = self.clocks.mono(), self.clocks.local()
        self._retry_writes(mono)
        self._apply_rules(local)
        self._bring_back(mono)
        open_now = is_open(self.config.schedule.opening_hours, local)
        if open_now != self.is_open:
            self._on_opening(open_now, first=self.is_open is None)
        part = current_daypart(self.config.schedule.dayparts, local)
        if part != self.daypart:
            self.daypart = part
            if part is not None:
                self._set_state(volume=part.volume)
                self.player.set_volume(part.volume)
        if self.state.override_mood and not self._override_active():
            self._set_state(override_mood=None, override_until=None)
            self.next_pick = None
        self.player.tick(mono)
        if self.announcer.busy:
            current = self.announcer.current
            problem = self.announcer.tick(mono)
            if problem or current is not self.announcer.current:
                self._announced(problem)
        if not self.is_open or self.state.paused:
            return
        remaining = self.player.remaining_s()
        if self.player.now_playing is None or (
            remaining is not None
            and remaining <= self.player.crossfade_for(self.player.now_playing)
        ):
            self.play_next(fade=None if self.player.now_playing else self.config.player.fade_s)

    def _on_opening(self, open_now: bool, first: bool) -> None:
        self.is_open = open_now
        self.dirty = True
        if not first:
            self.publisher.publish_event("opening", {"open": open_now})
        if not open_now:
            self.player.stop(self.clocks.mono(), fade=True)

    # -- commands --------------------------------------------------------------------------

    def on_command(self, command: Command) -> None:
        handler = _COMMANDS.get(type(command))
        if handler is not None:
            handler(self, command)
        self.dirty = True

    def _skip(self, _: Skip) -> None:
        self.play_next(fade=self.timings.skip_fade_s)

    def _pause(self, command: SetPaused) -> None:
        self._set_state(paused=command.paused)
        if command.paused:
            self.player.pause(self.clocks.mono())
        else:
            self.player.resume(self.clocks.mono())

    def _volume(self, command: SetVolume) -> None:
        self._set_state(volume=command.volume)
        self.player.set_volume(command.volume)

    def _override(self, command: SetOverride) -> None:
        until = self.clocks.wall() + command.minutes * 60 if command.mood else None
        self._set_state(override_mood=command.mood, override_until=until)
        self.next_pick = None
        if self.player.now_playing is not None:
            self.play_next(fade=None)

    def _auto(self, command: SetAuto) -> None:
        self.fixed = None if command.auto else self.target()[0]
        self._set_state(auto=command.auto)

    def _set_state(self, **changes: Any) -> None:
        if self.keeper.change(**changes):
            self.dirty = True

    # -- state -----------------------------------------------------------------------------

    def device_state(self) -> DeviceState:
        """The typed state, derived from the parts at this moment."""
        estimate, source = self.target()
        camera = source == "camera" and self.smoothed is not None
        reading = self.smoothed.estimate if camera and self.smoothed else estimate
        mood = self.smoothed.mood if camera and self.smoothed else estimate.mood
        top = sorted(reading.probabilities.items(), key=lambda kv: -kv[1])[:3]
        h, current = self.health, self.announcer.current
        change = next_change(self.config.schedule.opening_hours, self.clocks.local())
        position = self.player.position_s()
        return DeviceState(
            mood=mood, mood_label=self.labels.get(mood, mood), mood_source=source,
            valence=round(reading.valence, 3), arousal=round(reading.arousal, 3),
            confidence=round(reading.confidence, 3), moods={k: round(v, 3) for k, v in top},
            target=Target(estimate.mood, round(estimate.valence, 3), round(estimate.arousal, 3),
                          self.labels.get(estimate.mood, estimate.mood)),
            reading=_position(self.last_reading),
            main_evidence=main_evidence(self.smoothed.estimate) if self.smoothed else None,
            evidence=dict(self.smoothed.estimate.evidence) if self.smoothed else {},
            caption=self._caption(),
            reader=self.config.reader.kind if not h.reader_detail else "scene",
            reader_detail=h.reader_detail or None,
            now_playing=_view(self.player.now_playing),
            position_s=Position(position["at"], position["length"]) if position else None,
            queue_head=_view(self.next_pick.track) if self.next_pick else None,
            volume=self.state.volume, paused=self.state.paused, auto=self.state.auto,
            override=self.state.override_active(self.clocks.wall()),
            override_until=self.state.override_until, open=bool(self.is_open),
            schedule=ScheduleView(change.timestamp() if change else None,
                                  self.daypart.volume if self.daypart else None),
            announcing=current.label if current else None,
            announcements_waiting=len(self.announcer.queue),
            rules=RulesView(self.rules.in_force, self.rules.note or None, len(self.rules.tracks)),
            camera=h.camera, camera_detail=h.camera_detail,
            broker=h.broker if self.config.mqtt.enabled else "off", readings=h.readings,
            storage=StorageView(self.pending.problem or "ok", self.keeper.unsaved or "ok"),
            problems=h.standing(), last_error=h.last_error or None,
        )  # fmt: skip

    def snapshot(self) -> dict[str, Any]:
        """The state as every consumer reads it (docs/state.md)."""
        return to_wire(self.device_state())

    def _caption(self) -> str | None:
        if not self.config.mqtt.publish_caption or self.smoothed is None:
            return None
        caption = self.smoothed.estimate.evidence.get("caption")
        return str(caption) if caption is not None else None


_COMMANDS: dict[type, Any] = {
    Skip: Conductor._skip,
    SetPaused: Conductor._pause,
    SetVolume: Conductor._volume,
    SetOverride: Conductor._override,
    SetAuto: Conductor._auto,
    Announce: Conductor.announce,
    Rescan: lambda _conductor, _command: None,  # the daemon owns the rescan worker
}


def main_evidence(estimate: MoodEstimate, items: int = 3) -> str:
    """The caption when there is one, else the first few cues, as one short text."""
    ev = estimate.evidence
    if "caption" in ev:
        return f"caption {str(ev['caption'])[:120]!r}"
    if ev.get("seen"):
        return f"saw {str(ev['seen'])[:120]!r}"
    return ", ".join(f"{k} {v}" for k, v in list(ev.items())[:items]) or "no evidence"


def _position(estimate: MoodEstimate | None) -> Point | None:
    """The latest raw reading (before smoothing), for the page's chart."""
    if estimate is None:
        return None
    return Point(estimate.mood, round(estimate.valence, 3), round(estimate.arousal, 3))


def _view(track: Track | None, why: str = "") -> TrackView | None:
    if track is None:
        return None
    m = track.mood
    return TrackView(track.id, track.artist, track.title, track.duration,
                     m.mood if m else None, round(m.valence, 3) if m else None,
                     round(m.arousal, 3) if m else None, why)  # fmt: skip


def _track_info(track: Track, why: str = "") -> dict[str, Any]:
    """A track as events carry it: the same form, and the same safe text, as the state's."""
    return dict(safe_value(track_dict(_view(track, why))))
