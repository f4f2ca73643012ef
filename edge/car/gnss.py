"""GNSS through gpsd: speed, position, heading and time, read with gpsd's JSON protocol.

A thread of its own connects to gpsd (``vehicle.gpsd: host:port``), asks it to WATCH, and
turns each TPV report into a :class:`Reading` handed to the daemon (``put`` only enqueues).
A gpsd that is not there, a receiver without a fix, a line that is not JSON or too long: each
is said as the source's problem, never raised; the thread connects again, waiting longer each
time up to 30 s, until it is stopped.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

from moodcast.config.text import finite_number, parse_json
from moodcast.edge.car.signals import Reading
from moodcast.edge.car.source import SourceThread
from moodcast.edge.events import VehicleRead

logger = logging.getLogger(__name__)

MAX_LINE = 65_536  # a TPV report is a few hundred bytes; a longer line is not gpsd's
WATCH = b'?WATCH={"enable":true,"json":true}\n'


def parse_report(line: bytes, at: float) -> Reading | str | None:
    """One gpsd report: a Reading (a TPV with a fix), a problem ('no fix'), or None for
    reports moodcast does not use (VERSION, DEVICES, SKY…)."""
    try:
        report = parse_json(line)
    except (ValueError, UnicodeDecodeError):
        return f"gpsd sent a line that is not JSON ({line[:40]!r})"
    if not isinstance(report, dict) or report.get("class") != "TPV":
        return None
    mode = report.get("mode", 0)
    if not isinstance(mode, int) or mode < 2:
        return "no fix: the receiver does not know where it is yet"
    speed = finite_number(report.get("speed"))
    return Reading(source="gnss", at=at, speed_kmh=None if speed is None else speed * 3.6,
                   lat=finite_number(report.get("lat")), lon=finite_number(report.get("lon")),
                   heading=finite_number(report.get("track")),
                   utc=_utc(report.get("time")))  # fmt: skip


def _utc(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class GpsdClient(SourceThread):
    source = "gnss"

    def __init__(self, address: str, put: Callable[[object], None],
                 mono: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        super().__init__(put, mono)
        host, port = address.rsplit(":", 1)
        self.host, self.port = host, int(port)
        self._said = ""

    def _run(self) -> None:
        wait = 1.0
        while not self._stop.is_set():
            try:
                self._session()
                wait = 1.0
            except OSError as exc:
                self._status(f"gpsd at {self.host}:{self.port} does not answer ({exc});"
                             " is gpsd running? tried again")  # fmt: skip
            self._stop.wait(wait)
            wait = min(30.0, wait * 2)

    def _session(self) -> None:
        with socket.create_connection((self.host, self.port), timeout=5) as sock:
            sock.settimeout(1.0)
            sock.sendall(WATCH)
            pending, quiet_since = b"", self._mono()
            while not self._stop.is_set():
                try:
                    chunk = sock.recv(4096)
                except TimeoutError:
                    if self._mono() - quiet_since > 10:
                        self._status("gpsd sends nothing: is a receiver plugged in?")
                    continue
                if not chunk:
                    raise ConnectionResetError("gpsd closed the connection")
                quiet_since = self._mono()
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    self._handle(line)
                if len(pending) > MAX_LINE:
                    self._status(f"gpsd sent a line over {MAX_LINE} bytes; connecting again")
                    return

    def _handle(self, line: bytes) -> None:
        found = parse_report(line, self._mono())
        if isinstance(found, Reading):
            self._status("")
            self._put(VehicleRead(found))
        elif isinstance(found, str):
            self._status(found)
