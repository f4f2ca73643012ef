"""Days of the week and times of day as the config writes them (``mon``, ``09:30``).

One parser for the settings that validate them and the schedule that acts on them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HHMM_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"


def parse_hhmm(text: str) -> time:
    """``"21:05"`` → ``time(21, 5)``; a ValueError that says the format otherwise."""
    if not re.fullmatch(HHMM_PATTERN, text):
        raise ValueError(f"{text!r} is not a time of day; write HH:MM, 00:00 to 23:59")
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def weekday_name(weekday: int) -> str:
    """``datetime.weekday()`` (0 = Monday) → the config's day name."""
    return DAYS[weekday % 7]


def in_window(days: Sequence[str], start: str | None, end: str | None, now: datetime) -> bool:
    """Whether ``now`` falls in a daily window on ``days``: from ``start`` (midnight when
    None) until ``end`` (midnight when None); a window whose end is before its start
    crosses midnight and belongs to the day it started on; one that ends when it starts
    holds never."""
    today = weekday_name(now.weekday())
    if start is None and end is None:
        return today in days
    begin = parse_hhmm(start or "00:00")
    finish = parse_hhmm(end) if end else None
    clock = now.time()
    if finish is None or begin <= finish:
        return today in days and begin <= clock and (finish is None or clock < finish)
    yesterday = weekday_name(now.weekday() - 1)
    return (today in days and clock >= begin) or (yesterday in days and clock < finish)


EARLIEST_DAY, LATEST_DAY = date(1970, 1, 2), date(9999, 12, 30)


def local_days(first: date, last: date) -> tuple[float, float]:
    """[``first`` 00:00, the day after ``last`` 00:00) in local time, as Unix times. No play
    is older than the Unix epoch or newer than the calendar, so days past either end are
    taken as those ends (the first and last days have no local midnight as a Unix time:
    'year 0 is out of range')."""
    first, last = max(first, EARLIEST_DAY), min(last, LATEST_DAY)
    low = datetime.combine(first, time()).astimezone().timestamp()
    high = datetime.combine(last + timedelta(days=1), time()).astimezone().timestamp()
    return low, high
