"""People counted per frame by the object detector and by HOG, against a hand count.

    .venv/bin/python scripts/bench_objects.py [--out docs/objects.md]

Footage: OpenCV's pedestrian video (vtest.avi, Debian opencv-doc, 768×576), every 25th frame
(32 frames), counted by hand on full-resolution views (people partly hidden behind the sign
post counted; none cut off at the frame's edge), and photographs from python3-skimage with a
known number of people. Misses and false people are per-frame count differences (a frame with
2 too few adds 2 misses); there is no box matching. Time: median ms per frame at the capture
size, each counter in turn, same process, after a warm-up.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from moodcast.config.settings import ObjectSettings
from moodcast.models.vision.objects import ObjectDetector
from moodcast.models.vision.scene import PeopleCounter

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / ".cache" / "media"
HAND = [3, 5, 6, 7, 7, 8, 8, 7, 7, 6, 7, 7, 6, 6, 5, 4, 3, 3, 3, 4, 4, 6, 6, 7, 6, 6, 6, 7,
        8, 7, 8, 7]  # fmt: skip
PHOTOS = {"astronaut.png": 1, "coffee.png": 0, "chelsea.png": 0, "rocket.jpg": 0,
          "hubble_deep_field.jpg": 0, "motorcycle_left.png": 0}  # fmt: skip


def frames() -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(MEDIA / "video" / "vtest.avi"))
    out = []
    for index in range(0, 25 * len(HAND), 25):
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = cap.read()
        if not ok:
            raise SystemExit("run scripts/fetch_media.sh first (vtest.avi is missing)")
        out.append(frame)
    return out


Count = Callable[[np.ndarray], int]


def score(count: Count, images: list[np.ndarray], truth: list[int]) -> dict[str, float]:
    count(images[0])  # warm-up
    counts, times = [], []
    for image in images:
        start = time.perf_counter()
        counts.append(count(image))
        times.append((time.perf_counter() - start) * 1000)
    c, t = np.array(counts), np.array(truth)
    misses, extra = int(np.clip(t - c, 0, None).sum()), int(np.clip(c - t, 0, None).sum())
    mae = float(np.abs(c - t).mean())
    return {"mae": mae, "misses": misses, "false": extra, "ms": statistics.median(times)}


def people_of(detector: ObjectDetector) -> Count:
    return lambda frame: detector.detect(frame).people


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    video = frames()
    photos = [np.asarray(cv2.imread(str(MEDIA / "photos" / name))) for name in PHOTOS]
    counters: dict[str, Callable[[np.ndarray], int]] = {
        "HOG (the plain way)": PeopleCounter().count
    }
    for size in (224, 256, 300):
        detector = ObjectDetector(ObjectSettings(input_size=size))
        counters[f"SSD-MobileNet-v2, {size} px"] = people_of(detector)
    lines = ["| counter | video MAE | misses | false people | photos MAE | ms/frame (768×576) |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for name, count in counters.items():
        v = score(count, video, HAND)
        p = score(count, photos, list(PHOTOS.values()))
        lines.append(f"| {name} | {v['mae']:.2f} | {v['misses']} | {v['false']} | "
                     f"{p['mae']:.2f} | {v['ms']:.1f} |")  # fmt: skip
    total = sum(HAND)
    table = "\n".join([f"{len(HAND)} video frames, {total} people by hand; {len(PHOTOS)} photos.",
                       "", *lines])  # fmt: skip
    print(table)
    if args.out:
        text = args.out.read_text(encoding="utf-8")
        marker = "<!-- measured -->"
        args.out.write_text(
            text.split(marker)[0] + marker + "\n\n" + table + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
