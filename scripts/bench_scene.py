"""Cost of the default scene reader per frame: the shipped fitted fusion (the classifier's
classes and the appearance of the views it was fitted on, with the frame's style statistics;
the detector runs beside the classifier), beside the same reader with the detector run before
the classifier, the same fusion without the style, reading the classes alone (no preserved
layer), the shipped reader on the frames made colourless (a camera in night vision: the
monochrome fusion reads them), the fusion an earlier commit shipped (``--before``, taken from
git: 5b4d7e8's read the frame alone with its style, one pass of the classifier) and the
hand-set reader, in the same run on the same frames.

    .venv/bin/python scripts/bench_scene.py [--frames 40] [--before 5b4d7e8]

Each reader is built and timed in a child process of its own (so its resident memory is its
own): peak resident memory (VmHWM) after building it and after reading every frame, the
median and 90th-percentile milliseconds per frame (two threads, after two warm-up frames) and
the views its appearance is read from (each one pass of the classifier). Frames: the labelled
photographs in .cache/photos (scripts/fetch_photos.sh), cycled, each read as a camera frame
would be (the previous frame given, so motion is measured too).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

READERS = {
    "hand-set": "hand-set",
    "fitted, classes alone": "classes",
    "fitted, classes and the appearance of the shipped views, without the style": "views",
    "**shipped** (fitted: classes, appearance and style)": "fitted",
    "the fusion shipped by --before": "before",
    "the shipped reader with the detector before the classifier (one after the other)": "serial",
    "the shipped reader on the frames without their colour (night vision: the monochrome"
    " fusion)": "night",
}


def child(fusion: str, count: int, before: str) -> dict[str, float]:
    import cv2
    import numpy as np

    from moodcast.config.settings import load_config
    from moodcast.models.readers import active_taxonomy, build_reader
    from moodcast.models.vision import fusion as fusion_module
    from scripts.benchlib import proc_status, status_mb
    from scripts.compare_scene_fusions import fusion_of

    start = status_mb(proc_status(), "VmRSS")
    if fusion in ("classes", "views"):  # the shipped fusion with fewer parts
        from dataclasses import replace

        shipped = fusion_module.load_fusion()
        look = shipped.appearance
        fewer = None
        if fusion == "views" and look is not None:  # the views' weights, without the style
            size = look.pooled * len(look.views)
            fewer = replace(look, valence=look.valence[:size], arousal=look.arousal[:size],
                            style=0)  # fmt: skip
        load = fusion_module.load_fusion

        def fewer_parts(folder: Path | None = None, name: str = fusion_module.FILE) -> Any:
            if name != fusion_module.FILE:  # the monochrome fusion as shipped
                return load(folder, name)
            return replace(shipped, appearance=fewer)

        setattr(fusion_module, "load_fusion", fewer_parts)  # noqa: B010
        fusion = "fitted"
    serial, night = fusion == "serial", fusion == "night"
    config = load_config(None, {"reader.fusion": "hand-set" if fusion == "hand-set" else "fitted"})
    with fusion_of(before if fusion == "before" else "."):
        reader = build_reader(config, active_taxonomy(config))
        name = fusion_module.MONO_FILE if night else fusion_module.FILE
        used = None if fusion == "hand-set" else fusion_module.load_fusion(name=name).appearance
    if serial:
        from moodcast.models.vision.scene import SceneReader

        assert isinstance(reader, SceneReader)
        reader.detect_beside = False
    built = status_mb(proc_status(), "VmHWM")
    files = sorted((ROOT / ".cache/photos").rglob("*.*"))
    from moodcast.models.vision.monochrome import grey

    seen = grey if night else (lambda frame: frame)  # night: as a camera in night vision
    frames = [seen(np.asarray(f, dtype=np.uint8)) for f in
              (cv2.imread(str(p)) for p in files[: count + 2]) if f is not None]  # fmt: skip
    times, previous = [], None
    for i, frame in enumerate(frames):
        t = time.perf_counter()
        reader.read(frame, previous)
        if i >= 2:
            times.append((time.perf_counter() - t) * 1000)
        previous = frame
    times.sort()
    return {"frames": len(times), "ms_median": statistics.median(times),
            "ms_p90": times[int(0.9 * (len(times) - 1))], "python_mb": start,
            "built_mb": built, "peak_mb": status_mb(proc_status(), "VmHWM"),
            "views": len(used.views) if used is not None else 0}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--before", default="5b4d7e8", help="an earlier commit's fusion")
    parser.add_argument("--child", choices=list(READERS.values()))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.frames, args.before)))
        return
    if not (ROOT / ".cache/photos").is_dir():
        raise SystemExit("run scripts/fetch_photos.sh first")
    rows = []
    for name, fusion in READERS.items():
        command = [sys.executable, __file__, "--child", fusion, "--frames", str(args.frames),
                   "--before", args.before]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        label = name.replace("--before", args.before)
        rows.append(f"| {label} | {r['views']:.0f} | {r['ms_median']:.1f} | {r['ms_p90']:.1f} |"
                    f" {r['built_mb']:.0f} | {r['peak_mb']:.0f} | {r['frames']:.0f} |")  # fmt: skip
    print("| reader | appearance views | ms/frame median | ms/frame p90 |"
          " MB after build (VmHWM) | MB peak after frames | frames |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
