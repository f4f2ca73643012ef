"""Soak test: run the daemon for a long time on real parts and watch for growth.

Runs `moodcast run` with a fast capture interval against a real Mosquitto (started here) and
real libVLC, pokes it over MQTT now and then (volume, skip, mood override), and samples its
resident memory, threads, open files and CPU. Writes a CSV, a PNG chart (drawn with OpenCV, no
plotting library needed) and a summary with the growth trend.

Run: .venv/bin/python scripts/soak.py --minutes 60 --out docs/soak
Needs scripts/fetch_media.sh media, mosquitto and libVLC. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.benchlib import proc_cpu_seconds, proc_status, start_broker, status_mb  # noqa: E402

MEDIA = ROOT / ".cache" / "media"


def sample(pid: int) -> tuple[float, float, int, int, float]:
    """RSS, its anonymous part (heap; the rest is mapped library code), threads, files, CPU s."""
    status = proc_status(pid)
    files = len(os.listdir(f"/proc/{pid}/fd"))
    return (status_mb(status, "VmRSS"), status_mb(status, "RssAnon"), int(status["Threads"]),
            files, proc_cpu_seconds(pid))  # fmt: skip


def poke(port: int, i: int) -> None:
    """Exercise the command path: a few commands, a bad one, a skip."""
    from paho.mqtt import publish

    base = "moodcast/soak/cmd"
    msgs = [
        (f"{base}/volume", str(40 + i % 40)),
        (f"{base}/mood", json.dumps({"mood": ["calm", "joyful", "auto"][i % 3], "minutes": 1})),
        (f"{base}/volume", "loud"),
        (f"{base}/skip", ""),
    ]
    publish.multiple([{"topic": t, "payload": p} for t, p in msgs], hostname="127.0.0.1",
                     port=port)  # fmt: skip


LABELS = {"rss_mb": "RSS MB", "anon_mb": "anonymous (heap) MB", "threads": "threads",
          "open_files": "open files", "cpu_percent": "CPU % of a core"}  # fmt: skip
HEADER = ["seconds", "rss_mb", "anon_mb", "threads", "open_files", "cpu_percent"]


def chart(header: list[str], rows: list[list[float]], path: Path) -> None:
    """Stacked line charts, one per column after the time, as a PNG.

    Memory panels are scaled to their own range (a creep of a few MB must be visible);
    counts and CPU start at zero.
    """
    width, height, pad = 900, 180, 60
    series = [(LABELS.get(name, name), col) for col, name in enumerate(header) if col]
    img = np.full((height * len(series), width, 3), 255, np.uint8)
    t = np.array([r[0] for r in rows]) / 60
    for k, (label, col) in enumerate(series):
        y = np.array([r[col] for r in rows], dtype=float)
        top = k * height
        if "MB" in label:
            lo, hi = float(np.floor(y.min() - 2)), float(np.ceil(y.max() + 2))
        else:
            lo, hi = 0.0, max(float(y.max()) * 1.2, 1.0)
        cv2.rectangle(img, (pad, top + 20), (width - 10, top + height - 25), (200, 200, 200), 1)
        xs = pad + (t / max(t.max(), 1e-6)) * (width - pad - 10)
        ys = top + height - 25 - (y - lo) / (hi - lo) * (height - 45)
        pts = np.stack([xs, ys], axis=1).astype(np.int32)
        cv2.polylines(img, [pts], False, (180, 60, 20), 2)
        text = f"{label} (min {y.min():.1f}, max {y.max():.1f}, last {y[-1]:.1f})"
        cv2.putText(img, text, (pad, top + 15), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
        for value, yy in ((hi, top + 28), (lo, top + height - 25)):
            cv2.putText(img, f"{value:.0f}", (4, yy), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
        cv2.putText(img, f"{t.max():.0f} min", (width - 70, top + height - 8),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)  # fmt: skip
    cv2.imwrite(str(path), img)


def replot(csv_path: Path) -> None:
    """Draw the chart of an earlier run again from its CSV (whatever columns it has)."""
    with csv_path.open() as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [[float(v) for v in row] for row in reader]
    chart(header, rows, csv_path.with_suffix(".png"))


def prepare(tmp: Path, interval: float) -> tuple[subprocess.Popen[bytes], int, Path]:
    """A broker, a scanned and tagged library of real music, and the daemon's config."""
    mc = str(ROOT / ".venv/bin/moodcast")
    broker, port = start_broker(tmp)
    db = tmp / "lib.db"
    subprocess.run([mc, "scan", str(MEDIA / "music"), str(MEDIA / "wesnoth"), "--library",
                    str(db)], check=True, capture_output=True)  # fmt: skip
    subprocess.run([mc, "tag", "--library", str(db), "--workers", "2"], check=True,
                   capture_output=True)  # fmt: skip
    config = tmp / "soak.yaml"
    config.write_text(json.dumps({
        "library": {"path": str(db)},
        "camera": {"source": str(MEDIA / "video" / "vtest.avi")},
        "schedule": {"capture_interval_s": interval},
        "reader": {"people_detection": True},
        "player": {"audio_output": "dummy", "crossfade_s": 3},
        "smoothing": {"half_life_s": 10, "min_dwell_s": 10},
        "mqtt": {"port": port, "device_id": "soak"},
        "state_file": str(tmp / "state.json"),
    }))  # fmt: skip
    return broker, port, config


