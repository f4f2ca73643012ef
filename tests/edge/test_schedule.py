from __future__ import annotations

from datetime import datetime

import pytest

from moodcast.config.settings import Daypart, OpeningWindow, SpecialDay
from moodcast.edge.music.hours import current_daypart, is_open, next_change

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


def _special(**kw: object) -> SpecialDay:
    return SpecialDay.model_validate(kw)


WEEK = [OpeningWindow(open="09:00", close="20:00")]
XMAS = [
    _special(date="2026-12-25", closed=True, name="Christmas"),
    _special(**{"from": "2026-12-24", "to": "2026-12-24"}, open="09:00", close="14:00"),
    _special(**{"from": "2026-12-31", "to": "2027-01-01"}, open="20:00", close="02:00"),
]


@pytest.mark.parametrize(("when", "expected"), [
    (datetime(2026, 12, 23, 19, 0), True),  # an ordinary day
    (datetime(2026, 12, 24, 13, 59), True),  # Christmas Eve until 14:00
    (datetime(2026, 12, 24, 14, 0), False),
    (datetime(2026, 12, 25, 12, 0), False),  # closed
    (datetime(2026, 12, 26, 12, 0), True),  # back to the week
    (datetime(2026, 12, 31, 12, 0), False),  # New Year's Eve: 20:00 to 02:00 only
    (datetime(2026, 12, 31, 23, 0), True),
    (datetime(2027, 1, 1, 1, 0), True),  # the range's second day: its window, past midnight
    (datetime(2027, 1, 1, 12, 0), False),
])  # fmt: skip
def test_special_days_win_over_the_week(when: datetime, expected: bool) -> None:
    assert is_open(WEEK, when, XMAS) is expected


def test_the_next_change_knows_the_special_days() -> None:
    assert next_change(WEEK, datetime(2026, 12, 24, 10, 0), XMAS) == datetime(2026, 12, 24, 14, 0)
    # after Christmas Eve's early close: not the 25th (closed), the 26th at 09:00
    assert next_change(WEEK, datetime(2026, 12, 24, 15, 0), XMAS) == datetime(2026, 12, 26, 9, 0)
    assert next_change([], datetime(2026, 12, 24, 15, 0), XMAS) == datetime(2026, 12, 26, 0, 0)
    assert next_change([], datetime(2026, 6, 1), []) is None


@pytest.mark.parametrize(("entries", "message"), [
    ([{"date": "2026-12-25"}], "give closed: true, or both open and close"),
    ([{"date": "2026-12-25", "closed": True, "open": "10:00"}], "a closed day has no opening"),
    ([{"from": "2026-12-26", "to": "2026-12-20", "closed": True}], "'to' 2026-12-20 is before"),
    ([{"date": "2026-12-25", "to": "2026-12-26", "closed": True}], "'to' goes with 'from'"),
    ([{"closed": True}], "give either date, or from"),
    ([{"date": "2026-12-25", "closed": True}, {"from": "2026-12-24", "to": "2026-12-26",
      "closed": True}], "special_days.1.*overlaps schedule.special_days.0"),
])  # fmt: skip
def test_bad_special_days_are_refused_by_name(entries: list[dict[str, object]],
                                               message: str) -> None:  # fmt: skip
    from moodcast.config.errors import MoodcastError
    from moodcast.config.settings import load_config

    with pytest.raises(MoodcastError, match=message):
        load_config(None, {"schedule.special_days": entries})


def test_a_date_that_does_not_exist_is_named_by_its_line(tmp_path) -> None:
    from moodcast.config.errors import MoodcastError
    from moodcast.config.settings import load_config

    path = tmp_path / "shop.yaml"
    path.write_text("schedule:\n  special_days:\n    - date: 2026-02-31\n      closed: true\n")
    with pytest.raises(MoodcastError, match=r"line 3 \(2026-02-31\).*day is out of range"):
        load_config(path)
