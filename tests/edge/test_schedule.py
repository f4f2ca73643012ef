from __future__ import annotations

from datetime import datetime

import pytest

from moodcast.config.settings import Daypart, OpeningWindow
from moodcast.edge.hours import current_daypart, is_open

WEEKDAYS = OpeningWindow(days=["mon", "tue", "wed", "thu", "fri"], open="09:00", close="18:00")
NIGHT = OpeningWindow(days=["fri"], open="22:00", close="02:00")


# 2026-11-23 is a Monday.
@pytest.mark.parametrize(
    ("when", "windows", "expected"),
    [
        (datetime(2026, 11, 23, 8, 59), [WEEKDAYS], False),
        (datetime(2026, 11, 23, 9, 0), [WEEKDAYS], True),
        (datetime(2026, 11, 23, 17, 59), [WEEKDAYS], True),
        (datetime(2026, 11, 23, 18, 0), [WEEKDAYS], False),
        (datetime(2026, 11, 28, 12, 0), [WEEKDAYS], False),  # Saturday
        (datetime(2026, 11, 27, 23, 0), [NIGHT], True),  # Friday night
        (datetime(2026, 11, 28, 1, 30), [NIGHT], True),  # after midnight, into Saturday
        (datetime(2026, 11, 28, 2, 0), [NIGHT], False),
        (datetime(2026, 11, 26, 23, 0), [NIGHT], False),  # Thursday
        (datetime(2026, 11, 26, 3, 0), [], True),  # no windows: always open
    ],
)
def test_opening_hours(when: datetime, windows: list[OpeningWindow], expected: bool) -> None:
    assert is_open(windows, when) is expected


PARTS = [Daypart(start="09:00", volume=40), Daypart(start="17:00", volume=70)]


@pytest.mark.parametrize(("hour", "volume"), [(8, 70), (9, 40), (12, 40), (17, 70), (23, 70)])
def test_dayparts(hour: int, volume: int) -> None:
    part = current_daypart(PARTS, datetime(2026, 11, 23, hour, 0))
    assert part is not None and part.volume == volume
    assert current_daypart([], datetime(2026, 11, 23, hour, 0)) is None
