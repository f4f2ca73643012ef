"""Seconds from `moodcast run` starting to the first track playing, as when a car's ignition
powers the box up: the demo library (scripts/demo.sh makes it), the demo photographs as the
camera, no broker, no page, a power line that says the power is fine.

    .venv/bin/python scripts/bench_startup.py                  # the demo library (16 tracks)
    .venv/bin/python scripts/bench_startup.py --tracks 100000  # beside it, in one run

With ``--tracks N`` a copy of the demo library grows to N tracks (links to its files, their
moods copied) and the two starts alternate, so that both meet the same machine. Figures in
docs/car.md and docs/benchmarks-core.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def grown(source: Path, folder: Path, count: int) -> Path:
    """A copy of ``source`` holding ``count`` tracks: links to its files, moods copied."""
    target = folder / "library.db"
    shutil.copyfile(source, target)
    links = folder / "music"
    links.mkdir()
    db = sqlite3.connect(target)
    cols = [r[1] for r in db.execute("PRAGMA table_info(tracks)") if r[1] not in ("id", "path")]
    originals = db.execute("SELECT id, path FROM tracks WHERE status = 'ok'").fetchall()
    have = db.execute("SELECT count(*) FROM tracks").fetchone()[0]
    with db:
        for n in range(count - have):
            track_id, path = originals[n % len(originals)]
            link = links / f"{n:06d}{Path(path).suffix}"
            link.symlink_to(path)
            new = db.execute(
                f"INSERT INTO tracks (path, {', '.join(cols)}) SELECT ?, {', '.join(cols)}"
                " FROM tracks WHERE id = ? RETURNING id",
                (str(link), track_id),
            ).fetchone()[0]
            db.execute("INSERT INTO track_moods SELECT ?, source, taxonomy, mood, valence,"
                       " arousal, probabilities, tags, updated_at FROM track_moods"
                       " WHERE track_id = ?", (new, track_id))  # fmt: skip
    db.close()
    return target


def first_track_s(config: Path, home: Path) -> float:
    started = time.monotonic()
    proc = subprocess.Popen([str(ROOT / ".venv/bin/moodcast"), "run", "--config", str(config)],
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "HOME": str(home)})  # fmt: skip
    assert proc.stderr is not None
    try:
        for line in proc.stderr:
            if "playing " in line:
                return time.monotonic() - started
        raise SystemExit(f"the daemon ended before playing (exit {proc.wait()})")
    finally:
        proc.terminate()
        proc.wait()


def write_config(home: Path, library: Path, name: str) -> Path:
    config = home / f"{name}.json"
    config.write_text(json.dumps({
        "library": {"path": str(library)},
        "camera": {"source": str(ROOT / ".cache/media/photos")},
        "mqtt": {"enabled": False}, "web": {"enabled": False},
        "player": {"audio_output": "dummy"}, "state_file": str(home / f"{name}-state.json"),
        "vehicle": {"power_line": str(home / "line")},
    }))  # fmt: skip
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tracks", type=int, help="also start on a library of this many tracks")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    library = ROOT / ".cache/demo/library.db"
    if not library.is_file():
        sys.exit("no demo library: run scripts/demo.sh first")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / "line").write_text("1")
        configs = {"demo": write_config(home, library, "demo")}
        if args.tracks:
            big = home / "big"
            big.mkdir()
            made = time.monotonic()
            configs[f"{args.tracks}"] = write_config(home, grown(library, big, args.tracks), "big")
            print(f"library of {args.tracks} tracks made in {time.monotonic() - made:.0f} s")
        times: dict[str, list[float]] = {name: [] for name in configs}
        for run in range(args.runs):
            for name, config in configs.items():
                times[name].append(first_track_s(config, home))
                print(f"run {run + 1}, {name} library: first track playing after"
                      f" {times[name][-1]:.2f} s")  # fmt: skip
        medians = {name: statistics.median(t) for name, t in times.items()}
        print("medians: " + ", ".join(f"{n} {m:.2f} s" for n, m in medians.items()))
        if args.tracks:
            print(f"ratio {medians[str(args.tracks)] / medians['demo']:.2f}×")


if __name__ == "__main__":
    main()
