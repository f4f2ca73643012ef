"""Whether the music should be on now, and the daypart's volume: from the opening hours and
special days, and in a car from the engine and the power line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from moodcast.config.settings import Daypart, MoodcastConfig
from moodcast.edge.car.vehicle import Vehicle
from moodcast.edge.music.hours import current_daypart, is_open


@dataclass(frozen=True)
class OpeningChange:
    open: bool
    first: bool  # the first decision since start (not said as a change)
    fade_s: float | None  # the fade out's length when not the usual (an engine stop)


class Opening:
    """Tracks open/closed and the daypart; says each change once."""

    def __init__(self, config: MoodcastConfig, vehicle: Vehicle | None) -> None:
        self.config, self.vehicle = config, vehicle
        self.is_open: bool | None = None
        self.daypart: Daypart | None = None

    def tick(self, mono: float, wall: float, local: datetime) -> OpeningChange | None:
        """The change of open/closed now, if any (the vehicle's own clock ticks here too)."""
        schedule = self.config.schedule
        open_now = is_open(schedule.opening_hours, local, schedule.special_days)
        fade_s = None
        if self.vehicle is not None:
            self.vehicle.tick(mono, wall)
            if self.vehicle.engine_off(mono) or self.vehicle.power_failing:
                # the engine stopped, or the power is going: fade out, as at closing
                open_now, fade_s = False, self.config.vehicle.engine_off_fade_s
        if open_now == self.is_open:
            return None
        first, self.is_open = self.is_open is None, open_now
        return OpeningChange(open_now, first, fade_s)

    def new_daypart(self, local: datetime) -> Daypart | None:
        """The daypart just begun (None when it has not changed, or none is in force)."""
        part = current_daypart(self.config.schedule.dayparts, local)
        if part == self.daypart:
            return None
        self.daypart = part
        return part
