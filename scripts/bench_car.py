"""How soon the volume follows the road: from a gpsd report of a new speed to the decks' gain.

Replays a drive through a real gpsd (gpsfake) into the real daemon (dummy audio output, no
broker) and records, in the daemon's process, when each GNSS reading arrived and when the
road lift was set; the latency is from a reading that raises the lift's target to the first
lift set after it. Beside it, in the same run on the same replay, the plain way: a loop that
reads the newest speed once a second and sets the gain.

    .venv/bin/python scripts/bench_car.py        # needs gpsd and gpsd-clients (Debian)

Prints the figures; docs/car.md has them with the machine they came from.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from moodcast.config.settings import load_config  # noqa: E402
from moodcast.edge.car.drive import road_boost_db, road_lift_db  # noqa: E402
from moodcast.edge.car.gnss import GpsdClient  # noqa: E402
from moodcast.edge.daemon import Daemon  # noqa: E402
from moodcast.edge.events import VehicleRead  # noqa: E402
from moodcast.models.mood import load_taxonomy  # noqa: E402
from moodcast.player.library import Library  # noqa: E402
from moodcast.player.playback import Player  # noqa: E402
from moodcast.player.scan import scan  # noqa: E402
from tests.edge.car_parts import gpsfake, nmea_drive, ramp  # noqa: E402

ROAD = {"db_per_10kmh": 0.6, "from_kmh": 20.0, "max_db": 6.0, "rate_db_s": 3.0}


def drive() -> list[float]:
    """Speed changes all the way: up, down, up again (a gpsd report every 0.2 s)."""
    return [0.0] * 20 + ramp(0, 120, 4) + ramp(120, 30, 4) + ramp(30, 110, 4) + [0.0] * 5


VOLUME = 50  # +6 dB of headroom below player.max_volume (100): the lift is never capped


def latencies(readings: list[tuple[float, float]], sets: list[float]) -> list[float]:
    """From each reading that raised the lift's target to the first set after it (ms)."""
    out, target = [], 0.0
    for at, kmh in readings:
        boost = road_boost_db(kmh, ROAD["db_per_10kmh"], ROAD["from_kmh"], ROAD["max_db"])
        new = road_lift_db(VOLUME, boost, 100)
        if new > target + 0.05:
            later = [t for t in sets if t >= at]
            if later:
                out.append((later[0] - at) * 1000)
        target = new
    return out


def daemon_run(folder: Path, address: str) -> list[float]:
    readings: list[tuple[float, float]] = []
    sets: list[float] = []
    lift = Player.lift

    def recorded_lift(self: Player, db: float) -> None:
        sets.append(time.monotonic())
        lift(self, db)

    Player.lift = recorded_lift  # type: ignore[method-assign]
    config = load_config(None, {
        "library.path": str(folder / "lib.db"), "camera.source": str(folder / "none"),
        "mqtt.enabled": False, "web.enabled": False, "player.audio_output": "dummy",
        "state_file": str(folder / "state.json"), "vehicle.gpsd": address,
        "vehicle.road_volume": ROAD, "player.volume": VOLUME,
    })  # fmt: skip
    daemon = Daemon(config)
    put = daemon.events.put

    def recorded_put(event: Any) -> None:
        if isinstance(event, VehicleRead) and event.reading.speed_kmh is not None:
            readings.append((event.reading.at, event.reading.speed_kmh))
        put(event)

    daemon.events.put = recorded_put  # type: ignore[method-assign]
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    time.sleep(len(drive()) * 0.2 + 8)
    daemon.stop()
    thread.join(timeout=15)
    Player.lift = lift  # type: ignore[method-assign]
    return latencies(readings, sets)


def plain_run(address: str) -> list[float]:
    """The plain way: the newest speed read once a second, the gain set from it."""
    readings: list[tuple[float, float]] = []
    sets: list[float] = []
    client = GpsdClient(
        address,
        lambda e: (
            readings.append((e.reading.at, e.reading.speed_kmh or 0.0))
            if isinstance(e, VehicleRead)
            else None
        ),
    )
    client.start()
    end = time.monotonic() + len(drive()) * 0.2 + 4
    while time.monotonic() < end:
        time.sleep(1.0)
        sets.append(time.monotonic())
    client.stop()
    return latencies(readings, sets)


def report(name: str, values: list[float]) -> None:
    if not values:
        print(f"{name}: no changes seen")
        return
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
    print(
        f"{name}: {len(values)} speed changes; latency median {statistics.median(values):.0f}"
        f" ms, 95th percentile {p95:.0f} ms, worst {values[-1]:.0f} ms"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "music").mkdir()
        subprocess.run(["sox", "-n", "-r", "22050", "-c", "1", str(folder / "music/a.ogg"),
                        "synth", "120", "sine", "440", "vol", "0.3"], check=True)  # fmt: skip
        with Library(folder / "lib.db") as lib:
            scan(lib, [folder / "music"], load_taxonomy("cowen13"))
        with gpsfake(folder, nmea_drive(drive())) as address:
            ours = daemon_run(folder, address)
        with gpsfake(folder, nmea_drive(drive())) as address:
            plain = plain_run(address)
    report("moodcast (event per report, tick 0.2 s)", ours)
    report("plain (poll once a second)", plain)


if __name__ == "__main__":
    main()
