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


def write_config(tmp: Path, db: Path, port: int, interval: float, people: str,
                 web_port: int | None = None) -> Path:  # fmt: skip
    """``people``: off, HOG or objects (the SSD detector, reading what it saw as text)."""
    config = tmp / f"bench-{interval}-{people}-{web_port}.yaml"
    web = {"enabled": web_port is not None, "port": web_port or 8470}
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
                "web": web,
                "state_file": str(tmp / "state.json"),
            }
        )
    )
    return config


def run_daemon(db: Path, port: int, tmp: Path, interval: float, people: str) -> dict[str, Any]:
    config = write_config(tmp, db, port, interval, people)
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


def web_costs(db: Path, port: int, tmp: Path, seconds: float = 60.0) -> list[tuple[str, str]]:
    """The daemon's CPU with the page off, on but closed, and open in headless Chromium
    (the browser's own CPU not counted), and the page's first load until its first live view."""
    from playwright.sync_api import sync_playwright

    from tests.conftest import free_port

    rows = []
    for mode in ("page off (web.enabled: false)", "page on, no browser", "page open"):
        web_port = None if mode.startswith("page off") else free_port()
        config = write_config(tmp, db, port, 10.0, "off", web_port)
        watcher = Watcher(port, "moodcast/bench/#")
        proc = subprocess.Popen([str(ROOT / ".venv/bin/moodcast"), "--config", str(config), "run"],
                                stderr=subprocess.DEVNULL)  # fmt: skip
        watcher.first("/event/track_started")
        time.sleep(5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            loads = []
            if mode == "page open":
                page = browser.new_page()
                for _ in range(5):
                    t0 = time.perf_counter()
                    page.goto(f"http://127.0.0.1:{web_port}/")
                    while page.evaluate("document.getElementById('link').textContent") != "live":
                        time.sleep(0.005)
                    loads.append((time.perf_counter() - t0) * 1000)
            cpu0, t0 = proc_cpu_seconds(proc.pid), time.monotonic()
            time.sleep(seconds)
            cpu = (proc_cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - t0) * 100
            browser.close()
        rss, _ = proc_memory(proc.pid)
        proc.terminate()
        proc.wait(timeout=30)
        watcher.close()
        rows.append((f"daemon CPU, {seconds:.0f} s average, capture every 10 s ({mode})",
                     f"{cpu:.2f} % of one core, {rss:.0f} MB resident"))  # fmt: skip
        if loads:
            rows.append(("page's first load to its first live view (5 loads), median / max",
                         f"{statistics.median(loads):.0f} ms / {max(loads):.0f} ms"))  # fmt: skip
    return rows


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
    parser.add_argument("--web-only", action="store_true", help="only the page's costs")
    args = parser.parse_args()
    if shutil.which("mosquitto") is None or not (MEDIA / "video" / "vtest.avi").exists():
        sys.exit("needs mosquitto and scripts/fetch_media.sh")
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        broker, port = start_broker(tmp)
        try:
            db = scan_library(tmp)
            rows += web_costs(db, port, tmp)
            variants: tuple[tuple[float, str], ...] = (
                (10.0, "off"), (10.0, "HOG"), (10.0, "objects"), (1.0, "off"))  # fmt: skip
            if args.web_only:
                variants = ()
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
            if not args.web_only:
                lat = frame_to_state_latency(db, port, tmp)
                latency = f"{statistics.median(lat):.0f} ms / {max(lat):.0f} ms ({len(lat)} frames)"
                rows.append(("frame → state on MQTT (capture start to message), median / max",
                             latency))  # fmt: skip
        finally:
            broker.terminate()
    header = (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; audio output dummy, camera OpenCV's vtest.avi"
    )
    emit(table(header, rows), args.out)


if __name__ == "__main__":
    main()
