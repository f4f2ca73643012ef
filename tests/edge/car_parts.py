"""Real car parts for the tests: Debian's gpsd fed by gpsfake with NMEA sentences written here,
and ELM327-emulator speaking OBD-II over a pseudo-terminal."""

from __future__ import annotations

import functools
import operator
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import free_port, require, wait_until

METRES_PER_DEG_LAT = 111_200.0


def _sentence(body: str) -> str:
    checksum = functools.reduce(operator.xor, body.encode(), 0)
    return f"${body}*{checksum:02X}\r\n"


def nmea_drive(speeds_kmh: Sequence[float], start_lat: float = 52.52, lon: float = 13.405,
               fix: bool = True, day: str = "031226") -> str:  # fmt: skip
    """RMC and GGA sentences, one pair per second of drive, heading north at each speed."""
    out, lat = [], start_lat
    for second, kmh in enumerate(speeds_kmh):
        stamp = f"12{second // 60 % 60:02d}{second % 60:02d}.00"
        lat += kmh / 3.6 / METRES_PER_DEG_LAT
        la = f"{int(lat):02d}{(lat % 1) * 60:07.4f}"
        lo = f"{int(lon):03d}{(lon % 1) * 60:07.4f}"
        status, quality = ("A", 1) if fix else ("V", 0)
        out.append(
            _sentence(f"GPRMC,{stamp},{status},{la},N,{lo},E,{kmh / 1.852:.2f},0.0,{day},,,A")
        )
        out.append(_sentence(f"GPGGA,{stamp},{la},N,{lo},E,{quality},08,0.9,40.0,M,46.9,M,,"))
    return "".join(out)


def ramp(start: float, end: float, per_s: float) -> list[float]:
    """Speeds a second apart from start to end, changing ``per_s`` km/h each second."""
    steps = max(1, round(abs(end - start) / per_s))
    return [start + (end - start) * i / steps for i in range(steps + 1)]


@contextmanager
def gpsfake(tmp_path: Path, nmea: str, cycle_s: float = 0.1) -> Iterator[str]:
    """A real gpsd replaying ``nmea`` once (``cycle_s`` between sentences); yields host:port."""
    require(shutil.which("gpsfake") is not None and shutil.which("gpsd") is not None,
            "gpsd and gpsfake (Debian: gpsd, gpsd-clients)")  # fmt: skip
    log = tmp_path / "drive.nmea"
    log.write_text(nmea)
    port = free_port()
    proc = subprocess.Popen(["gpsfake", "-q", "-1", "-c", str(cycle_s), "-P", str(port), str(log)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("gpsfake's gpsd did not start")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def elm327() -> Iterator[Any]:
    """ELM327-emulator on a pseudo-terminal with the 'car' scenario; ``.get_pty()`` is the port."""
    try:
        from elm import Elm
    except ImportError:
        require(False, "ELM327-emulator (pip)")
    with Elm() as session:
        # Its thread opens the pty; asking for the port before it is up races with that (the
        # emulator then says "no configured device port" and hands back None), so wait for it.
        wait_until(lambda: session.threadState != session.THREAD.STARTING, 20,
                   "ELM327-emulator's thread to start")  # fmt: skip
        assert session.threadState == session.THREAD.ACTIVE, "ELM327-emulator did not start"
        session.scenario = "car"
        yield session


def obd_answer(pid: str, data: str) -> str:
    """An ECU's answer in the emulator's markup, e.g. obd_answer('41 0D', '78') for 120 km/h."""
    size = len((pid + " " + data).split())
    return f"<header>7E8</header><size>{size:02X}</size><data>{pid} {data}</data>"
