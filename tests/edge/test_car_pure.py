"""The car's pure cores, table-tested: signals, sun, situation, road volume, drive response."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import pytest

from moodcast.config.settings import DriveResponse, load_config
from moodcast.edge.car.drive import road_boost_db, road_lift_db, situation, slew
from moodcast.edge.car.signals import Reading, Signals
from moodcast.edge.car.sun import daylight, elevation
from moodcast.models.mood import load_taxonomy
from moodcast.models.response import drive_target

TAXONOMY = load_taxonomy("cowen13")


def gnss(at: float, kmh: float, lat: float = 52.0, lon: float = 13.0) -> Reading:
    return Reading(source="gnss", at=at, speed_kmh=kmh, lat=lat, lon=lon)


def test_a_speed_spike_is_dropped_and_a_lasting_change_believed() -> None:
    s = Signals()
    assert s.add(gnss(0.0, 0.0)) == ""
    assert "faster than a car can change" in s.add(gnss(0.5, 250.0))  # 0 → 250 in half a second
    assert s.add(gnss(1.0, 0.0)) == ""
    assert s.speed(1.0) == (0.0, "gnss") and s.dropped("gnss") == 1
    for t in (1.2, 1.4, 1.6):  # a source that says 90 again and again: the 0 was wrong
        s.add(gnss(t, 90.0, lat=52.0 + t * 1e-4))
    s.add(gnss(1.8, 90.0, lat=52.0 + 1.8e-4))
    assert s.speed(1.8) == (90.0, "gnss")
    assert "not a car's" in s.add(gnss(2.0, float("nan")))
    assert "not a car's" in s.add(gnss(2.0, -5.0))


def test_a_jumping_position_is_dropped() -> None:
    s = Signals()
    s.add(gnss(0.0, 50.0, 52.0, 13.0))
    assert "jumped" in s.add(gnss(1.0, 50.0, 52.1, 13.0))  # 11 km in a second
    assert s.position(1.0) == (52.0, 13.0)
    assert s.add(gnss(2.0, 50.0, 52.0003, 13.0)) == ""


def test_obd_speed_wins_over_gnss_and_a_stale_source_stops_counting() -> None:
    s = Signals(stale_s=5.0)
    s.add(gnss(0.0, 48.0))
    s.add(Reading(source="obd", at=0.0, speed_kmh=50.0, engine_running=True))
    assert s.speed(1.0) == (50.0, "obd")
    s.add(gnss(6.0, 47.0, lat=52.0008))
    assert s.speed(6.0) == (47.0, "gnss")  # OBD silent for 6 s
    assert s.speed(20.0) == (None, "")
    assert s.status("obd", 20.0, configured=True).startswith("stale")
    assert s.status("obd", 20.0, configured=False) == "off"
    s.set_problem("gnss", "no fix")
    assert s.status("gnss", 20.0, configured=True) == "no fix"


def test_motion_is_driving_stopped_then_parked() -> None:
    s = Signals(parked_after_s=60.0)
    assert s.motion(0.0) == "unknown"
    s.add(gnss(0.0, 30.0))
    assert s.motion(0.0) == "driving"
    s.add(gnss(5.0, 0.0, lat=52.0004))
    assert s.motion(5.0) == "stopped"
    for t in range(10, 70, 5):
        s.add(gnss(float(t), 0.0, lat=52.0004))
    assert s.motion(65.0) == "parked"
    s.add(Reading(source="obd", at=66.0, engine_running=False, rpm=0.0, speed_kmh=0.0))
    assert s.motion(66.0) == "parked"


@pytest.mark.parametrize(("lat", "lon", "when"), [
    (52.52, 13.405, "2026-06-21T11:07:00"), (0.0, 0.0, "2024-03-20T12:00:00"),
    (-33.87, 151.21, "2026-12-03T21:30:00"), (64.1, -21.9, "2026-12-21T13:20:00"),
    (40.7, -74.0, "2026-12-03T05:00:00"), (35.0, 139.0, "2031-09-01T09:45:00"),
])  # fmt: skip
def test_the_suns_height_agrees_with_an_independent_implementation(lat, lon, when) -> None:
    from astral import Observer
    from astral.sun import elevation as reference

    at = dt.datetime.fromisoformat(when).replace(tzinfo=dt.UTC)
    expected = reference(Observer(lat, lon), at, with_refraction=False)
    assert elevation(lat, lon, at.timestamp()) == pytest.approx(expected, abs=0.05)


def test_daylight_names_day_dusk_night_and_dawn() -> None:
    berlin = (52.52, 13.405)
    day = dt.datetime(2026, 12, 3, tzinfo=dt.UTC).timestamp()
    assert daylight(*berlin, day + 11 * 3600) == "day"
    assert daylight(*berlin, day + 15 * 3600 + 15 * 60) == "dusk"  # sunset about 14:55 UTC
    assert daylight(*berlin, day + 20 * 3600) == "night"
    assert daylight(*berlin, day + 6 * 3600 + 50 * 60) == "dawn"  # sunrise about 07:00 UTC


def drive(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Speeds every second, linearly between (t, km/h) points."""
    out: list[tuple[float, float]] = []
    for (t0, v0), (t1, v1) in itertools.pairwise(points):
        out += [(float(t), v0 + (v1 - v0) * (t - t0) / (t1 - t0))
                for t in range(int(t0), int(t1))]  # fmt: skip
    return out


