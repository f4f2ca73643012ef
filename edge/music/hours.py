"""Opening hours and dayparts: pure rules on a local time (no threads, no scheduler)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from moodcast.config.clock import DAYS, in_window, parse_hhmm
from moodcast.config.settings import Daypart, OpeningWindow, SpecialDay


def special_day(days: Sequence[SpecialDay], now: datetime) -> SpecialDay | None:
    """The special day (a closure, other hours) ``now`` falls on; the first listed wins."""
    return next((d for d in days if d.holds(now.date())), None)


def is_open(windows: Sequence[OpeningWindow], now: datetime,
            special: Sequence[SpecialDay] = ()) -> bool:  # fmt: skip
    """Whether music should play now. On a special day its own rule holds (closed, or its
    hours, which may cross midnight); else the week's windows (none means always; they may
    cross midnight)."""
    day = special_day(special, now)
    if day is not None:
        return not day.closed and in_window(DAYS, day.open, day.close, now)
    if not windows:
        return True
    return any(in_window(w.days, w.open, w.close, now) for w in windows)


def next_change(windows: Sequence[OpeningWindow], now: datetime,
                special: Sequence[SpecialDay] = ()) -> datetime | None:  # fmt: skip
    """When the music next starts or stops (None when it never does). Only midnights and
    the edges of the windows and special days over the next eight days can be changes."""
    if not windows and not special:
        return None
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    times = {parse_hhmm(t) for w in windows for t in (w.open, w.close)}
    times |= {parse_hhmm(t) for d in special for t in (d.open, d.close) if t}
    times.add(parse_hhmm("00:00"))
    edges = sorted((today + timedelta(days=n)).replace(hour=t.hour, minute=t.minute)
                   for n in range(9) for t in times)  # fmt: skip
    open_now = is_open(windows, now, special)
    for edge in edges:
        if edge > now and is_open(windows, edge, special) != open_now:
            return edge
    return None


def current_daypart(dayparts: Sequence[Daypart], now: datetime) -> Daypart | None:
    """The latest daypart that has started today (before the first: yesterday's last)."""
    if not dayparts:
        return None
    ordered = sorted(dayparts, key=lambda d: d.start)
    current = ordered[-1]
    for part in ordered:
        if parse_hhmm(part.start) <= now.time():
            current = part
    return current
