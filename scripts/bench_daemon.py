"""Benchmark the daemon on this machine: time to first sound, CPU between captures, memory,
and latency from a camera frame to the state update on MQTT.

Run: .venv/bin/python scripts/bench_daemon.py [--out docs/benchmarks-daemon.md]
Needs mosquitto, libVLC and the media of scripts/fetch_media.sh. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from scripts.benchlib import (  # noqa: E402
    emit,
    proc_cpu_seconds,
    proc_status,
    start_broker,
    status_mb,
    table,
)

MEDIA = ROOT / ".cache" / "media"


class Watcher:
    def __init__(self, port: int, topic: str) -> None:
        self.arrivals: list[tuple[float, str, bytes]] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = lambda _c, _u, m: self.arrivals.append(
            (time.monotonic(), m.topic, bytes(m.payload))
        )
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(topic)
        self.client.loop_start()

    def first(self, suffix: str, timeout: float = 30.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, topic, _ in list(self.arrivals):
                if topic.endswith(suffix):
                    return at
            time.sleep(0.005)
        raise TimeoutError(suffix)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def proc_memory(pid: int) -> tuple[float, float]:
    status = proc_status(pid)
    return status_mb(status, "VmRSS"), status_mb(status, "VmHWM")


def scan_library(tmp: Path) -> Path:
    db = tmp / "lib.db"
    subprocess.run(
        [str(ROOT / ".venv/bin/moodcast"), "scan", str(MEDIA / "music"), "--library", str(db)],
        check=True,
        capture_output=True,
    )
    return db


def run_daemon(db: Path, port: int, tmp: Path, interval: float, people: str) -> dict[str, Any]:
    """``people``: off, HOG or objects (the SSD detector, reading what it saw as text)."""
    config = tmp / f"bench-{interval}-{people}.yaml"
    config.write_text(
        json.dumps(
            {
                "library": {"path": str(db)},
                "camera": {"source": str(MEDIA / "video" / "vtest.avi")},
                "schedule": {"capture_interval_s": interval},
                "reader": {
                    "people_detection": people != "off",
                    "objects": {"enabled": people == "objects"},
                },
                "player": {"audio_output": "dummy"},
                "mqtt": {"port": port, "device_id": "bench"},
                "state_file": str(tmp / "state.json"),
            }
        )
    )
    watcher = Watcher(port, "moodcast/bench/#")
    start = time.monotonic()
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/moodcast"), "--config", str(config), "run"],
        stderr=subprocess.DEVNULL,
    )
    first_sound = watcher.first("/event/track_started") - start
    time.sleep(5)  # settle: imports done, first capture and track started
    cpu0, t0 = proc_cpu_seconds(proc.pid), time.monotonic()
    time.sleep(60)
    cpu = (proc_cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - t0) * 100
    rss, peak = proc_memory(proc.pid)
    threads = len(os.listdir(f"/proc/{proc.pid}/task"))
    proc.terminate()
    proc.wait(timeout=30)
    watcher.close()
    return {"first_sound_s": first_sound, "cpu_pct": cpu, "rss_mb": rss, "peak_mb": peak,
            "threads": threads}  # fmt: skip


def frame_to_state_latency(db: Path, port: int, tmp: Path, samples: int = 20) -> list[float]:
    """In-process: from the start of a capture job to the state message arriving on MQTT."""
    from moodcast.config.settings import load_config
    from moodcast.edge.daemon import Daemon, EventLoop

    config = load_config(
        None,
        {
            "library.path": str(db),
            "camera.source": str(MEDIA / "video" / "vtest.avi"),
            "schedule.capture_interval_s": 1.0,
            "reader.people_detection": False,
            "player.audio_output": "dummy",
            "mqtt.port": port,
            "mqtt.device_id": "latency",
            "state_file": str(tmp / "state-latency.json"),
        },
    )
    daemon = Daemon(config)
    starts: list[float] = []
    original = EventLoop.capture

    def timed_capture(self: EventLoop) -> None:
        starts.append(time.monotonic())
        original(self)

    EventLoop.capture = timed_capture  # type: ignore[method-assign]
    watcher = Watcher(port, "moodcast/latency/state")
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    time.sleep(samples + 3)
    daemon.stop()
    thread.join(timeout=30)
    EventLoop.capture = original  # type: ignore[method-assign]
    watcher.close()
    latencies = []
    for start in starts[2:]:
        after = [at for at, _, _ in watcher.arrivals if at >= start]
        if after:
            latencies.append((min(after) - start) * 1000)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if shutil.which("mosquitto") is None or not (MEDIA / "video" / "vtest.avi").exists():
        sys.exit("needs mosquitto and scripts/fetch_media.sh")
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        broker, port = start_broker(tmp)
        try:
            db = scan_library(tmp)
            variants = ((10.0, "off"), (10.0, "HOG"), (10.0, "objects"), (1.0, "off"))
            for interval, people in variants:
                r = run_daemon(db, port, tmp, interval, people)
                label = f"capture every {interval:g} s, people count: {people}"
                rows.append((f"time from `moodcast run` to first track started ({label})",
                             f"{r['first_sound_s']:.2f} s"))  # fmt: skip
                rows.append(
                    (
                        f"CPU, 60 s average while playing ({label})",
                        f"{r['cpu_pct']:.1f} % of one core",
                    )
                )
                memory = f"{r['rss_mb']:.0f} MB / {r['peak_mb']:.0f} MB, {r['threads']} threads"
                rows.append((f"resident memory, steady / peak ({label})", memory))
            lat = frame_to_state_latency(db, port, tmp)
            latency = f"{statistics.median(lat):.0f} ms / {max(lat):.0f} ms ({len(lat)} frames)"
            rows.append(("frame → state on MQTT (capture start to message), median / max", latency))
        finally:
            broker.terminate()
    header = (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; audio output dummy, camera OpenCV's vtest.avi"
    )
    emit(table(header, rows), args.out)


if __name__ == "__main__":
    main()
