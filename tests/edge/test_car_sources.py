"""The car's sources on real parts: Debian's gpsd fed by gpsfake, ELM327-emulator over a pty
to the real python-OBD client; and a hostile gpsd beside them (a socket that sends junk)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moodcast.config.settings import VehicleSettings
from moodcast.edge.car.gnss import GpsdClient
from moodcast.edge.car.obd_link import ObdPoller
from moodcast.edge.car.signals import Reading
from moodcast.edge.car.sun import daylight
from moodcast.edge.car.vehicle import Vehicle
from moodcast.edge.events import EventQueue, VehicleRead, VehicleStatus
from tests.conftest import free_port, wait_until
from tests.edge.car_parts import elm327, gpsfake, nmea_drive, obd_answer, ramp


class Collector:
    """What the daemon's thread would see: every event, in order."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.lock = threading.Lock()

    def put(self, event: Any) -> None:
        with self.lock:
            self.events.append(event)

    def readings(self, source: str) -> list[Reading]:
        with self.lock:
            return [e.reading for e in self.events
                    if isinstance(e, VehicleRead) and e.reading.source == source]  # fmt: skip

    def problems(self, source: str) -> list[str]:
        with self.lock:
            return [e.problem for e in self.events
                    if isinstance(e, VehicleStatus) and e.source == source]  # fmt: skip

    def wait(self, check: Callable[[], bool], timeout: float = 30.0) -> None:
        wait_until(check, timeout, f"events: {self.events[-6:]}")


def test_a_drive_through_gpsd_speeds_up_stops_at_lights_and_parks(tmp_path: Path) -> None:
    speeds = ([0.0] * 3 + ramp(0, 120, 7) + [120.0] * 15 + ramp(120, 0, 8) + [0.0] * 8
              + ramp(0, 50, 7) + ramp(50, 0, 7) + [0.0] * 40)  # fmt: skip
    got = Collector()
    vehicle = Vehicle(VehicleSettings(gpsd="x:1", parked_after_s=5.0, stale_s=5.0))
    motions: list[str] = []
    with gpsfake(tmp_path, nmea_drive(speeds)) as address:
        client = GpsdClient(address, got.put)
        client.start()
        try:
            seen = 0
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and motions[-1:] != ["parked"]:
                for reading in got.readings("gnss")[seen:]:
                    assert vehicle.on_reading(reading) == "", reading
                    seen += 1
                now = time.monotonic()
                vehicle.tick(now, time.time())
                motion = vehicle.view(now, time.time()).motion
                if not motions or motions[-1] != motion:
                    motions.append(motion)
                time.sleep(0.05)
        finally:
            client.stop()
    top = max(r.speed_kmh or 0.0 for r in got.readings("gnss"))
    assert abs(top - 120.0) < 1.0
    assert motions[-1] == "parked"
    # driving, then standing at the lights (stopped), driving again, and parked at the end
    assert "stopped" in motions and motions.index("stopped") > motions.index("driving")
    assert motions.count("driving") >= 2
    reading = got.readings("gnss")[-1]
    assert reading.lat is not None and 52.52 < reading.lat < 52.55 and reading.utc is not None
    now = time.monotonic()
    assert vehicle.view(now, time.time()).daylight == daylight(52.53, 13.405, time.time())
    # A box whose clock was never set (no network in the car) takes GNSS's time: 12:00 UTC.
    unset = vehicle.view(now, 0.0)
    assert unset.daylight == "day" and "GNSS says 2026-12-03 12:0" in unset.clock


def test_gpsd_without_a_fix_and_without_gpsd_are_said(tmp_path: Path) -> None:
    got = Collector()
    with gpsfake(tmp_path, nmea_drive([0.0] * 30, fix=False)) as address:
        client = GpsdClient(address, got.put)
        client.start()
        try:
            got.wait(lambda: any("no fix" in p for p in got.problems("gnss")))
        finally:
            client.stop()
    assert all(r.speed_kmh is None for r in got.readings("gnss"))  # nothing moves without a fix
    closed = Collector()
    client = GpsdClient(f"127.0.0.1:{free_port()}", closed.put)
    client.start()
    try:
        closed.wait(lambda: any("does not answer" in p and "is gpsd running" in p
                                for p in closed.problems("gnss")))  # fmt: skip
    finally:
        client.stop()


