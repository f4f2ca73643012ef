"""The owner's rules, pure and table-driven: what may play when."""

from __future__ import annotations

from datetime import datetime

import pytest

from moodcast.config.settings import Rule, RulesSettings, TrackMatch
from moodcast.player.rules import apply_rules, distance, in_force
from moodcast.player.track import Track, TrackMood

MON_9 = datetime(2026, 11, 30, 9, 0)  # a Monday
MON_11 = datetime(2026, 11, 30, 11, 0)
SUN_2 = datetime(2026, 12, 6, 2, 0)


def track(
    i: int,
    folder: str = "/m/pop",
    genre: str = "Pop",
    artist: str = "A",
    v: float = 0.0,
    a: float = 0.0,
    mood: str = "calm",
    explicit: bool = False,
) -> Track:
    m = TrackMood("file", "cowen13", mood, v, a, {mood: 1.0}, ())
    return Track(
        i,
        f"{folder}/{i}.ogg",
        artist,
        f"t{i}",
        "",
        180.0,
        "ok",
        "",
        m,
        genre=genre,
        explicit=explicit,
    )


CALM_MORNINGS = RulesSettings(
    rules=[Rule(name="calm mornings", end="10:00", include=TrackMatch(folders=["/m/calm"]))]
)
WEEKEND_NIGHTS = RulesSettings(
    rules=[
        Rule(
            name="weekend nights",
            days=["sat"],
            start="22:00",
            end="04:00",
            exclude=TrackMatch(moods=["defiant"]),
        )
    ]
)

LIB = [
    track(1, "/m/calm", "Ambient", "Eno", -0.2, -0.6),
    track(2, "/m/calm", "Folk; Acoustic", "Drake", 0.1, -0.4),
    track(3, "/m/pop", "Pop", "Robyn", 0.6, 0.5, mood="joyful"),
    track(4, "/m/pop", "Pop/Dance", "Robyn", 0.7, 0.8, mood="energizing", explicit=True),
    track(5, "/m/rock", "Rock", "Muse", -0.3, 0.9, mood="defiant"),
]


@pytest.mark.parametrize(
    ("settings", "now", "expected", "note"),
    [
        (RulesSettings(), MON_9, [1, 2, 3, 5], ""),  # explicit tracks are out by default
        (RulesSettings(explicit=True), MON_9, [1, 2, 3, 4, 5], ""),
        (RulesSettings(explicit_list=["robyn - t3"]), MON_9, [1, 2, 5], ""),
        (
            CALM_MORNINGS,
            MON_9,
            [1, 2],
            "",
        ),
        (
            CALM_MORNINGS,
            MON_11,
            [1, 2, 3, 5],
            "",
        ),  # the rule is over at 10:00
        (
            RulesSettings(rules=[Rule(name="no rock", exclude=TrackMatch(genres=["rock"]))]),
            MON_9,
            [1, 2, 3],
            "",
        ),
        (
            RulesSettings(rules=[Rule(name="acoustic", include=TrackMatch(genres=["acoustic"]))]),
            MON_9,
            [2],
            "",
        ),  # "Folk; Acoustic" holds two genres
        (
            RulesSettings(rules=[Rule(name="no Robyn", exclude=TrackMatch(artists=["ROBYN"]))]),
            MON_9,
            [1, 2, 5],
            "",
        ),
        (RulesSettings(rules=[Rule(name="quiet", arousal_max=0.3)]), MON_9, [1, 2], ""),
        (
            RulesSettings(rules=[Rule(name="lunch", start="12:00", end="14:00", arousal_max=0.3)]),
            MON_11,
            [1, 2, 3, 5],
            "",
        ),
        (
            WEEKEND_NIGHTS,
            SUN_2,
            [1, 2, 3],
            "",
        ),  # a window across midnight belongs to the day it started
        (
            WEEKEND_NIGHTS,
            MON_9,
            [1, 2, 3, 5],
            "",
        ),
        (
            RulesSettings(rules=[Rule(name="very calm", arousal_max=-0.9)]),
            MON_9,
            [1, 2, 3, 5],
            "playing the 4 closest allowed",
        ),  # nothing meets it: the closest, not silence
        (
            RulesSettings(rules=[Rule(name="nothing", exclude=TrackMatch(folders=["/m"]))]),
            MON_9,
            [],
            "exclude every track",
        ),
    ],
)
def test_what_may_play(settings: RulesSettings, now: datetime, expected, note: str) -> None:
    outcome = apply_rules(LIB, settings, now)
    assert sorted(t.id for t in outcome.tracks) == expected
    assert (note in outcome.note) if note else outcome.note == ""


def test_the_closest_come_first_and_the_state_names_the_rules() -> None:
    settings = RulesSettings(
        rules=[
            Rule(name="very calm", arousal_max=-0.9),
            Rule(name="no rock", exclude=TrackMatch(genres=["Rock"])),
        ]
    )
    outcome = apply_rules(LIB, settings, MON_9)
    assert [t.id for t in outcome.tracks] == [1, 2, 3]  # by distance to arousal <= -0.9
    assert outcome.in_force == ("very calm", "no rock")
    rule = settings.rules[0]
    assert distance(LIB[0], [rule]) == pytest.approx(0.3)
    assert [r.name for r in in_force(settings.rules, MON_9)] == ["very calm", "no rock"]


def test_a_rule_may_hold_for_a_date_range_and_past_midnight_at_its_end() -> None:
    december = Rule.model_validate({"name": "december", "from": "2026-12-01", "to": "2026-12-31"})
    nye = Rule.model_validate({"name": "new year's eve", "from": "2026-12-31", "to": "2026-12-31",
                               "start": "22:00", "end": "02:00"})  # fmt: skip
    table = [(datetime(2026, 11, 30, 23, 59), []), (datetime(2026, 12, 1, 0, 0), ["december"]),
             (datetime(2026, 12, 31, 23, 0), ["december", "new year's eve"]),
             (datetime(2027, 1, 1, 1, 0), ["new year's eve"]),  # its window, past midnight
             (datetime(2027, 1, 1, 12, 0), [])]  # fmt: skip
    for now, names in table:
        assert [r.name for r in in_force([december, nye], now)] == names, now


def test_rules_in_different_months_never_contradict_each_other() -> None:
    from moodcast.config.errors import MoodcastError
    from moodcast.config.settings import load_config

    calm = {"name": "calm december", "from": "2026-12-01", "to": "2026-12-31", "arousal_max": -0.5}
    lively = {"name": "lively june", "from": "2026-06-01", "to": "2026-06-30", "arousal_min": 0.5}
    load_config(None, {"rules.rules": [calm, lively]})  # apart in time: no contradiction
    clash = {**lively, "name": "lively xmas", "from": "2026-12-20", "to": "2026-12-26"}
    with pytest.raises(MoodcastError, match="calm december"):
        load_config(None, {"rules.rules": [calm, clash]})
    with pytest.raises(MoodcastError, match="'to' 2026-05-01 is before 'from' 2026-06-01"):
        load_config(None, {"rules.rules": [{**lively, "to": "2026-05-01"}]})
