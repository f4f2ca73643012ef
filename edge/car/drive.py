"""The driving situation, and the volume that follows the road: pure, clock-injected.

The situation is read from the last minutes of speed, the daylight and what the camera saw
(vehicles around, darkness, haze): ``parked``, ``stop_and_go``, ``night_drive``,
``cruising`` or ``driving`` (none of those). Each has a response in the config
(``vehicle.respond``, see models/response.py's ``drive_target``).

Road volume: as head units do, the volume rises with speed against road and wind noise,
``db_per_10kmh`` above ``from_kmh`` up to ``max_db``; the change is slewed at ``rate_db_s``
so a speed step is heard as a smooth rise, and the result never passes ``player.max_volume``.
The lift is a gain on the decks (as an announcement's ducking is), not the volume itself.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from moodcast.config.settings import SITUATIONS
from moodcast.edge.car.signals import HISTORY_S, MOVING_KMH

__all__ = ["SITUATIONS", "Situation", "road_boost_db", "road_lift_db", "situation", "slew"]


@dataclass(frozen=True)
class Situation:
    name: str
    why: str


def situation(speeds: Iterable[tuple[float, float]], now: float, motion: str, daylight: str,
              darkness: float = 0.0, vehicles: int = 0,
              window_s: float = HISTORY_S) -> Situation:  # fmt: skip
    """What kind of drive this is, from (time, km/h) pairs of the last ``window_s``."""
    if motion == "parked":
        return Situation("parked", "the engine is off or the car has stood a while")
    recent = [(t, v) for t, v in speeds if now - t <= window_s]
    if not recent or motion == "unknown":
        return Situation("driving", "no speed: the car's situation is not known")
    stops, moving = _stops(recent), [v for _, v in recent if v >= MOVING_KMH]
    mean = sum(v for _, v in recent) / len(recent)
    standing = 1 - len(moving) / len(recent)
    night = daylight == "night" or (daylight == "" and darkness >= 0.6)
    if night and motion == "driving":
        return Situation("night_drive", f"driving at night ({daylight or 'dark camera'})")
    if stops >= 2 or (standing >= 0.25 and mean < 25) or (vehicles >= 6 and mean < 30):
        return Situation("stop_and_go", f"{stops} stops, standing {standing:.0%}, mean"
                         f" {mean:.0f} km/h, {vehicles} vehicles seen in the last"
                         f" {window_s:.0f} s")  # fmt: skip
    if mean >= 50 and standing == 0 and max(moving) - min(moving) < 20:
        return Situation("cruising", f"steady at about {mean:.0f} km/h")
    return Situation("driving", f"mean {mean:.0f} km/h")


def _stops(recent: list[tuple[float, float]]) -> int:
    """How often the car came to a stand after moving at least 15 km/h."""
    count, was_moving = 0, False
    for _, v in recent:
        if v >= 15:
            was_moving = True
        elif v < MOVING_KMH and was_moving:
            count, was_moving = count + 1, False
    return count


def road_boost_db(speed_kmh: float | None, db_per_10kmh: float, from_kmh: float,
                  max_db: float) -> float:  # fmt: skip
    """The lift against road noise at this speed (0 without a speed)."""
    if speed_kmh is None or speed_kmh <= from_kmh:
        return 0.0
    return min(max_db, (speed_kmh - from_kmh) / 10.0 * db_per_10kmh)


def slew(current_db: float, target_db: float, dt: float, rate_db_s: float) -> float:
    """One step from ``current_db`` towards ``target_db``, at most ``rate_db_s`` a second."""
    step = max(0.0, dt) * rate_db_s
    return current_db + max(-step, min(step, target_db - current_db))


def road_lift_db(volume: int, boost_db: float, max_volume: int) -> float:
    """The lift to apply at this volume: ``boost_db``, but never so much that the volume
    heard passes ``max_volume`` (libVLC's volume is a linear amplitude percentage)."""
    if volume <= 0 or boost_db <= 0:
        return 0.0
    headroom = 20.0 * math.log10(max(max_volume, volume) / volume)
    return min(boost_db, headroom)
