"""Tag real music from Debian packages and measure throughput; writes docs/tagging.md tables.

Run: .venv/bin/python scripts/bench_tagging.py [--out docs/tagging-results.md]
Uses .cache/media (scripts/fetch_media.sh): 8 Wesnoth pieces and the 16-track Singularity
soundtrack. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moodcast.models.mood import load_taxonomy  # noqa: E402
from moodcast.player.library import Library  # noqa: E402
from moodcast.player.scan import scan  # noqa: E402
from moodcast.player.tagging import tag_library  # noqa: E402
from scripts.benchlib import emit  # noqa: E402

MEDIA = ROOT / ".cache" / "media"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    taxonomy = load_taxonomy("cowen13")
    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}", ""]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        music = Path(tmp, "music")
        shutil.copytree(MEDIA / "wesnoth", music / "wesnoth")
        shutil.copytree(MEDIA / "music", music / "singularity")
        lines += ["| workers | tracks | audio | wall time | tracks/min | real-time factor |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        for workers in (1, 2):
            with Library(Path(tmp, f"lib{workers}.db")) as lib:
                scan(lib, [music], taxonomy)
                seconds = sum(t.duration or 0 for t in lib.tracks())
                start = time.perf_counter()
                report = tag_library(lib, taxonomy, workers=workers)
                wall = time.perf_counter() - start
            n = report.analysed
            lines.append(f"| {workers} | {n} | {seconds / 60:.1f} min | {wall:.1f} s | "
                         f"{n / wall * 60:.1f} | {seconds / wall:.0f}× |")  # fmt: skip
        lines += ["", "| piece (Wesnoth) | arousal | valence | mood | top tags |",
                  "|---|---|---|---|---|"]  # fmt: skip
        with Library(Path(tmp, "lib2.db")) as lib:
            analyses = {i: t for i, t, _ in lib.analyses()}
            tracks = [t for t in lib.tracks() if "wesnoth" in t.path]
            for t in sorted(tracks, key=lambda t: -(t.mood.arousal if t.mood else 0)):
                tags = analyses.get(t.id, {})
                top = sorted(tags, key=lambda k: -tags[k])[:4]
                m = t.mood
                assert m is not None
                shown = ", ".join(f"{k} {tags[k]:.2f}" for k in top)
                lines.append(f"| {Path(t.path).stem} | {m.arousal:+.2f} | {m.valence:+.2f} | "
                             f"{m.mood} | {shown} |")  # fmt: skip
    emit(lines, args.out)


if __name__ == "__main__":
    main()
