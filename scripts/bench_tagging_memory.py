"""Peak memory of one tagging worker, as shipped and the plain way, on the same tracks.

Run: .venv/bin/python scripts/bench_tagging_memory.py [--tracks 8] [--whole-run LIBRARY]
Each track is analysed in a fresh process (a worker's life, its peak = ru_maxrss) twice: as
shipped (3 s patches run one at a time, no ORT arena) and the plain way (every patch of the
track in one batch, ORT's default arena, the code before). Prints peak RSS, time and the
largest difference between the two runs' tag probabilities and features.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / ".cache" / "media"

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
import numpy as np
import moodcast.models.audio.tagger_session as ts
from moodcast.player import tagging
if sys.argv[2] == "plain":
    made = ts.make_session
    ts.make_session = lambda path, threads, memory="default": made(path, threads)
    ts.PATCHES_PER_RUN = 10 ** 6
t = time.perf_counter()
tags, feats = tagging.analyse_file(sys.argv[1])
print(json.dumps({"s": time.perf_counter() - t, "tags": tags, "feats": feats,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(path: Path, mode: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path), mode], cwd=ROOT,
                         capture_output=True, text=True, check=True)  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def whole_run(library: Path, env: dict[str, str]) -> tuple[dict[int, int], float]:
    """`moodcast tag --workers 2 --force` on a copy of ``library``: each process's peak
    resident memory (VmHWM, polled every 50 ms: loudness and analysis in one worker, as
    shipped) and the run's seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp, "library.db")
        shutil.copyfile(library, copy)
        started = time.monotonic()
        proc = subprocess.Popen([str(ROOT / ".venv/bin/moodcast"), "tag", "--library", str(copy),
                                 "--workers", "2", "--force"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env={**os.environ, **env})  # fmt: skip
        peaks: dict[int, int] = {}
        while proc.poll() is None:
            for pid in [proc.pid, *_children(proc.pid)]:
                peak = _hwm_mb(pid)
                if peak is not None:
                    peaks[pid] = max(peaks.get(pid, 0), peak)
            time.sleep(0.05)
        return peaks, time.monotonic() - started


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            out += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    except OSError:
        pass
    return out


def _hwm_mb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM"):
                return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tracks", type=int, default=8)
    parser.add_argument(
        "--whole-run",
        type=Path,
        metavar="LIBRARY",
        help="instead: peaks of the real command's workers on this library,"
        " with glibc's defaults and with a fixed 1 MiB mmap threshold",
    )
    args = parser.parse_args()
    if args.whole_run:
        fixed = {"MALLOC_MMAP_THRESHOLD_": "1048576"}
        for label, env in (("glibc defaults", {}), ("MALLOC_MMAP_THRESHOLD_=1048576", fixed)):
            peaks, seconds = whole_run(args.whole_run, env)
            workers = sorted(peaks.values())[-2:]
            print(f"| {label} | {workers} | {max(peaks.values())} | {seconds:.1f} |")
        return
    tracks = sorted((MEDIA / "music").glob("*.ogg"))[: args.tracks]
    print("| track | length of file | peak MB shipped | peak MB plain | s shipped | s plain |"
          " max tag diff | max feature diff |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for path in tracks:
        new, old = run(path, "shipped"), run(path, "plain")
        tags_new, tags_old = dict(new["tags"]), dict(old["tags"])  # type: ignore[call-overload]
        feats_new, feats_old = dict(new["feats"]), dict(old["feats"])  # type: ignore[call-overload]
        dt = max(abs(tags_new[k] - tags_old[k]) for k in tags_old)
        df = max(abs(feats_new[k] - feats_old[k]) for k in feats_old)
        print(f"| {path.name} | {path.stat().st_size / 1e6:.1f} MB | {new['peak_mb']:.0f} |"
              f" {old['peak_mb']:.0f} | {new['s']:.2f} | {old['s']:.2f} | {dt:.1e} |"
              f" {df:.1e} |")  # fmt: skip


if __name__ == "__main__":
    main()
