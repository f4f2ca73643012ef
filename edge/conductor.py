"""The conductor: turns events (moods, deck events, commands, time) into music decisions.

It runs on the daemon's thread only. Every outside effect goes through the parts it was
given (player, library, publisher, state store), so tests can drive it with fakes or with
the real libVLC and broker alike.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from moodcast.config.settings import Daypart, MoodcastConfig
from moodcast.edge.announcer import ANNOUNCE_DECK, Announcer
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
from moodcast.edge.schedule import current_daypart, is_open, next_change
from moodcast.edge.smoothing import MoodSmoother, SmoothedMood
from moodcast.edge.state import RuntimeState, StateStore
from moodcast.models.mood import MoodEstimate, Taxonomy
from moodcast.models.response import ResponsePolicy, labels
from moodcast.player.absent import GONE, AbsentFiles, is_gone
from moodcast.player.decks import DeckEvent
from moodcast.player.library import Library, Track
from moodcast.player.pending import RETRY_S as PENDING_RETRY_S
from moodcast.player.pending import PendingFlags
from moodcast.player.playback import PlaybackOutcome, Player
from moodcast.player.rules import RuleOutcome, apply_rules, in_force
from moodcast.player.selection import Pick, PlayHistory, TrackSelector

logger = logging.getLogger(__name__)

_SKIP_FADE_S = 1.0


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


HA_STATE_LIMIT = 255


@dataclass
class Clocks:
    mono: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    local: Callable[[], datetime] = datetime.now


class Conductor:
    def __init__(
        self,
        config: MoodcastConfig,
        taxonomy: Taxonomy,
        library: Library,
        player: Player,
        publisher: Publisher,
        store: StateStore,
        clocks: Clocks | None = None,
        rng: np.random.Generator | None = None,
        reader_detail: str = "",
        announcer: Announcer | None = None,
    ) -> None:
        """``reader_detail``: why the configured reader is not in use, when it is not."""
        self.config, self.taxonomy = config, taxonomy
        self.announcer = announcer
        self.library, self.player, self.publisher, self.store = library, player, publisher, store
        self.clocks = clocks or Clocks()
        self.rng = rng or np.random.default_rng()
        self.smoother = MoodSmoother(config.smoothing)
        self.response = ResponsePolicy.from_settings(config.mood, taxonomy)
        self.labels = labels(config.mood, taxonomy)
        self.policy = config.selection
        self.history = PlayHistory(self.policy)
        self.selector = TrackSelector([], taxonomy, self.policy)
        self.playable: list[Track] = []
        self.rules = RuleOutcome([], ())
        self.state = _allowed(store.load(RuntimeState(volume=config.player.volume)), taxonomy)
        self.pending = PendingFlags()  # track flags the library could not take yet
        self.unsaved = ""  # why the runtime state is not on disk, '' when it is
        self._next_save_try = 0.0
        self.absent = AbsentFiles()  # files gone at play time, looked for again
        self.absent.add_all((t.id, t.path) for t in library.tracks()
                            if t.status == "failed" and GONE in t.error)  # fmt: skip
        self.smoothed: SmoothedMood | None = None
        self.fixed: MoodEstimate | None = None  # the mood held while auto is off
        self.next_pick: Pick | None = None
        self.is_open: bool | None = None
        self.daypart: object | None = None
        self.camera, self.camera_detail = "starting", ""
        self.broker = "disconnected"
        self.last_error = ""
        self.reader_detail = reader_detail
        self.readings = 0  # frames read since the start: captures are alive while it grows
        self.last_reading: MoodEstimate | None = None
        self.dirty = True

    # -- parts' status ---------------------------------------------------------------------

    def set_camera(self, status: str, detail: str) -> None:
        self.camera, self.camera_detail, self.dirty = status, detail, True

    def set_broker(self, status: str) -> None:
        self.broker, self.dirty = status, True

    def publish_state(self) -> None:
        """Send the state now (the daemon paces this) and mark it sent."""
        self.dirty = False
        self.publisher.publish_state(self.snapshot())

    # -- library ---------------------------------------------------------------------------

    def reload_library(self) -> None:
        try:
            tracks = self.pending.apply(self.library.tracks(), playable_only=True)
        except sqlite3.Error as exc:  # keep playing what is loaded
            self.error(f"library {self.library.path} cannot be read ({exc}); playing on from the"
                       " tracks already loaded")  # fmt: skip
            return
        self.playable = tracks
        if not tracks:
            self.error("the library has no playable tracks: run 'moodcast scan DIR'")
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
            self.error(outcome.note)
        self.rules = outcome
        self.selector = TrackSelector(outcome.tracks, self.taxonomy, self.policy)
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
        self.readings += 1
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
        if event.deck == ANNOUNCE_DECK:
            if self.announcer is not None:
                self._announced(self.announcer.on_deck_event(event, self.clocks.mono()))
            return
        outcome = self.player.on_deck_event(event, self.clocks.mono())
        if outcome is not None:
            self.on_playback(outcome)

    def announce(self, command: Announce, scheduled: bool = False) -> None:
        if self.announcer is None:
            self.error("announcements are off")
            return
        self._announced(self.announcer.request(command, bool(self.is_open), scheduled))

    def _announced(self, problem: str) -> None:
        """After an announcement's deck event or tick: its problem said, the state sent."""
        if problem:
            self.error(problem)
        self.dirty = True

    def on_rescan_done(self, summary: str, error: str) -> None:
        if error:
            self.error(f"rescan failed: {error}")
        else:
            logger.info("rescan: %s", summary)
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

    def error(self, message: str) -> None:
        logger.error("%s", message)
        self.last_error = message
        self.publisher.publish_event("error", {"error": message})
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
        if self.last_error.startswith("the library has no playable tracks"):
            self.last_error = ""

    def _flag(self, track_id: int, status: str, error: str) -> None:
        had = self.pending.problem
        self.pending.flag(self.library, track_id, status, error, self.clocks.mono())
        if self.pending.problem and not had:
            self.error(f"{self.pending.problem}: held in memory, tried again every"
                       f" {PENDING_RETRY_S:.0f} s; the music plays on")  # fmt: skip

    def _retry_writes(self, now: float) -> None:
        """Held library flags and an unsaved state are written once the disk takes them."""
        had = self.pending.problem
        if self.pending.retry(self.library, now) and had:
            self._clear_error(had)
            self.reload_library()
        if self.unsaved and now >= self._next_save_try:
            self._save(self.state)

    def _save(self, state: RuntimeState) -> None:
        try:
            self.store.save(state)
        except OSError as exc:
            self._next_save_try = self.clocks.mono() + PENDING_RETRY_S
            if not self.unsaved:
                self.error(f"cannot save runtime state to {self.store.path}: {exc}; tried again"
                           f" every {PENDING_RETRY_S:.0f} s")  # fmt: skip
            self.unsaved = f"cannot be saved to {self.store.path} ({exc.strerror or exc})"
            return
        if self.unsaved:
            logger.info("runtime state saved to %s again", self.store.path)
            self._clear_error("cannot save runtime state")
        self.unsaved = ""

    def _clear_error(self, prefix: str) -> None:
        if self.last_error.startswith(prefix):
            self.last_error = ""
        self.dirty = True

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
        if self.announcer is not None and (self.announcer.queue or self.announcer.current):
            busy = self.announcer.current
            problem = self.announcer.tick(mono)
            if problem or busy is not self.announcer.current:
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
        now, wall = self.clocks.mono(), self.clocks.wall()
        if isinstance(command, Skip):
            self.play_next(fade=_SKIP_FADE_S)
        elif isinstance(command, SetPaused):
            self._set_state(paused=command.paused)
            if command.paused:
                self.player.pause(now)
            else:
                self.player.resume(now)
        elif isinstance(command, SetVolume):
            self._set_state(volume=command.volume)
            self.player.set_volume(command.volume)
        elif isinstance(command, SetOverride):
            until = wall + command.minutes * 60 if command.mood else None
            self._set_state(override_mood=command.mood, override_until=until)
            self.next_pick = None
            if self.player.now_playing is not None:
                self.play_next(fade=None)
        elif isinstance(command, SetAuto):
            self.fixed = None if command.auto else self.target()[0]
            self._set_state(auto=command.auto)
        elif isinstance(command, Rescan):
            pass  # the daemon owns the rescan worker
        elif isinstance(command, Announce):
            self.announce(command)
        self.dirty = True

    def _set_state(self, **changes: Any) -> None:
        new = self.state.with_(**changes)
        if new == self.state:
            return
        self.state = new
        self._save(new)
        self.dirty = True

    def _caption(self) -> str | None:
        if not self.config.mqtt.publish_caption or self.smoothed is None:
            return None
        caption = self.smoothed.estimate.evidence.get("caption")
        return str(caption) if caption is not None else None

    # -- state -----------------------------------------------------------------------------

    def _schedule(self) -> dict[str, Any]:
        local = self.clocks.local()
        change = next_change(self.config.schedule.opening_hours, local)
        part = self.daypart
        return {
            "next_change": change.timestamp() if change else None,
            "daypart_volume": part.volume if isinstance(part, Daypart) else None,
        }

    def snapshot(self) -> dict[str, Any]:
        estimate, source = self.target()
        camera = source == "camera" and self.smoothed is not None
        reading = self.smoothed.estimate if camera and self.smoothed else estimate
        mood = self.smoothed.mood if camera and self.smoothed else estimate.mood
        playing = self.player.now_playing
        top = sorted(reading.probabilities.items(), key=lambda kv: -kv[1])[:3]
        return {
            "mood": mood,
            "mood_label": self.labels.get(mood, mood),
            "mood_source": source,
            "valence": round(reading.valence, 3),
            "arousal": round(reading.arousal, 3),
            "confidence": round(reading.confidence, 3),
            "moods": {k: round(v, 3) for k, v in top},
            "target": {
                "mood": estimate.mood,
                "label": self.labels.get(estimate.mood, estimate.mood),
                "valence": round(estimate.valence, 3),
                "arousal": round(estimate.arousal, 3),
            },
            "reading": _position(self.last_reading),
            "main_evidence": main_evidence(self.smoothed.estimate) if self.smoothed else None,
            "evidence": dict(self.smoothed.estimate.evidence) if self.smoothed else {},
            "caption": self._caption(),
            "reader": self.config.reader.kind if not self.reader_detail else "scene",
            "reader_detail": self.reader_detail or None,
            "now_playing": _track_info(playing) if playing else None,
            "now_playing_text": _fit(f"{playing.artist or '?'} – {playing.title}")
            if playing
            else "nothing",
            "position_s": self.player.position_s(),
            "queue_head": _track_info(self.next_pick.track) if self.next_pick else None,
            "volume": self.state.volume,
            "paused": self.state.paused,
            "auto": self.state.auto,
            "override": self.state.override_active(self.clocks.wall()),
            "override_until": self.state.override_until,
            "open": bool(self.is_open),
            "schedule": self._schedule(),
            "announcing": self.announcer.current.label
            if self.announcer and self.announcer.current
            else None,
            "announcements_waiting": len(self.announcer.queue) if self.announcer else 0,
            "rules": {
                "in_force": list(self.rules.in_force),
                "note": self.rules.note or None,
                "tracks_allowed": len(self.rules.tracks),
            },
            "camera": self.camera,
            "camera_detail": self.camera_detail,
            "broker": self.broker if self.config.mqtt.enabled else "off",
            "readings": self.readings,
            "last_error": self.last_error or None,
            "storage": {"library": self.pending.problem or "ok", "state": self.unsaved or "ok"},
        }


