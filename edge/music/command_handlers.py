"""What each command does to the music: one handler per command type (a dispatch table).

Handlers run on the daemon's thread, through the conductor's parts; the daemon owns the
rescan worker, so a rescan needs nothing here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moodcast.edge.commands.remote_commands import (
    Announce,
    Ban,
    Rescan,
    SetAuto,
    SetOverride,
    SetPaused,
    SetVolume,
    Skip,
)
from moodcast.edge.status.device_state import safe_value, track_dict
from moodcast.edge.status.problems import ProblemKind
from moodcast.edge.status.state_view import track_view
from moodcast.player.track import Track

if TYPE_CHECKING:
    from moodcast.edge.music.conductor import Conductor


def skip(c: Conductor, _: Skip) -> None:
    c.play_next(fade=c.timings.skip_fade_s)


def ban(c: Conductor, command: Ban) -> None:
    """ "Not this track": skipped now if it plays, never picked again (kept in the library
    over restarts and rescans; 'moodcast library bans' lists and takes them back)."""
    playing = c.player.now_playing
    track_id = command.track_id or (playing.id if playing is not None else None)
    if track_id is None:
        c.error("nothing is playing to ban: give the track's id", ProblemKind.COMMAND)
        return
    banned = c.repertoire.ban(track_id)
    if banned is None:
        return
    c.publisher.publish_event("banned", track_info(banned))
    if playing is not None and playing.id == track_id:
        c.play_next(fade=c.timings.skip_fade_s)


def pause(c: Conductor, command: SetPaused) -> None:
    c.set_state(paused=command.paused)
    if command.paused:
        c.player.pause(c.clocks.mono())
    else:
        c.player.resume(c.clocks.mono())


def volume(c: Conductor, command: SetVolume) -> None:
    c.volume.command(command.volume)


def override(c: Conductor, command: SetOverride) -> None:
    until = c.clocks.wall() + command.minutes * 60 if command.mood else None
    c.set_state(override_mood=command.mood, override_until=until)
    c.next_up.clear()
    if c.player.now_playing is not None:
        c.play_next(fade=None)


def auto(c: Conductor, command: SetAuto) -> None:
    c.mood.fixed = None if command.auto else c.target()[0]
    c.set_state(auto=command.auto)


def announce(c: Conductor, command: Announce) -> None:
    c.announce(command)


def rescan(_c: Conductor, _command: Rescan) -> None:
    """The daemon starts the rescan worker (it owns that thread)."""


HANDLERS: dict[type, Callable[[Conductor, Any], None]] = {
    Skip: skip,
    SetPaused: pause,
    SetVolume: volume,
    SetOverride: override,
    SetAuto: auto,
    Announce: announce,
    Rescan: rescan,
    Ban: ban,
}


def track_info(track: Track, why: str = "") -> dict[str, Any]:
    """A track as events carry it: the same form, and the same safe text, as the state's."""
    return dict(safe_value(track_dict(track_view(track, why))))