def test_junk_from_gpsd_is_said_and_the_next_report_read() -> None:
    """A gpsd (or something on its port) that sends junk, a line without end, then a fix."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    tpv = (b'{"class":"TPV","mode":3,"time":"2026-12-03T12:00:00.000Z","lat":52.5,'
           b'"lon":13.4,"speed":10.0,"track":90.0}\n')  # fmt: skip

    def serve() -> None:
        first, _ = server.accept()
        first.recv(100)
        first.sendall(b"\xff\xfe not json\n" + b"x" * 70_000)  # junk, then a line over the cap
        time.sleep(0.5)
        first.close()
        second, _ = server.accept()
        second.recv(100)
        huge = b'{"class":"TPV","mode":3,"speed":1' + b"0" * 400 + b"}\n"  # 10**400: no float
        second.sendall(b'{"class":"VERSION"}\n' + huge + tpv)
        time.sleep(2)
        second.close()

    threading.Thread(target=serve, daemon=True).start()
    got = Collector()
    client = GpsdClient(f"127.0.0.1:{port}", got.put)
    client.start()
    try:
        got.wait(lambda: any(r.speed_kmh == 36.0 for r in got.readings("gnss")))
    finally:
        client.stop()
        server.close()
    problems = got.problems("gnss")
    assert any("not JSON" in p for p in problems) and any("over 65536" in p for p in problems)
    assert got.readings("gnss")[0].speed_kmh is None  # the 10**400 one: no speed, read on
    assert problems[-1] == ""


def test_obd_through_an_elm327_reads_speed_and_rpm_and_hears_the_engine_stop() -> None:
    got = Collector()
    with elm327() as ecu:
        poller = ObdPoller(ecu.get_pty(), 0.2, got.put)
        poller.start()
        try:
            got.wait(lambda: len(got.readings("obd")) >= 3)
            first = got.readings("obd")[0]
            assert first.speed_kmh is not None and first.rpm is not None and first.rpm > 0
            assert first.engine_running is True and got.problems("obd")[-1] == ""
            ecu.answer["SPEED"] = obd_answer("41 0D", "78")  # 120 km/h
            got.wait(lambda: got.readings("obd")[-1].speed_kmh == 120.0)
            ecu.answer["RPM"] = obd_answer("41 0C", "00 00")  # the engine stands
            got.wait(lambda: got.readings("obd")[-1].engine_running is False)
            ecu.answer["SPEED"] = "GARBAGE 12 ?"  # an adapter that answers junk, then nothing
            ecu.answer["RPM"] = "GARBAGE 34 ?"
            got.wait(lambda: "the car does not answer: ignition off?" in got.problems("obd"))
            assert got.readings("obd")[-1].engine_running is False
        finally:
            poller.stop()


def test_no_adapter_is_said_and_tried_again() -> None:
    got = Collector()
    poller = ObdPoller("/dev/moodcast-no-such-adapter", 0.5, got.put)
    poller.start()
    try:
        got.wait(lambda: any("/dev/moodcast-no-such-adapter" in p for p in got.problems("obd")))
    finally:
        poller.stop()
    assert not got.readings("obd")


def test_events_of_each_source_coalesce_but_never_mix() -> None:
    queue = EventQueue()
    for kmh in (10.0, 20.0, 30.0):
        queue.put(VehicleRead(Reading(source="gnss", at=kmh, speed_kmh=kmh)))
    queue.put(VehicleRead(Reading(source="obd", at=1.0, speed_kmh=5.0)))
    first, second = queue.get(0.1), queue.get(0.1)
    assert (first.reading.source, first.reading.speed_kmh) == ("gnss", 30.0)
    assert second.reading.source == "obd" and queue.get(0.01) is None


def test_a_car_without_the_speed_pid_is_said_and_rpm_still_read() -> None:
    got = Collector()
    with elm327() as ecu:
        ecu.answer["ELM_PIDS_A"] = obd_answer("41 00", "BE 37 A8 13")  # 0x0D (speed) cleared
        poller = ObdPoller(ecu.get_pty(), 0.3, got.put)
        poller.start()
        try:
            got.wait(lambda: "the car answers no speed PID: speed from GNSS only"
                     in got.problems("obd"))  # fmt: skip
            got.wait(lambda: bool(got.readings("obd")))
            reading = got.readings("obd")[-1]
            assert reading.speed_kmh is None and reading.engine_running is True
        finally:
            poller.stop()
