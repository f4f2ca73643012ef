"""OBD-II through an ELM327 adapter (python-OBD): speed, RPM and whether the engine runs.

A thread of its own opens the adapter (``vehicle.obd``: a device, or ``auto`` to let
python-OBD try the serial ports), asks for speed and RPM every ``obd_poll_s``, and hands each
answer to the daemon as a :class:`Reading` (``put`` only enqueues). RPM 0 means the engine
stands; an ECU that stops answering after it answered (three polls) is taken as the ignition
going off. No adapter, an adapter that answers garbage, a car without the speed PID: each
said as the source's problem; the thread opens the adapter again, waiting longer each time
up to 30 s, until it is stopped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from moodcast.edge.car.signals import Reading
from moodcast.edge.car.source import SourceThread
from moodcast.edge.events import VehicleRead

logger = logging.getLogger(__name__)

SILENT_POLLS = 3  # unanswered polls in a row after answers: the ignition went off


def _connect(port: str, timeout: float) -> Any:
    try:
        import obd
    except ImportError as exc:
        raise RuntimeError("python-OBD is not installed: pip install 'moodcast[car]'") from exc

    obd.logger.setLevel(logging.CRITICAL)  # its own log says every failed poll at length
    return obd.OBD(None if port == "auto" else port, fast=False, timeout=timeout,
                   check_voltage=False)  # fmt: skip


def reading_from(speed: Any, rpm: Any, at: float) -> Reading | None:
    """A Reading from python-OBD's answers (None when neither says anything)."""
    kmh = _magnitude(speed, "kph")
    turns = _magnitude(rpm, "rpm")
    if kmh is None and turns is None:
        return None
    running = None if turns is None else turns > 0
    return Reading(source="obd", at=at, speed_kmh=kmh, rpm=turns, engine_running=running)


def _magnitude(response: Any, unit: str) -> float | None:
    value = getattr(response, "value", None)
    if value is None:
        return None
    try:
        return float(value.to(unit).magnitude)
    except Exception:  # pint raises many kinds for a value in the wrong unit
        return None


class ObdPoller(SourceThread):
    source = "obd"

    def __init__(self, port: str, poll_s: float, put: Callable[[object], None],
                 mono: Callable[[], float] = time.monotonic,
                 connect: Callable[[str, float], Any] = _connect) -> None:  # fmt: skip
        super().__init__(put, mono, join_s=10.0)
        self.port, self.poll_s, self._connect = port, poll_s, connect

    def _run(self) -> None:
        wait = 2.0
        while not self._stop.is_set():
            try:
                connection = self._connect(self.port, max(1.0, self.poll_s))
            except Exception as exc:  # python-OBD and pyserial raise many kinds
                connection, problem = (
                    None,
                    f"the OBD adapter at {self.port} cannot be opened ({exc})",
                )
            else:
                problem = ""
                if not connection.is_connected():
                    problem = (f"no OBD adapter answers at {self.port} ({connection.status()}):"
                               " is it plugged in and the ignition on?")  # fmt: skip
            if problem:
                self._status(problem)
                _close(connection)
                self._stop.wait(wait)
                wait = min(30.0, wait * 2)
                continue
            wait = 2.0
            try:
                self._poll(connection)
            finally:
                _close(connection)

    def _poll(self, connection: Any) -> None:
        import obd

        speed_pid = connection.supports(obd.commands.SPEED)
        self._status("" if speed_pid else "the car answers no speed PID: speed from GNSS only")
        answered, silent = False, 0
        while not self._stop.is_set():
            started = self._mono()
            try:
                speed = connection.query(obd.commands.SPEED) if speed_pid else None
                rpm = connection.query(obd.commands.RPM)
            except Exception as exc:  # the adapter went away mid-question
                self._status(f"the OBD adapter stopped answering ({exc}); opening it again")
                return
            found = reading_from(speed, rpm, self._mono())
            if found is not None:
                answered, silent = True, 0
                if speed_pid:
                    self._status("")
                self._put(VehicleRead(found))
            else:
                silent += 1
                if answered and silent >= SILENT_POLLS:  # said at every poll, so it stays fresh
                    self._status("the car does not answer: ignition off?")
                    self._put(VehicleRead(Reading(source="obd", at=self._mono(),
                                                  engine_running=False)))  # fmt: skip
                if connection.status() != obd.OBDStatus.CAR_CONNECTED:
                    return
            self._stop.wait(max(0.0, self.poll_s - (self._mono() - started)))


def _close(connection: Any) -> None:
    if connection is not None:
        try:
            connection.close()
        except Exception:  # closing a port that went away: nothing left to do
            logger.debug("closing the OBD connection failed", exc_info=True)
