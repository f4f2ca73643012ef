"""Playback on two decks: crossfades, fades, pause, volume, and telling failures from ends.

Pure logic over :class:`~player.decks.Deck`: the clock is passed in and volume ramps advance
in :meth:`Player.tick`, so the same code runs on libVLC and on a fake deck in tests.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from moodcast.player.decks import Deck, DeckEnded, DeckFailed, DeckStarted
from moodcast.player.track import Track

logger = logging.getLogger(__name__)

# libVLC raises no error for a corrupt file: it "plays" and ends with length 0, at once, or
# seconds later while it probes under load (5 s in a CI run; 1.26 s once in 60 random files
# here). A file it can decode has a length when it ends (ogg, mp3, wav, flac, ADTS AAC and m4a
# measured), so a track the scan measured that ends with length 0 is unreadable now; one of
# unknown duration is judged so only when it ended at once.
_INSTANT_END_S = 1.5


@dataclass
class _Ramp:
    start: float
    end: float
    t0: float
    duration: float
    then: str = ""  # "stop" or "pause" once the ramp ends

    def level(self, now: float) -> float:
        if self.duration <= 0:
            return self.end
        f = min(1.0, max(0.0, (now - self.t0) / self.duration))
        return self.start + (self.end - self.start) * f

    def done(self, now: float) -> bool:
        return now - self.t0 >= self.duration


@dataclass
class _Slot:
    deck: Deck
    track: Track | None = None
    token: int = 0
    started_at: float = 0.0
    level: float = 0.0
    ramp: _Ramp | None = None
    gain: float = 0.0  # the track's loudness gain, dB


@dataclass(frozen=True)
class PlaybackOutcome:
    """What a deck event meant for the track on it."""

    track: Track
    failed: bool
    reason: str = ""
    was_active: bool = True  # False for a deck that was fading out


FADE_FLOOR_DB = -40.0  # a fade's silent end (the deck stops or pauses there)


class Player:
    def __init__(
        self, decks: Sequence[Deck], crossfade_s: float, fade_s: float, volume: int,
        gain_for: Callable[[Track], float] = lambda _track: 0.0,
    ) -> None:  # fmt: skip
        """``gain_for``: the loudness gain (dB) a track plays at, apart from the volume."""
        self._slots = [_Slot(d) for d in decks]
        self._gain_for = gain_for
        self.duck_db = 0.0  # while an announcement plays
        self.lift_db = 0.0  # against road noise, in a car
        self._active = 0
        self._tokens = 0
        self.crossfade_s = crossfade_s
        self.fade_s = fade_s
        self.volume = volume
        self.paused = False

    @property
    def now_playing(self) -> Track | None:
        return self._slots[self._active].track

    def crossfade_for(self, track: Track | None) -> float:
        """The overlap a track gets: the crossfade, but at most a third of the track, so that
        a track shorter than the crossfade still plays mostly alone and starts never chain
        into a storm (one every tick) waiting for a fade longer than the track."""
        if track is None or not track.duration or track.duration <= 0:
            return self.crossfade_s
        return min(self.crossfade_s, track.duration / 3)

    def play(self, track: Track, now: float, fade_in: float | None = None) -> None:
        """Start a track; whatever is playing fades out over the crossfade time."""
        overlap = self.crossfade_for(track)
        old = self._slots[self._active]
        if old.track is not None:
            old.ramp = _Ramp(old.level, 0.0, now, overlap, then="stop")
            self._active = (self._active + 1) % len(self._slots)
        slot = self._slots[self._active]
        self._tokens += 1
        slot.track, slot.token, slot.started_at = track, self._tokens, now
        duration = overlap if fade_in is None else fade_in
        slot.level = 0.0 if duration > 0 else 1.0
        slot.ramp = _Ramp(slot.level, 1.0, now, duration) if duration > 0 else None
        self.paused = False
        slot.gain = self._gain_for(track)
        slot.deck.set_gain(self._deck_gain(slot))
        slot.deck.load_and_play(track.path, slot.token, self.volume)
        logger.info("playing %s", track.path)

    def stop(self, now: float, fade: bool = True, fade_s: float | None = None) -> None:
        """Stop every deck, fading out over ``fade_s`` (the configured fade by default)."""
        seconds = self.fade_s if fade_s is None else fade_s
        for slot in self._slots:
            if slot.track is None:
                continue
            if fade and seconds > 0:
                slot.ramp = _Ramp(slot.level, 0.0, now, seconds, then="stop")
            else:
                self._stop_slot(slot)

    def pause(self, now: float) -> None:
        slot = self._slots[self._active]
        if slot.track is None or self.paused:
            return
        self.paused = True
        slot.ramp = _Ramp(slot.level, 0.0, now, min(self.fade_s, 1.0), then="pause")

    def resume(self, now: float) -> None:
        slot = self._slots[self._active]
        if not self.paused:
            return
        self.paused = False
        if slot.track is not None:
            slot.deck.set_paused(False)
            slot.ramp = _Ramp(slot.level, 1.0, now, min(self.fade_s, 1.0))

    def duck(self, db: float) -> None:
        """Lowers every deck by ``db`` (0: back), on top of each track's own gain."""
        self.duck_db = db
        self._regain()

    def lift(self, db: float) -> None:
        """Raises every deck by ``db`` (road noise), on top of each track's own gain; in the
        gain, not the volume, so that every output hears it (libVLC's file output ignores
        the volume)."""
        self.lift_db = db
        self._regain()

    def _regain(self) -> None:
        for slot in self._slots:
            if slot.track is not None:
                slot.deck.set_gain(self._deck_gain(slot))

    def set_volume(self, volume: int) -> None:
        self.volume = max(0, min(100, volume))
        for slot in self._slots:
            if slot.track is not None:
                slot.deck.set_volume(self.volume)

    def tick(self, now: float) -> None:
        """Advance fades; call a few times a second."""
        for slot in self._slots:
            ramp = slot.ramp
            if ramp is None:
                continue
            slot.level = ramp.level(now)
            slot.deck.set_gain(self._deck_gain(slot))
            if ramp.done(now):
                slot.ramp = None
                if ramp.then == "stop":
                    self._stop_slot(slot)
                elif ramp.then == "pause":
                    slot.deck.set_paused(True)

    def position_s(self) -> dict[str, float] | None:
        """Where the active track is (seconds played, its length), for a progress bar."""
        slot = self._slots[self._active]
        if slot.track is None:
            return None
        length = slot.deck.length_ms() / 1000.0 or (slot.track.duration or 0.0)
        if length <= 0:
            return None
        return {
            "at": round(max(0, slot.deck.position_ms()) / 1000.0, 1),
            "length": round(length, 1),
        }

    def ending(self) -> bool:
        """Whether the next track is due: nothing plays, or what plays is within its
        crossfade of the end."""
        if self.now_playing is None:
            return True
        remaining = self.remaining_s()
        return remaining is not None and remaining <= self.crossfade_for(self.now_playing)

    def remaining_s(self) -> float | None:
        """Seconds left of the active track, when the deck knows its length."""
        slot = self._slots[self._active]
        if slot.track is None or self.paused:
            return None
        length = slot.deck.length_ms()
        return (length - slot.deck.position_ms()) / 1000.0 if length > 0 else None

    def on_deck_event(
        self, event: DeckStarted | DeckEnded | DeckFailed, now: float
    ) -> PlaybackOutcome | None:
        """Interpret a deck event; None when it concerns nothing current (e.g. a faded deck)."""
        slot = self._slots[event.deck] if event.deck < len(self._slots) else None
        if slot is None or slot.track is None or slot.token != event.token:
            return None
        if isinstance(event, DeckStarted):
            return None
        track, active = slot.track, slot is self._slots[self._active]
        if isinstance(event, DeckFailed):
            self._stop_slot(slot)
            return PlaybackOutcome(track, True, event.reason, active)
        instant = now - slot.started_at < _INSTANT_END_S
        unreadable = slot.deck.length_ms() == 0 and (instant or bool(track.duration))
        slot.track, slot.ramp = None, None
        if unreadable:
            reason = "ended with length 0 (corrupt or unsupported file)"
            return PlaybackOutcome(track, True, reason, active)
        return PlaybackOutcome(track, False, "", active)

    def _deck_gain(self, slot: _Slot) -> float:
        """A deck's gain: the track's loudness gain, ducking, road lift, and where its fade
        is. Fades are in the gain, not the volume, so that every output hears them (libVLC's
        file output ignores the volume) and the volume stays the one the staff set."""
        fade = FADE_FLOOR_DB if slot.level <= 0 else max(FADE_FLOOR_DB, 20 * math.log10(slot.level))
        return slot.gain + self.duck_db + self.lift_db + fade

    def _stop_slot(self, slot: _Slot) -> None:
        slot.deck.stop()
        slot.track, slot.ramp, slot.level = None, None, 0.0

    def fade_out(self, seconds: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], object] | None = None) -> None:  # fmt: skip
        """Fade everything out over ``seconds`` and stop, waiting for it (at shutdown, when
        nothing else ticks the fades: power may be about to go). An Event's wait, not
        time.sleep: under a stepped wall clock (libfaketime, NTP) time.sleep can fail, and
        a shutdown must not."""
        pause = sleep or threading.Event().wait
        start = clock()
        self.stop(start, fade=seconds > 0, fade_s=seconds)
        try:
            while any(s.track is not None for s in self._slots) and clock() - start < seconds + 0.5:
                pause(0.02)
                self.tick(clock())
        except OSError as exc:  # never keep the music from stopping
            logger.warning("fade-out cut short: %s", exc)
        self.stop(clock(), fade=False)

    def release(self) -> None:
        for slot in self._slots:
            slot.deck.release()
