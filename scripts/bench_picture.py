"""Cost of finding the picture in a frame: the bar test alone (``frames.content_box``, what
the reader did before privacy masks were looked for) beside the whole of
``picture.picture`` (bars cut, masks found and filled), on the same frames in the same run;
and how many random privacy masks on the held-out photographs are found.

    .venv/bin/python scripts/bench_picture.py [--labels tests/data/photos/train.tsv
        tests/data/photos/heldout.tsv] [--folder .cache/photos] [--repeat 3]
        [--heldout tests/data/photos/heldout.tsv]

Frames: the labelled photographs, fitted as the reader fits them (at most 1280 px), as
they are and with a black privacy mask over 15 % of the picture (JPEG 75, as
``scripts/camera_conditions.py`` makes it). Prints the median and largest milliseconds a
frame (best of ``--repeat`` for each frame) and how many frames had masks filled; then
how many labelled photographs have a box filled under each camera condition of
``scripts/camera_conditions.py`` that adds no mask (the bars are cut first); then two
random masks on each held-out photograph, one at a time (seeded): black, dark, mid-grey,
blue or white, 3–25 % of the picture, of any proportion from 1:2 to 2:1, three in ten
against an edge or in a corner, JPEG 35, 75 or 90: how many of each colour are found (a
found box overlapping the mask by more than 0.7 of their union) and how many boxes are
found that are no mask.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moodcast.models.readers import load_photo  # noqa: E402
from moodcast.models.vision import image_eval  # noqa: E402
from moodcast.models.vision.frames import content_box, fit_frame  # noqa: E402
from moodcast.models.vision.picture import Box, picture, privacy_masks  # noqa: E402
from scripts.camera_conditions import CONDITIONS, Frame, as_jpeg, privacy_mask  # noqa: E402

COLOURS = {"black": (0, 0, 0), "dark": (16, 16, 16), "grey": (128, 128, 128),
           "blue": (200, 80, 20), "white": (255, 255, 255)}  # fmt: skip


def best_ms(work: Callable[[], Any], repeat: int) -> float:
    """The fastest of ``repeat`` runs, in milliseconds (the machine's noise only adds)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def random_mask(photo: Frame, rng: np.random.Generator,
                ) -> tuple[Frame, tuple[int, int, int, int], str]:  # fmt: skip
    """The photograph with one random mask (JPEG), the mask's box and its colour's name."""
    h, w = photo.shape[:2]
    colour = list(COLOURS)[int(rng.integers(len(COLOURS)))]
    area, aspect = rng.uniform(0.03, 0.25), rng.uniform(0.5, 2)
    bw = int(min(w * 0.8, np.sqrt(area * h * w * aspect)))
    bh = int(min(h * 0.8, area * h * w / bw))
    corner = rng.random() < 0.3
    x = 0 if corner and rng.random() < 0.5 else int(rng.integers(0, w - bw))
    y = 0 if corner and rng.random() < 0.5 else int(rng.integers(0, h - bh))
    out = photo.copy()
    out[y : y + bh, x : x + bw] = COLOURS[colour]
    return as_jpeg(out, int(rng.choice([35, 75, 90]))), (x, y, bw, bh), colour


def overlap(box: Box, truth: tuple[int, int, int, int]) -> float:
    """Intersection over union of a found box and a mask's."""
    x, y, w, h = truth
    across = max(0, min(box.x + box.width, x + w) - max(box.x, x))
    down = max(0, min(box.y + box.height, y + h) - max(box.y, y))
    both = across * down
    return both / (box.width * box.height + w * h - both)


def found_masks(photos: list[Frame]) -> None:
    """The table of random masks found, by colour."""
    found: dict[str, list[bool]] = defaultdict(list)
    stray = 0
    for seed in (1, 2):
        rng = np.random.default_rng(seed)
        for photo in photos:
            frame, truth, colour = random_mask(photo, rng)
            boxes = privacy_masks(frame)
            found[colour].append(any(overlap(b, truth) > 0.7 for b in boxes))
            stray += sum(overlap(b, truth) <= 0.1 for b in boxes)
    print("\n| random masks | " + " | ".join(COLOURS) + " | all | boxes that are no mask |")
    print("|---" * (len(COLOURS) + 3) + "|")
    cells = [f"{sum(found[c])} of {len(found[c])}" for c in COLOURS]
    every = [hit for hits in found.values() for hit in hits]
    print(f"| found | {' | '.join(cells)} | {sum(every)} of {len(every)} | {stray} |")


def untouched(photos: list[Frame]) -> None:
    """How many labelled photographs have a box filled, under each camera condition that
    adds no mask of its own (each such box would be picture taken for a mask)."""
    print("\n| labelled photographs, as a camera gives them | a box filled |")
    print("|---|---|")
    for name, change in CONDITIONS.items():
        if "mask" not in name:
            touched = sum("masks" in picture(fit_frame(change(p))).notes for p in photos)
            print(f"| {name} | {touched} of {len(photos)} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=Path, nargs="+",
                        default=[ROOT / "tests/data/photos/train.tsv",
                                 ROOT / "tests/data/photos/heldout.tsv"])  # fmt: skip
    parser.add_argument("--folder", type=Path, default=ROOT / ".cache/photos")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--heldout", type=Path, default=ROOT / "tests/data/photos/heldout.tsv")
    args = parser.parse_args()
    photos = [fit_frame(load_photo(row.file)) for labels in args.labels
              for row in image_eval.read_image_labels(labels, args.folder)]  # fmt: skip
    print(f"{len(photos)} photographs, best of {args.repeat} a frame\n")
    print("| frames | bar test alone: median, max ms | bars and masks: median, max ms |"
          " masks filled |")  # fmt: skip
    print("|---|---|---|---|")
    for name, frames in (("as photographed", photos),
                         ("with a black privacy mask (15 %)",
                          [fit_frame(privacy_mask(p)) for p in photos])):  # fmt: skip
        bars = [best_ms(partial(content_box, f), args.repeat) for f in frames]
        whole = [best_ms(partial(picture, f, f), args.repeat) for f in frames]
        filled = sum("masks" in picture(f).notes for f in frames)
        print(
            f"| {name} | {statistics.median(bars):.2f}, {max(bars):.1f} |"
            f" {statistics.median(whole):.2f}, {max(whole):.1f} | {filled} of {len(frames)} |"
        )
    untouched(photos)
    heldout = image_eval.read_image_labels(args.heldout, args.folder)
    found_masks([fit_frame(load_photo(row.file)) for row in heldout])


if __name__ == "__main__":
    main()
