from __future__ import annotations

from datetime import time

import pytest

from moodcast.config.clock import DAYS, parse_hhmm, weekday_name


@pytest.mark.parametrize(
    ("text", "expected"), [("00:00", time(0, 0)), ("09:05", time(9, 5)), ("23:59", time(23, 59))]
)
def test_times_of_day_parse(text: str, expected: time) -> None:
    assert parse_hhmm(text) == expected


@pytest.mark.parametrize("text", ["24:00", "9:05", "12:60", "noon", "", "12:00:00", " 12:00"])
def test_anything_else_is_refused_with_the_format(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_hhmm(text)


def test_weekday_names_follow_datetime_and_wrap() -> None:
    assert [weekday_name(i) for i in range(7)] == list(DAYS)
    assert weekday_name(-1) == "sun"


def test_a_window_that_ends_when_it_starts_holds_never_and_midnight_belongs_to_its_day() -> None:
    from datetime import datetime

    from moodcast.config.clock import in_window

    monday_9, saturday_23, sunday_3 = (datetime(2026, 11, 30, 9), datetime(2026, 12, 5, 23),
                                       datetime(2026, 12, 6, 3))  # fmt: skip
    assert not in_window(["mon"], "09:00", "09:00", monday_9)
    assert in_window(["mon"], "08:00", "10:00", monday_9)
    assert in_window(["sat"], "22:00", "04:00", saturday_23)
    assert in_window(["sat"], "22:00", "04:00", sunday_3)
    assert not in_window(["sun"], "22:00", "04:00", sunday_3)
    assert in_window(["mon"], None, "10:00", monday_9) and in_window(["mon"], None, None, monday_9)
