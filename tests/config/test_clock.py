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
