"""The car, as the daemon sees it: signals in, situation, daylight and road volume out.

Owned by the conductor, fed on the daemon's thread (readings and source problems arrive as
events), asked at every tick. Pure apart from the clocks it is given: tests drive it with
made-up time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moodcast.config.settings import VehicleSettings
from moodcast.edge.car.drive import Situation, road_boost_db, situation, slew
from moodcast.edge.car.signals import Reading, Signals
from moodcast.edge.car.sun import daylight

CLOCK_SET_AFTER = 1_704_067_200.0  # 2024-01-01: a system clock before it was never set


@dataclass(frozen=True)
class VehicleView:
    """The ``vehicle`` object of the state (docs/state.md)."""

    speed_kmh: float | None
    speed_source: str  # obd, gnss, or '' (none fresh)
    motion: str  # driving, stopped, parked, unknown
    engine: str  # running, off, unknown
    daylight: str  # day, dawn, dusk, night, or '' (no position)
    situation: str
    situation_why: str
    road_boost_db: float
    obd: str  # ok, off, or what is wrong
    gnss: str
    power: str  # ok, failing (about to go), off, or what keeps the line from being read
    clock: str  # ok, or what is wrong with the system clock

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["speed_kmh"] = None if self.speed_kmh is None else round(self.speed_kmh, 1)
        out["road_boost_db"] = round(self.road_boost_db, 2)
        return out


class Vehicle:
    def __init__(self, settings: VehicleSettings) -> None:
        self.settings = settings
        self.signals = Signals(settings.stale_s, settings.parked_after_s)
        self.boost_db = 0.0
        self._ticked_at: float | None = None
        self.current = Situation("driving", "no signal yet")
        self.camera_darkness, self.camera_vehicles = 0.0, 0
        self.power_failing, self.power_detail = False, ""

    def on_reading(self, reading: Reading) -> str:
        """Take a reading; what was dropped from it ('' for nothing)."""
        return self.signals.add(reading)

    def on_status(self, source: str, problem: str) -> None:
        self.signals.set_problem(source, problem)

    def on_power(self, failing: bool, detail: str) -> None:
        """The power line: failing means fade out now (as at an engine stop)."""
        self.power_failing, self.power_detail = failing, detail

    def on_scene(self, darkness: float, vehicles: int) -> None:
        """What the camera saw last: how dark it is, how many vehicles are around."""
        self.camera_darkness, self.camera_vehicles = darkness, vehicles

    def on_evidence(self, evidence: Mapping[str, float | int | str]) -> None:
        """A reading's evidence, as the reader wrote it (a part it lacks reads as none)."""
        self.on_scene(float(evidence.get("darkness", 0.0) or 0.0),
                      int(evidence.get("vehicles", 0) or 0))  # fmt: skip

    def tick(self, now: float, wall: float) -> None:
        """Advance the road volume's slew and read the situation again."""
        dt = 0.0 if self._ticked_at is None else now - self._ticked_at
        self._ticked_at = now
        road = self.settings.road_volume
        speed, _ = self.signals.speed(now)
        target = (road_boost_db(speed, road.db_per_10kmh, road.from_kmh, road.max_db)
                  if road.enabled else 0.0)  # fmt: skip
        self.boost_db = slew(self.boost_db, target, dt, road.rate_db_s)
        self.current = situation(self.signals.speeds, now, self.signals.motion(now),
                                 self.daylight(now, wall), self.camera_darkness,
                                 self.camera_vehicles)  # fmt: skip

    def engine_off(self, now: float) -> bool:
        """True when the car says its engine stopped (OBD), not when it is just not known."""
        return self.signals.engine_running(now) is False

    def daylight(self, now: float, wall: float) -> str:
        place = self.signals.position(now)
        if place is None:
            return ""
        when = wall if wall >= CLOCK_SET_AFTER else self.signals.gnss_time(now)
        return "" if when is None else daylight(place[0], place[1], when)

    def clock(self, now: float, wall: float) -> str:
        if wall >= CLOCK_SET_AFTER:
            return "ok"
        gnss = self.signals.gnss_time(now)
        if gnss is None:
            return "the system clock is not set (no network time) and GNSS has no time yet"
        stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime(gnss))
        return f"the system clock is not set; GNSS says {stamp} UTC (daylight uses it)"

    def view(self, now: float, wall: float) -> VehicleView:
        speed, source = self.signals.speed(now)
        engine = self.signals.engine_running(now)
        s = self.settings
        return VehicleView(
            speed_kmh=speed, speed_source=source, motion=self.signals.motion(now),
            engine={True: "running", False: "off", None: "unknown"}[engine],
            daylight=self.daylight(now, wall), situation=self.current.name,
            situation_why=self.current.why, road_boost_db=self.boost_db,
            obd=self.signals.status("obd", now, s.obd is not None),
            gnss=self.signals.status("gnss", now, s.gpsd is not None),
            power=("off" if s.power_line is None else "failing" if self.power_failing
                   else self.power_detail or "ok"),
            clock=self.clock(now, wall),
        )  # fmt: skip
