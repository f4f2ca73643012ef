"""Announcements: the music ducks, the announcement plays on a deck of its own, the music
comes back. One at a time (the others wait in a short queue), none while closed, and never
left ducked: a failed, broken or overlong announcement ends the duck like a finished one.

Driven by the daemon's thread (requests, deck events, ticks); the clock is passed in.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from moodcast.config.settings import AnnouncementSettings
from moodcast.edge.commands.remote_commands import Announce
from moodcast.player.decks import Deck, DeckEnded, DeckEvent, DeckFailed, DeckStarted
from moodcast.player.playback import Player
from moodcast.player.tags import UnreadableAudioError, read_file_info

logger = logging.getLogger(__name__)

ANNOUNCE_DECK = 2  # decks 0 and 1 crossfade the music
QUEUE_MAX = 5
_INSTANT_END_S = 1.0  # libVLC "plays" a file that is not audio and ends at once
GAP_S = 1.0  # between two queued announcements the music comes back this long: two, not one


@dataclass(frozen=True)
class Pending:
    label: str
    path: Path | None = None  # a file to play
    text: str = ""  # or a text to speak
    when: str = "duck"  # duck, between_tracks or urgent (announcements.items[].when)
    queued_at: float = 0.0


Synthesize = Callable[[str, str, Path], str]  # (text, voice, wav) -> '' or the problem


def espeak(text: str, voice: str, wav: Path) -> str:
    """Speaks ``text`` into ``wav`` with espeak-ng; '' when done, else what went wrong."""
    program = shutil.which("espeak-ng")
    if program is None:
        return "espeak-ng is not installed (sudo apt-get install espeak-ng)"
    try:
        done = subprocess.run([program, "-v", voice, "-w", str(wav), "--", text],
                              capture_output=True, text=True, timeout=20, check=False)  # fmt: skip
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:  # ValueError: a NUL
        return f"espeak-ng failed ({exc})"
    if done.returncode != 0 or not wav.is_file():
        return f"espeak-ng failed: {done.stderr.strip()[:200]}"
    return ""


def unplayable_files(settings: AnnouncementSettings) -> list[tuple[str, str]]:
    """Configured announcement files (and the chime) that are there but are not audio, as
    (dotted key, message) for ``config_warnings`` to place: said at start and by 'moodcast
    config check', before anyone asks for them (they would be refused then). Files that are
    not there are the config check's own warning."""
    if settings.folder is None:
        return []
    folder = settings.folder.expanduser()
    named = [(f"announcements.items.{i}.file", item.file)
             for i, item in enumerate(settings.items)]  # fmt: skip
    out = []
    for key, name in [*named, ("announcements.chime", settings.chime)]:
        why = not_audio(folder / name) if name and (folder / name).is_file() else None
        if why:
            out.append((key, f"{why}: it will be refused; replace it with a sound file"
                             " (WAV, MP3, Ogg, FLAC)"))  # fmt: skip
    return out


def not_audio(path: Path) -> str | None:
    """Why a file that is there cannot be played (None: it can): read before the music ducks
    for it, and when the config is checked."""
    try:
        read_file_info(path)
    except UnreadableAudioError as exc:
        return f"{path} is not audio ({exc})"
    return None


