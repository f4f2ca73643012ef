"""The daemon in a car, on real parts: gpsd replaying a drive (gpsfake), ELM327-emulator as the
car, Mosquitto, and libVLC writing what it plays to a file whose level is measured."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from moodcast.config.settings import load_config
from moodcast.models.mood import load_taxonomy
from moodcast.player.library import Library
from moodcast.player.scan import scan
from tests.edge.car_parts import elm327, gpsfake, nmea_drive, obd_answer, ramp
from tests.edge.test_daemon import BASE, Listener, start

ROOT = Path(__file__).resolve().parents[2]


def levels_db(wav: Path, window_s: float = 0.25) -> list[float]:
    """RMS level of each window of a recorded file, dBFS."""
    import soundfile as sf

    x, rate = sf.read(str(wav), dtype="float64", always_2d=True)
    mono, n = x[:, 0], int(rate * window_s)
    return [float(20 * np.log10(np.sqrt(np.mean(mono[i:i + n] ** 2)) + 1e-9))
            for i in range(0, len(mono) - n, n)]  # fmt: skip


@pytest.fixture
def car(tmp_path: Path, make_tone, photos: Path, broker, vlc_available) -> Any:
    """A library of one long steady tone (its level moves only with the road lift)."""
    make_tone(tmp_path / "music" / "long.ogg", seconds=90, freq=440, mood="Calm", title="long")
    with Library(tmp_path / "lib.db") as lib:
        scan(lib, [tmp_path / "music"], load_taxonomy("cowen13"))
    camera = tmp_path / "camera"
    camera.mkdir()
    shutil.copy(photos / "coffee.png", camera / "a.png")
    overrides = {
        "library.path": str(tmp_path / "lib.db"), "camera.source": str(camera),
        "schedule.capture_interval_s": 1.0, "mqtt.port": broker.port, "mqtt.device_id": "shop1",
        "player.audio_output": f"file:{tmp_path / 'out.wav'}", "player.volume": 50,
        "player.fade_s": 0.5, "state_file": str(tmp_path / "state.json"),
        "web.enabled": False,
        "vehicle.road_volume": {"db_per_10kmh": 0.6, "from_kmh": 20, "max_db": 6,
                                "rate_db_s": 3.0},
    }  # fmt: skip
    listener = Listener(broker.port, ["moodcast/shop1/#", "homeassistant/#"])
    yield overrides, listener
    listener.close()


DRIVING = {"driving", "cruising", "night_drive"}


def test_the_volume_follows_the_road_and_the_state_says_the_drive(car, tmp_path: Path) -> None:
    overrides, mq = car
    drive = [0.0] * 100 + ramp(0, 120, 7) + [120.0] * 150 + ramp(120, 0, 8) + [0.0] * 60
    with gpsfake(tmp_path, nmea_drive(drive)) as address:
        config = load_config(None, {**overrides, "vehicle.gpsd": address})
        daemon, thread = start(config)
        try:
            mq.wait(lambda: (mq.state(BASE).get("vehicle") or {}).get("gnss") == "ok", 30)
            mq.wait(lambda: ((mq.state(BASE).get("vehicle") or {}).get("speed_kmh") or 0) > 119,
                    60)  # fmt: skip
            mq.wait(lambda: mq.state(BASE)["vehicle"]["road_boost_db"] >= 5.99, 30)
            # Just after pulling away from 100 s of standing, the last minutes still read as
            # stop-and-go (standing a quarter of the window, a low mean): wait until they do not.
            mq.wait(lambda: mq.state(BASE)["vehicle"]["situation"] in DRIVING, 60)
            fast = mq.state(BASE)["vehicle"]
            time.sleep(1.5)
            discovery = json.loads(mq.last("homeassistant/device/shop1/config") or b"{}")
            mq.wait(lambda: mq.state(BASE)["vehicle"]["motion"] in {"stopped", "parked"}, 60)
        finally:
            daemon.stop()
            thread.join(timeout=15)
    assert fast["speed_source"] == "gnss" and fast["motion"] == "driving"
    assert not {"lat", "lon", "position"} & set(fast)  # where the car is never leaves it
    assert fast["obd"] == "off" and fast["situation"] in DRIVING
    assert fast["road_boost_db"] >= 5.99
    assert {"speed", "situation"} <= set(discovery["cmps"])
    assert discovery["cmps"]["speed"]["unit_of_measurement"] == "km/h"
    level = levels_db(tmp_path / "out.wav")
    playing = [v for v in level if v > -60]
    quiet, loud = float(np.median(playing[8:20])), max(playing)  # after the fade-in
    assert loud - quiet == pytest.approx(6.0, abs=0.5)  # the +6 dB lift, as recorded
    # Slewed at 3 dB/s, the rise takes 2 s whatever the ticks do: heard in many steps.
    rising = [v for v in playing if quiet + 0.5 < v < loud - 0.5]
    assert len(rising) >= 4
    assert mq.state(BASE)["volume"] == 50  # the lift is not the volume the driver set


def test_the_music_fades_out_when_the_engine_stops_and_comes_back_with_it(car, tmp_path) -> None:
    overrides, mq = car
    with elm327() as ecu:
        ecu.answer["SPEED"] = obd_answer("41 0D", "32")  # 50 km/h
        config = load_config(None, {**overrides, "vehicle.obd": ecu.get_pty(),
                                    "vehicle.obd_poll_s": 0.3})  # fmt: skip
        daemon, thread = start(config)
        try:
            mq.wait(lambda: (mq.state(BASE).get("vehicle") or {}).get("engine") == "running", 40)
            mq.wait(lambda: (mq.state(BASE).get("now_playing") or {}).get("title") == "long")
            assert mq.state(BASE)["vehicle"]["speed_kmh"] == 50.0
            time.sleep(1.0)
            ecu.answer["RPM"] = obd_answer("41 0C", "00 00")  # the engine stops
            mq.wait(lambda: mq.state(BASE)["vehicle"]["engine"] == "off", 20)
            stopped_at = time.monotonic()
            mq.wait(lambda: mq.state(BASE).get("now_playing") is None, 10)
            faded_within = time.monotonic() - stopped_at
            assert mq.state(BASE)["open"] is False
            del ecu.answer["RPM"]  # the engine runs again
            mq.wait(lambda: mq.state(BASE)["vehicle"]["engine"] == "running", 20)
            mq.wait(lambda: (mq.state(BASE).get("now_playing") or {}).get("title") == "long")
        finally:
            daemon.stop()
            thread.join(timeout=15)
    assert faded_within < 5  # the fade is 2 s; the rest is MQTT and ticks (reported, not timed)


def test_sigterm_fades_the_music_out_before_the_process_ends(car, tmp_path: Path) -> None:
    overrides, _ = car
    config = {k: v for k, v in overrides.items() if not k.startswith("vehicle.")}
    path = tmp_path / "car.json"
    nested: dict[str, Any] = {}
    for key, value in {**config, "mqtt.enabled": False, "player.stop_fade_s": 1.5}.items():
        *parents, last = key.split(".")
        node = nested
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    path.write_text(json.dumps(nested))  # JSON is YAML
    proc = subprocess.Popen([sys.executable, "-m", "moodcast.edge.cli", "run", "--config",
                             str(path)], cwd=ROOT, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "HOME": str(tmp_path)})  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any("playing " in line for line in lines):
            assert proc.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.1)
        time.sleep(3.0)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0, "".join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=5)
    level = [v for v in levels_db(tmp_path / "out.wav", 0.1) if v > -90]
    full = max(level)  # the steady tone at full level
    tail = level[-15:]  # the last 1.5 s: falling, not a cut at full level
    assert tail[0] > full - 3 and tail[-1] < full - 12, tail
    assert all(b <= a + 0.5 for a, b in itertools.pairwise(tail))


def _online(mq: Listener, proc: subprocess.Popen[bytes]) -> bool:
    return mq.last("moodcast/car1/availability") == b"online" and proc.poll() is None


def _volume_is(mq: Listener, volume: int) -> bool:
    return bool(mq.state("moodcast/car1").get("volume") == volume)


def test_power_cut_mid_write_never_corrupts_the_state_or_the_library(
    tmp_path: Path, make_tone, photos: Path, broker, vlc_available
) -> None:
    """SIGKILL (the power going without warning) while commands change the state and tracks
    start (play log rows): after each, the state file and the library read back whole."""
    import sqlite3

    for i in range(6):
        make_tone(tmp_path / "music" / f"{i}.ogg", seconds=1.2, freq=300 + 40 * i, mood="Calm")
    with Library(tmp_path / "lib.db") as lib:
        scan(lib, [tmp_path / "music"], load_taxonomy("cowen13"))
    path = tmp_path / "car.json"
    path.write_text(json.dumps({
        "library": {"path": str(tmp_path / "lib.db")}, "camera": {"source": str(photos)},
        "mqtt": {"port": broker.port, "device_id": "car1"}, "web": {"enabled": False},
        "player": {"audio_output": "dummy", "crossfade_s": 0.2, "fade_s": 0.1},
        "state_file": str(tmp_path / "state.json"),
    }))  # fmt: skip
    mq = Listener(broker.port, ["moodcast/car1/#"])
    sent: list[int] = []
    try:
        for round_ in range(4):
            proc = subprocess.Popen([sys.executable, "-m", "moodcast.edge.cli", "run",
                                     "--config", str(path)], cwd=ROOT, stderr=subprocess.DEVNULL,
                                    env={**os.environ, "HOME": str(tmp_path)})  # fmt: skip
            try:
                mq.wait(partial(_online, mq, proc), 60)
                first = 11 + round_
                mq.send("moodcast/car1/cmd/volume", str(first))  # heard: it takes commands
                sent.append(first)
                mq.wait(partial(_volume_is, mq, first), 30)
                for n in range(40 + 15 * round_):  # a stream of state writes, then the cut
                    volume = 10 + (n * 7 + round_) % 80
                    mq.send("moodcast/car1/cmd/volume", str(volume))
                    sent.append(volume)
            finally:
                proc.kill()  # no SIGTERM: nothing is flushed or closed
                proc.wait(timeout=10)
            mq.messages.clear()
            state = json.loads((tmp_path / "state.json").read_text())  # whole, or this fails
            assert state["volume"] in sent
            with sqlite3.connect(tmp_path / "lib.db") as db:
                assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                assert db.execute("SELECT COUNT(*) FROM tracks").fetchone()[0] == 6
                plays = db.execute("SELECT COUNT(*) FROM plays").fetchone()[0]
        assert plays >= 4  # every start logged what it played, over every cut
    finally:
        mq.close()


def test_a_power_line_saying_the_power_goes_fades_the_music_out(car, tmp_path: Path) -> None:
    """The GPIO line's value file (here a plain file standing in for sysfs): 0 means the
    power is about to go; the music fades out as at an engine stop, and comes back at 1.
    A line that cannot be read is said, and never taken as the power going."""
    overrides, mq = car
    line = tmp_path / "gpio17-value"
    line.write_text("1\n")
    config = load_config(None, {**overrides, "vehicle.power_line": str(line)})
    daemon, thread = start(config)
    try:
        mq.wait(lambda: (mq.state(BASE).get("vehicle") or {}).get("power") == "ok", 30)
        mq.wait(lambda: (mq.state(BASE).get("now_playing") or {}).get("title") == "long")
        line.write_text("0\n")
        mq.wait(lambda: mq.state(BASE)["vehicle"]["power"] == "failing", 10)
        mq.wait(lambda: mq.state(BASE).get("now_playing") is None, 10)
        assert mq.state(BASE)["open"] is False
        line.write_text("1\n")
        mq.wait(lambda: (mq.state(BASE).get("now_playing") or {}).get("title") == "long", 20)
        line.unlink()
        mq.wait(lambda: "cannot be read" in mq.state(BASE)["vehicle"]["power"], 10)
        assert (mq.state(BASE).get("now_playing") or {}).get("title") == "long"
    finally:
        daemon.stop()
        thread.join(timeout=15)
