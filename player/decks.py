"""Decks: one playing file each, behind a small interface. The real one is libVLC.

Two decks make a crossfade (neither VLC nor mpv crossfades by itself). VLC's events arrive
on VLC's own threads: the handlers here only put a domain event on the daemon's queue and
never call back into libVLC.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from moodcast.config.errors import MoodcastError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeckStarted:
    deck: int
    token: int


@dataclass(frozen=True)
class DeckEnded:
    deck: int
    token: int
    heard: bool = True  # False: libVLC could not open the audio output while it played


@dataclass(frozen=True)
class DeckUnheard:
    """The deck plays, but libVLC could not open its audio output: nobody hears it (no sound
    device, a USB card unplugged, a device another program holds, a file output's folder
    gone). Playback goes on, so the schedule and the state stay true; the output is tried
    again with every track."""

    deck: int
    token: int
    reason: str


@dataclass(frozen=True)
class DeckFailed:
    deck: int
    token: int
    reason: str


DeckEvent = DeckStarted | DeckEnded | DeckFailed


EQ_OFFSET_DB = 12.04  # libVLC's equalizer: output level = preamp - 12.04 dB (measured)
# libVLC's --gain (the audio output's own amplification, which every output applies, the file
# one too): x2, +6.02 dB, so that with the preamp's -20..+20 dB a deck spans -26..+14 dB and
# a quiet recording (-35 LUFS) reaches the reference level (docs/loudness.md).
MAKEUP = 2.0
MAKEUP_DB = 6.0206


class EventSink(Protocol):
    """Where a deck's events go: the daemon's queue, whose put never blocks."""

    def put(self, event: DeckEvent | DeckUnheard) -> None: ...


# libVLC's message when no audio output could be made for a track: its format string, which
# takes no arguments, so it is matched without formatting the message (a va_list is not
# portable through ctypes). Logged at error level even with --quiet, before the track's end.
_NO_OUTPUT = b"failed to create audio output"
_LOG_ERROR = 4  # libvlc_log_level LIBVLC_ERROR
# What to do about a DeckUnheard, said by the daemon's state and by doctor alike.
UNHEARD_FIX = (
    "check the speakers' cable or USB sound card ('aplay -l' lists them) and player.audio_output"
)


class Deck(Protocol):
    index: int

    def load_and_play(self, path: str, token: int, volume: int) -> None: ...
    def stop(self) -> None: ...
    def set_paused(self, paused: bool) -> None: ...
    def set_volume(self, volume: int) -> None: ...
    def set_gain(self, db: float) -> None: ...
    def position_ms(self) -> int: ...
    def length_ms(self) -> int: ...
    def release(self) -> None: ...


def vlc_options(audio_output: str, deck: int) -> list[str]:
    """libVLC options for an output spec from the config (see PlayerSettings.audio_output)."""
    kind, _, arg = audio_output.partition(":")
    options = ["--no-video", "--quiet", "--no-metadata-network-access", f"--gain={MAKEUP}"]
    if kind == "dummy":
        options.append("--aout=dummy")
    elif kind == "file":
        # afile writes what is played; each deck records into its own file.
        path = Path(arg) if deck == 0 else Path(arg).with_suffix(f".deck{deck}.wav")
        options += ["--aout=afile", f"--audiofile-file={path}"]
    elif kind == "alsa":
        options.append("--aout=alsa")
        if arg:
            options.append(f"--alsa-audio-device={arg}")
    elif kind == "pulse":
        options.append("--aout=pulse")
    return options


class VlcDeck:
    """One libVLC instance and media player."""

    def __init__(self, index: int, audio_output: str, events: EventSink) -> None:
        try:
            import vlc
        except (ImportError, OSError) as exc:
            raise MoodcastError(
                f"libVLC cannot be loaded ({exc})",
                "install it: sudo apt-get install libvlc5 vlc-plugin-base libvlc-bin",
            ) from exc
        self.index = index
        self._vlc = vlc
        self._instance = vlc.Instance(vlc_options(audio_output, index))
        if self._instance is None:
            raise MoodcastError(
                f"libVLC refused the audio output {audio_output!r}",
                "use default, dummy, alsa[:DEVICE], pulse or file:PATH.wav",
            )
        self._player = self._instance.media_player_new()
        self.set_gain(0.0)  # never without the equalizer: the make-up gain alone is +6 dB
        self._events = events
        self._token = 0
        self._pulse_sink = (
            audio_output.partition(":")[2] if audio_output.startswith("pulse") else ""
        )
        self._output = audio_output
        self._unheard = -1  # the token of the track whose audio output failed
        manager = self._player.event_manager()
        kinds = vlc.EventType
        manager.event_attach(kinds.MediaPlayerPlaying, self._on_playing)
        manager.event_attach(kinds.MediaPlayerEndReached, self._on_end)
        manager.event_attach(kinds.MediaPlayerEncounteredError, self._on_error)
        # Kept referenced: libVLC calls it until log_unset (release).
        self._log_callback = vlc.CallbackDecorators.LogCb(self._on_log)
        self._instance.log_set(self._log_callback, None)

    # VLC threads: translate and enqueue, nothing else.
    def _on_playing(self, _event: Any) -> None:
        self._events.put(DeckStarted(self.index, self._token))

    def _on_end(self, _event: Any) -> None:
        self._events.put(DeckEnded(self.index, self._token, heard=self._unheard != self._token))

    def _on_log(self, _data: Any, level: int, _context: Any, fmt: bytes | None,
                _args: Any) -> None:  # fmt: skip
        """libVLC's log: only its message that no audio output could be made, once a track."""
        if level < _LOG_ERROR or fmt != _NO_OUTPUT or self._unheard == self._token:
            return
        self._unheard = self._token
        self._events.put(DeckUnheard(self.index, self._token,
                                     f"libVLC could not open the audio output {self._output!r}:"
                                     " the music plays to nobody"))  # fmt: skip

    def _on_error(self, _event: Any) -> None:
        self._events.put(DeckFailed(self.index, self._token, "libVLC could not play the file"))

    def load_and_play(self, path: str, token: int, volume: int) -> None:
        self._token = token
        media = self._instance.media_new_path(os.fsencode(path))  # names need not be UTF-8
        self._player.set_media(media)
        media.release()
        if self._pulse_sink:
            self._player.audio_output_device_set(None, self._pulse_sink)
        self._player.audio_set_volume(volume)
        if self._player.play() == -1:
            self._events.put(DeckFailed(self.index, token, "libVLC refused to start playback"))

    def stop(self) -> None:
        self._player.stop()

    def set_paused(self, paused: bool) -> None:
        self._player.set_pause(1 if paused else 0)

    def set_volume(self, volume: int) -> None:
        self._player.audio_set_volume(volume)

    def set_gain(self, db: float) -> None:
        """The track's loudness gain, in dB, apart from the user's volume: the preamp of
        libVLC's equalizer (all bands flat), a software gain that every output takes, the
        file output too (libVLC's volume is ignored by that one). Measured here: the output
        is preamp - 12.04 dB, exactly; with the instance's make-up gain (+6.02 dB) the
        preamp's -20..+20 dB give -26..+14 dB."""
        preamp = max(-20.0, min(20.0, db + EQ_OFFSET_DB - MAKEUP_DB))
        eq = self._vlc.libvlc_audio_equalizer_new()
        self._vlc.libvlc_audio_equalizer_set_preamp(eq, preamp)
        self._player.set_equalizer(eq)
        self._vlc.libvlc_audio_equalizer_release(eq)

    def position_ms(self) -> int:
        return max(0, int(self._player.get_time()))

    def length_ms(self) -> int:
        return max(0, int(self._player.get_length()))

    def release(self) -> None:
        self._player.stop()
        self._instance.log_unset()
        self._player.release()
        self._instance.release()