@pytest.mark.parametrize(("speeds", "motion", "light", "vehicles", "expected"), [
    (drive([(0, 100), (180, 105)]), "driving", "day", 0, "cruising"),
    (drive([(0, 0), (20, 30), (40, 0), (70, 0), (90, 25), (110, 0), (180, 0)]), "stopped",
     "day", 0, "stop_and_go"),
    (drive([(0, 20), (180, 20)]), "driving", "day", 9, "stop_and_go"),  # a queue, seen
    (drive([(0, 90), (180, 95)]), "driving", "night", 0, "night_drive"),
    (drive([(0, 40), (90, 70), (180, 50)]), "driving", "day", 0, "driving"),
    ([], "unknown", "day", 0, "driving"),
    (drive([(0, 0), (180, 0)]), "parked", "night", 0, "parked"),
])  # fmt: skip
def test_the_driving_situation(speeds, motion, light, vehicles, expected) -> None:
    assert situation(speeds, 180.0, motion, light, vehicles=vehicles).name == expected


def test_the_road_volume_rises_with_speed_smoothly_up_to_its_caps() -> None:
    assert road_boost_db(None, 0.6, 20, 6) == 0.0
    assert road_boost_db(20, 0.6, 20, 6) == 0.0
    assert road_boost_db(120, 0.6, 20, 6) == pytest.approx(6.0)
    assert road_boost_db(70, 0.6, 20, 6) == pytest.approx(3.0)
    assert road_boost_db(250, 0.6, 20, 6) == 6.0
    level, steps = 0.0, 0
    while level < 6.0:  # 1 dB/s, ticks of 0.2 s: six seconds, no jump
        new = slew(level, 6.0, 0.2, 1.0)
        assert new - level <= 0.2 + 1e-9
        level, steps = new, steps + 1
    assert steps == 30
    assert road_lift_db(50, 6.0, 100) == pytest.approx(6.0)  # twice the amplitude: fits
    assert road_lift_db(50, 6.0, 80) == pytest.approx(20 * math.log10(80 / 50))  # the cap
    assert road_lift_db(80, 6.0, 80) == 0.0 and road_lift_db(0, 6.0, 100) == 0.0
    assert road_lift_db(50, 0.0, 100) == 0.0


def test_each_situation_moves_the_target_as_configured() -> None:
    config = load_config(None, {"vehicle.gpsd": "127.0.0.1:2947", "vehicle.respond": {
        "stop_and_go": {"valence": 0.45, "arousal": -0.7, "strength": 0.5},
        "night_drive": {"arousal_min": -0.1}}})  # fmt: skip
    respond = config.vehicle.respond
    sleepy = TAXONOMY.estimate_from_tags(["calm"], 0.9, "camera")
    tense = TAXONOMY.estimate_from_tags(["anxious"], 0.9, "camera")
    assert sleepy is not None and tense is not None
    night = drive_target(sleepy, "night_drive", respond, TAXONOMY)
    assert night.arousal == pytest.approx(-0.1) and "night drive" in str(night.evidence["response"])
    jam = drive_target(tense, "stop_and_go", respond, TAXONOMY)
    assert jam.arousal < tense.arousal and jam.valence > tense.valence
    assert drive_target(tense, "cruising", respond, TAXONOMY) is tense
    assert isinstance(respond["night_drive"], DriveResponse)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"vehicle.gpsd": "localhost"}, "give gpsd as host:port"),
    ({"vehicle.gpsd": "localhost:99999"}, "port must be 1 to 65535"),
    ({"vehicle.gpsd": "localhost:²"}, "give gpsd as host:port"),  # a digit to isdigit()
    ({"vehicle.obd": "ttyUSB0"}, "device path"),
    ({"vehicle.respond": {"traffic_jam": {}}}, "unknown situation traffic_jam"),
    ({"vehicle.gpsd": "h:1", "vehicle.respond": {"parked": {"arousal_min": 0.5,
                                                            "arousal_max": 0.1}}},
     "vehicle.respond.parked.*above arousal_max"),
])  # fmt: skip
def test_bad_vehicle_config_is_refused_by_name(overrides, message) -> None:
    from moodcast.config.errors import MoodcastError

    with pytest.raises(MoodcastError, match=message):
        load_config(None, overrides)