class Announcer:
    def __init__(self, settings: AnnouncementSettings, deck: Deck, player: Player,
                 synthesize: Synthesize = espeak) -> None:  # fmt: skip
        self.settings, self.deck, self.player = settings, deck, player
        self._synthesize = synthesize
        self.queue: deque[Pending] = deque()
        self.current: Pending | None = None
        self._token, self._started_at = 0, 0.0
        self._ended_at = -float("inf")  # when the last one ended (the gap before the next)
        self._spoken: Path | None = None  # where texts are spoken to, made on first use
        self._main: Path | None = None  # the announcement itself, while its chime plays
        self.mode = ""  # how the current one plays: duck, between_tracks or urgent

    def request(self, command: Announce, open_now: bool, scheduled: bool = False,
                now: float = 0.0) -> str:  # fmt: skip
        """Queues an announcement (an urgent one first); '' when queued, else why not (for
        the state and MQTT)."""
        if not open_now:
            if scheduled:
                logger.info("announcement %s skipped: closed", command.name)
                return ""
            return "closed: announcements play only in opening hours"
        pending = self._resolve(command)
        if isinstance(pending, str):
            return pending
        if len(self.queue) >= QUEUE_MAX:
            return f"{QUEUE_MAX} announcements are already waiting: {pending.label} dropped"
        pending = replace(pending, when=command.when or pending.when, queued_at=now)
        if pending.when == "urgent":
            self.queue.appendleft(pending)
        else:
            self.queue.append(pending)
        return ""

    def _resolve(self, command: Announce) -> Pending | str:
        s = self.settings
        if command.name:
            item = next((i for i in s.items if i.name == command.name), None)
            if item is None:
                known = ", ".join(i.name for i in s.items) or "none configured"
                return f"no announcement named {command.name!r} (announcements.items: {known})"
            if item.text:
                return Pending(item.name, text=item.text, when=item.when)
            found = self._file(item.file or "", item.name)
            return replace(found, when=item.when) if isinstance(found, Pending) else found
        if command.file:
            return self._file(command.file, command.file)
        return Pending("text", text=command.text)

    def _file(self, name: str, label: str) -> Pending | str:
        if self.settings.folder is None:
            return "announcement files need announcements.folder in the config"
        path = self.settings.folder.expanduser() / name
        if not path.is_file():
            return f"announcement file {path} is missing"
        why = not_audio(path)  # before the music ducks: a damaged file must not duck it at all
        if why:
            return f"announcement file {why}: replace it with a sound file"
        return Pending(label, path=path)

    # -- the daemon's thread ---------------------------------------------------------------

    def owns(self, event: DeckEvent) -> bool:
        """Whether a deck event is this channel's (its own deck), not the music's."""
        return event.deck == self.deck.index

    @property
    def busy(self) -> bool:
        return self.current is not None or bool(self.queue)

    @property
    def holding(self) -> bool:
        """Whether the next track must wait: one plays between tracks, or interrupts."""
        return self.current is not None and self.mode in {"between_tracks", "urgent"}

    def tick(self, now: float, track_ending: bool = True) -> str:
        """Starts the next one when idle (one that waits for the track's end, once it ends
        or has waited ``max_wait_s``); ends one that overran. What went wrong, or ''."""
        if self.current is not None:
            if now - self._started_at > self.settings.max_seconds:
                self.deck.stop()
                return self._finish(f"announcement {self.current.label} cut off after"
                                    f" {self.settings.max_seconds:.0f} s", now)  # fmt: skip
            return ""
        if not self.queue or now - self._ended_at < GAP_S:
            return ""
        head = self.queue[0]
        waited = now - head.queued_at >= self.settings.max_wait_s
        if head.when == "between_tracks" and not track_ending and not waited:
            return ""
        pending = self.queue.popleft()
        path = pending.path
        if path is None:
            if self._spoken is None:
                self._spoken = Path(tempfile.mkdtemp(prefix="moodcast-say-")) / "say.wav"
            problem = self._synthesize(pending.text, self.settings.voice, self._spoken)
            if problem:
                return f"announcement {pending.label}: {problem}"
            path = self._spoken
        self.current, self._started_at = pending, now
        self.mode = (
            "duck" if pending.when == "between_tracks" and not track_ending else pending.when
        )
        if self.mode == "urgent":
            self.player.pause(now)  # at once: the music stops for it, and comes back after
        else:
            self.player.duck(self.settings.duck_db)
        chime = self._chime()
        self._main = path if chime is not None else None
        self._play(chime or path)
        logger.info("announcement %s (%s)%s", pending.label, self.mode,
                    " after its chime" if chime else "")  # fmt: skip
        return ""

    def _chime(self) -> Path | None:
        s = self.settings
        if s.chime is None or s.folder is None:
            return None
        path = s.folder.expanduser() / s.chime
        if not path.is_file():
            logger.warning("announcement chime %s is missing: played without it", path)
            return None
        return path

    def _play(self, path: Path) -> None:
        self._token += 1
        self.deck.set_gain(0.0)
        self.deck.load_and_play(str(path), self._token, 100)

    def on_deck_event(self, event: DeckEvent, now: float) -> str:
        if self.current is None or event.token != self._token:
            return ""
        if isinstance(event, DeckStarted):
            return ""
        if self._main is not None:  # the chime is over (or could not play): the announcement
            main, self._main = self._main, None
            self._play(main)
            return ""
        if isinstance(event, DeckFailed):
            return self._finish(f"announcement {self.current.label} failed: {event.reason}", now)
        assert isinstance(event, DeckEnded)
        if now - self._started_at < _INSTANT_END_S and self.deck.length_ms() <= 0:
            return self._finish(f"announcement {self.current.label} is not audio libVLC can play",
                                now)  # fmt: skip
        return self._finish("", now)

    def _finish(self, problem: str, now: float = 0.0) -> str:
        label = self.current.label if self.current else "?"
        self.current, self._ended_at = None, now
        if self.mode == "urgent":
            self.player.resume(now)
        self.mode = ""
        self.player.duck(0.0)
        logger.info("announcement %s over: music back%s", label, f" ({problem})" if problem else "")
        return problem

    def release(self) -> None:
        self.deck.release()
        if self._spoken is not None:
            shutil.rmtree(self._spoken.parent, ignore_errors=True)
