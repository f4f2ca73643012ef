"""Peak memory of one tagging worker, as shipped and the plain way, on the same tracks.

Run: .venv/bin/python scripts/bench_tagging_memory.py [--tracks 8]
Each track is analysed in a fresh process (a worker's life, its peak = ru_maxrss) twice: as
shipped (3 s patches run one at a time, no ORT arena) and the plain way (every patch of the
track in one batch, ORT's default arena, the code before). Prints peak RSS, time and the
largest difference between the two runs' tag probabilities and features.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tracks", type=int, default=8)
    args = parser.parse_args()
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