def watch(proc: subprocess.Popen[bytes], port: int, minutes: float) -> list[list[float]]:
    rows: list[list[float]] = []
    start = time.monotonic()
    last_cpu, last_t = 0.0, start
    i = 0
    while time.monotonic() - start < minutes * 60:
        time.sleep(10)
        if proc.poll() is not None:
            sys.exit(f"daemon exited with {proc.returncode}")
        rss, anon, threads, files, cpu = sample(proc.pid)
        now = time.monotonic()
        load = (cpu - last_cpu) / (now - last_t) * 100 if rows else 0.0
        rows.append([now - start, rss, anon, threads, files, load])
        last_cpu, last_t = cpu, now
        if i % 6 == 0:
            poke(port, i // 6)
        i += 1
    return rows


def report(rows: list[list[float]], errors: int, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.with_suffix(".csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows([[round(v, 2) for v in r] for r in rows])
    chart(HEADER, rows, out.with_suffix(".png"))
    steady = rows[len(rows) // 5 :]
    hours = np.array([r[0] for r in steady]) / 3600

    def trend(col: int) -> float:
        values = np.array([r[col] for r in steady])
        return round(float(np.polyfit(hours, values, 1)[0]), 2) if len(steady) > 2 else 0.0

    summary = {
        "minutes": round(rows[-1][0] / 60, 1),
        "samples": len(rows),
        "rss_mb_first_last_max": [round(rows[0][1], 1), round(rows[-1][1], 1),
                                  round(max(r[1] for r in rows), 1)],
        "rss_trend_mb_per_hour_after_warmup": trend(1),
        "anon_mb_first_last_max": [round(rows[0][2], 1), round(rows[-1][2], 1),
                                   round(max(r[2] for r in rows), 1)],
        "anon_trend_mb_per_hour_after_warmup": trend(2),
        "threads_min_max": [min(r[3] for r in rows), max(r[3] for r in rows)],
        "open_files_min_max": [min(r[4] for r in rows), max(r[4] for r in rows)],
        "cpu_percent_mean": round(float(np.mean([r[5] for r in rows[1:]])), 2),
        "daemon_error_lines": errors,
    }  # fmt: skip
    out.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--interval", type=float, default=1.0, help="capture interval, s")
    parser.add_argument("--out", type=Path, default=Path("docs/soak"))
    parser.add_argument("--replot", type=Path, metavar="CSV", help="only redraw a run's chart")
    args = parser.parse_args()
    if args.replot:
        replot(args.replot)
        return
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        broker, port, config = prepare(tmp, args.interval)
        log = (tmp / "daemon.log").open("w")
        mc = str(ROOT / ".venv/bin/moodcast")
        proc = subprocess.Popen([mc, "--config", str(config), "run"], stderr=log)
        try:
            rows = watch(proc, port, args.minutes)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            broker.terminate()
        errors = (tmp / "daemon.log").read_text().count(" ERROR ")
    report(rows, errors, args.out)


if __name__ == "__main__":
    main()
