"""The car's own signals, checked and combined: speed, engine, position, and how the car moves.

Pure and clock-injected: the OBD and gpsd threads hand readings over (as events), the
daemon's thread feeds them here with the monotonic time they arrived, and asks what the car
is doing now. A reading the car cannot have made (0 → 250 → 0 km/h in a second, a position
that jumps a kilometre between two fixes) is dropped and counted, not believed; a source that
has said nothing for ``stale_s`` no longer counts, and the state says so.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

# A car does not change speed faster than this (about 1.2 g; a hard stop is ~1 g).
MAX_ACCELERATION_MS2 = 12.0
MAX_SPEED_KMH = 300.0
MOVING_KMH = 5.0  # below this the car is taken as standing
HISTORY_S = 180.0  # speeds kept: what the driving situation is read from


@dataclass(frozen=True)
class Reading:
    """One reading from one source; a field the source did not give is None."""

    source: str  # "obd" or "gnss"
    at: float  # monotonic seconds when it arrived
    speed_kmh: float | None = None
    engine_running: bool | None = None
    rpm: float | None = None
    lat: float | None = None
    lon: float | None = None
    heading: float | None = None
    utc: float | None = None  # the time the GNSS fix says (Unix), for a clock that has none


@dataclass
class _Source:
    last: Reading | None = None
    speed_at: float | None = None
    speed: float | None = None
    dropped: int = 0
    in_a_row: int = 0  # speeds dropped one after another: three in a row are believed
    problem: str = ""


@dataclass
class Signals:
    """The latest trustworthy reading of each source, and the car's motion over time."""

    stale_s: float = 5.0
    parked_after_s: float = 120.0  # standing this long (engine unknown) counts as parked
    history_s: float = HISTORY_S
    _sources: dict[str, _Source] = field(
        default_factory=lambda: {"obd": _Source(), "gnss": _Source()}
    )
    _position: tuple[float, float, float] | None = None  # lat, lon, at
    _standing_since: float | None = None
    speeds: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=2000))

    def add(self, reading: Reading) -> str:
        """Take one reading; '' when believed, else why (part of it) was dropped."""
        source = self._sources[reading.source]
        why = ""
        if reading.speed_kmh is not None:
            why = self._speed(source, reading)
        if reading.lat is not None and reading.lon is not None:
            why = why or self._place(reading)
        source.last = reading
        if why:
            source.dropped += 1
        return why

    def set_problem(self, source: str, problem: str) -> None:
        """What is wrong with a source now ('' when it works): adapter gone, no fix."""
        self._sources[source].problem = problem

    def _speed(self, source: _Source, reading: Reading) -> str:
        speed = reading.speed_kmh
        assert speed is not None
        if not math.isfinite(speed) or not 0 <= speed <= MAX_SPEED_KMH:
            return f"speed {speed} km/h is not a car's"
        if source.speed is not None and source.speed_at is not None and source.in_a_row < 3:
            dt = max(reading.at - source.speed_at, 0.05)
            if abs(speed - source.speed) / 3.6 / dt > MAX_ACCELERATION_MS2:
                source.in_a_row += 1
                return (f"speed {source.speed:.0f} → {speed:.0f} km/h in {dt:.1f} s is faster"
                        " than a car can change; dropped")  # fmt: skip
        # Three readings in a row that disagree with the last believed one: that one was wrong.
        source.speed, source.speed_at, source.in_a_row = speed, reading.at, 0
        self.speeds.append((reading.at, speed))
        while reading.at - self.speeds[0][0] > self.history_s:  # read at every tick: kept short
            self.speeds.popleft()
        return ""

    def _place(self, reading: Reading) -> str:
        lat, lon = float(reading.lat or 0.0), float(reading.lon or 0.0)
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return f"position {lat}, {lon} is not on Earth"
        if self._position is not None:
            plat, plon, pat = self._position
            dt = max(reading.at - pat, 0.5)
            metres = _distance_m(plat, plon, lat, lon)
            if metres / dt * 3.6 > MAX_SPEED_KMH:
                return f"position jumped {metres / 1000:.1f} km in {dt:.1f} s; dropped"
        self._position = (lat, lon, reading.at)
        return ""

    def fresh(self, source: str, now: float) -> Reading | None:
        last = self._sources[source].last
        return last if last is not None and now - last.at <= self.stale_s else None

    def speed(self, now: float) -> tuple[float | None, str]:
        """The speed now and its source: OBD (the car's own) before GNSS; (None, '') when
        neither has said one for ``stale_s``."""
        for name in ("obd", "gnss"):
            src = self._sources[name]
            if (
                src.speed is not None
                and src.speed_at is not None
                and (now - src.speed_at <= self.stale_s)
            ):
                return src.speed, name
        return None, ""

    def engine_running(self, now: float) -> bool | None:
        obd = self.fresh("obd", now)
        return obd.engine_running if obd is not None else None

    def position(self, now: float) -> tuple[float, float] | None:
        if self._position is None or now - self._position[2] > max(self.stale_s, 30.0):
            return None
        return self._position[0], self._position[1]

    def gnss_time(self, now: float) -> float | None:
        """The time the latest fresh GNSS fix gave, moved on to ``now``."""
        gnss = self.fresh("gnss", now)
        if gnss is None or gnss.utc is None:
            return None
        return gnss.utc + (now - gnss.at)

    def motion(self, now: float) -> str:
        """driving, stopped (standing, engine on or unknown, for a short while), parked
        (engine off, or standing for ``parked_after_s``), or unknown (no speed)."""
        engine = self.engine_running(now)
        speed, _ = self.speed(now)
        if engine is False:
            self._standing_since = self._standing_since or now
            return "parked"
        if speed is None:
            return "unknown"
        if speed >= MOVING_KMH:
            self._standing_since = None
            return "driving"
        if self._standing_since is None:
            self._standing_since = now
        return "parked" if now - self._standing_since >= self.parked_after_s else "stopped"

    def status(self, source: str, now: float, configured: bool) -> str:
        """ok, off (not configured), stale, or what is wrong, for the state and doctor."""
        if not configured:
            return "off"
        src = self._sources[source]
        if src.problem:
            return src.problem
        if self.fresh(source, now) is None:
            return "no reading yet" if src.last is None else "stale: no reading for a while"
        return "ok"

    def dropped(self, source: str) -> int:
        return self._sources[source].dropped


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(min(1.0, math.sqrt(a)))
