"""Opening hours and dayparts: pure rules on a local time (no threads, no scheduler)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from moodcast.config.clock import in_window, parse_hhmm
from moodcast.config.settings import Daypart, OpeningWindow


def is_open(windows: Sequence[OpeningWindow], now: datetime) -> bool:
    """Whether music should play now; no windows means always. Windows may cross midnight."""
    if not windows:
        return True
    return any(in_window(w.days, w.open, w.close, now) for w in windows)


def next_change(windows: Sequence[OpeningWindow], now: datetime) -> datetime | None:
    """When the music next starts or stops (None when it never does: no windows, or open
    round the clock). Only the windows' edges over the next eight days can be changes."""
    if not windows:
        return None
    today = now.replace(second=0, microsecond=0)
    edges = sorted(
        {
            (today + timedelta(days=d)).replace(hour=t.hour, minute=t.minute)
            for d in range(9)
            for w in windows
            for t in (parse_hhmm(w.open), parse_hhmm(w.close))
        }
    )
    open_now = is_open(windows, now)
    for edge in edges:
        if edge > now and is_open(windows, edge) != open_now:
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