def _allowed(state: RuntimeState, taxonomy: Taxonomy) -> RuntimeState:
    """A saved override of a mood this config no longer has (forbidden, another taxonomy) is
    dropped with a warning instead of failing on every reading."""
    if state.override_mood is None or state.override_mood in taxonomy.names:
        return state
    logger.warning("saved mood override %r is not a mood of %s here: dropped",
                   state.override_mood, taxonomy.name)  # fmt: skip
    return state.with_(override_mood=None, override_until=None)


def main_evidence(estimate: MoodEstimate, items: int = 3) -> str:
    """The caption when there is one, else the first few cues, as one short text."""
    ev = estimate.evidence
    if "caption" in ev:
        return f"caption {str(ev['caption'])[:120]!r}"
    if ev.get("seen"):
        return f"saw {str(ev['seen'])[:120]!r}"
    return ", ".join(f"{k} {v}" for k, v in list(ev.items())[:items]) or "no evidence"


def _position(estimate: MoodEstimate | None) -> dict[str, Any] | None:
    """The latest raw reading (before smoothing), for the page's chart."""
    if estimate is None:
        return None
    return {"mood": estimate.mood, "valence": round(estimate.valence, 3),
            "arousal": round(estimate.arousal, 3)}  # fmt: skip


def _fit(text: str, limit: int = HA_STATE_LIMIT) -> str:
    """Home Assistant rejects a state over 255 characters (and shows 'unknown' for good)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _track_info(track: Track, why: str = "") -> dict[str, Any]:
    info: dict[str, Any] = {
        "id": track.id,
        "artist": track.artist,
        "title": track.title,
        "duration": track.duration,
        "mood": track.mood.mood if track.mood else None,
        "valence": round(track.mood.valence, 3) if track.mood else None,
        "arousal": round(track.mood.arousal, 3) if track.mood else None,
    }
    if why:
        info["why"] = why
    return info
