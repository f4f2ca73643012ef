"""The owner's rules: what may play when, applied before the mood chooses among what is left.

Pure functions of the tracks, the rules and a local time (the conductor passes its clock).
Exclusions (folders, genres, artists, moods, explicit tracks) are hard: such a track never
plays. Inclusions and the valence/arousal regions are what the owner wants: when no track
meets them all, the tracks that break them least play instead of silence, and the state
says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from moodcast.config.clock import in_window, parse_hhmm
from moodcast.config.settings import Rule, RulesSettings, TrackMatch
from moodcast.player.track import Track

CLOSEST_KEPT = 8  # when nothing meets the rules: this many of the closest allowed tracks


@dataclass(frozen=True)
class RuleOutcome:
    tracks: list[Track]
    in_force: tuple[str, ...]  # names of the rules in force now
    note: str = ""  # what the owner should know ('' when the rules are met)


def in_force(rules: Sequence[Rule], now: datetime) -> list[Rule]:
    """The rules whose days and hours hold ``now``; a window may cross midnight."""
    return [r for r in rules if _holds(r, now)]


def _holds(rule: Rule, now: datetime) -> bool:
    """Its dates (if any), its days and its hours; a window past midnight belongs to the day
    it started on, for the dates too."""
    started = now if rule.start is None or rule.end is None or rule.start <= rule.end or (
        now.time() >= parse_hhmm(rule.start)) else now - timedelta(days=1)  # fmt: skip
    return rule.on(started.date()) and in_window(rule.days, rule.start, rule.end, now)


def genres_of(track: Track) -> set[str]:
    """A track's genres, folded: a tag may hold several ("Folk; Acoustic", "Pop/Dance")."""
    return {g.strip().casefold() for g in track.genre.replace(";", "/").split("/")}


def matches(track: Track, match: TrackMatch) -> bool:
    """Whether any of the match's folders, genres, artists or moods names this track."""
    path = Path(track.path)
    if any(path.is_relative_to(Path(folder).expanduser()) for folder in match.folders):
        return True
    genres = genres_of(track)
    if any(g.casefold() in genres for g in match.genres):
        return True
    if track.artist and any(a.casefold() == track.artist.casefold() for a in match.artists):
        return True
    return track.mood is not None and track.mood.mood in match.moods


def is_explicit(track: Track, settings: RulesSettings) -> bool:
    if track.explicit:
        return True
    named = f"{track.artist} - {track.title}".casefold()
    return any(e.casefold() in {named, track.path.casefold()} for e in settings.explicit_list)


def _excluded(track: Track, rules: Sequence[Rule], settings: RulesSettings) -> bool:
    if not settings.explicit and is_explicit(track, settings):
        return True
    return any(not r.exclude.empty() and matches(track, r.exclude) for r in rules)


def distance(track: Track, rules: Sequence[Rule]) -> float:
    """How far a track is from what the rules want: 0 when it meets them all."""
    v, a = (track.mood.valence, track.mood.arousal) if track.mood else (0.0, 0.0)
    total = 0.0
    for rule in rules:
        if not rule.include.empty() and not matches(track, rule.include):
            total += 1.0
        dv = max(rule.valence_min - v, 0.0, v - rule.valence_max)
        da = max(rule.arousal_min - a, 0.0, a - rule.arousal_max)
        total += math.hypot(dv, da)
    return total


def apply_rules(tracks: Sequence[Track], settings: RulesSettings, now: datetime) -> RuleOutcome:
    """The tracks that may play now, the rules in force, and a note when they had to bend."""
    rules = in_force(settings.rules, now)
    names = tuple(r.name for r in rules)
    allowed = [t for t in tracks if not _excluded(t, rules, settings)]
    if not allowed:
        note = "the rules in force exclude every track: nothing may play" if tracks else ""
        return RuleOutcome([], names, note)
    scored = sorted(((distance(t, rules), t) for t in allowed), key=lambda dt: dt[0])
    meeting = [t for d, t in scored if d == 0.0]
    if meeting:
        return RuleOutcome(meeting, names)
    closest = [t for _, t in scored[:CLOSEST_KEPT]]
    note = (f"no track meets the rules in force ({', '.join(names)}): playing the"
            f" {len(closest)} closest allowed")  # fmt: skip
    return RuleOutcome(closest, names, note)
