"""What the scene reader takes for movement between two frames, beside the plain difference.

    .venv/bin/python scripts/motion_conditions.py [--video .cache/media/video/vtest.avi]
        [--labels tests/data/photos/heldout.tsv] [--folder .cache/photos] [--no-reads]

A camera's frames are seconds apart, and much changes between them that is not movement: its
automatic exposure, a lamp, the sun or a cloud on part of the view, the gain of a dim scene,
sensor noise, a shake of the mount, a camera turned, zoomed or rolled; and a car's camera
while driving sees another view each time. Each is made here (seeded: the same frames every
run) on real frames, and the activity cue is measured by ``motion.activity`` (shipped) and by
the plain mean difference of the grey frames (what the reader took before):

1. OpenCV's ``vtest.avi`` (a street of walkers, fixed camera, 10 frames a second): pairs of
   frames 1, 5 and 10 s apart (movement), the same with the exposure, the mount or the
   camera's view or part of its light changed too, and one frame against itself so changed
   (no movement); its frames against the labelled photographs (two views), and with
   something come into view (movement);
2. the labelled photographs as still views, each against itself so changed: how often the
   activity reaches 0.1 (half a street of walkers' worth);
3. (unless ``--no-reads``) the reader's quadrant on those photographs when the frame before
   differed only so, beside the photograph read alone: what false movement costs.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moodcast.config.settings import load_config  # noqa: E402
from moodcast.models.readers import active_taxonomy, build_reader, load_photo  # noqa: E402
from moodcast.models.vision import image_eval, motion  # noqa: E402
from scripts.camera_conditions import as_jpeg  # noqa: E402

Frame = NDArray[np.uint8]
Change = Callable[[Frame], Frame]
WIDTH = 160  # the scene reader's analysis width
RATE = 10  # vtest.avi's frames a second


def small(frame: Frame) -> Frame:
    """The frame as the reader compares it: at the analysis width."""
    import cv2

    height = max(1, round(frame.shape[0] * WIDTH / frame.shape[1]))
    return np.asarray(cv2.resize(frame, (WIDTH, height), interpolation=cv2.INTER_AREA))


def plain(current: NDArray[np.uint8], previous: NDArray[np.uint8]) -> float:
    """The activity as the reader took it before: the grey frames' mean difference / 32."""
    import cv2

    if current.shape != previous.shape:
        return 0.0
    now, before = (cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in (current, previous))
    return min(1.0, float(cv2.absdiff(now, before).mean()) / 32.0)


def exposure(gain: float) -> Change:
    return lambda f: np.clip(f.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def gamma(power: float) -> Change:
    return lambda f: (255.0 * (f.astype(np.float32) / 255.0) ** power).astype(np.uint8)


def shaken(pixels: float) -> Change:
    """The view moved by ``pixels`` across and 0.6 of that down, at 640 px wide."""

    def change(frame: Frame) -> Frame:
        import cv2

        step = pixels * frame.shape[1] / 640.0
        turn = np.array([[1, 0, step], [0, 1, 0.6 * step]], dtype=np.float32)
        size = (frame.shape[1], frame.shape[0])
        return np.asarray(cv2.warpAffine(frame, turn, size, borderMode=cv2.BORDER_REFLECT))

    return change


def noisy(sigma: float, seed: int) -> Change:
    rng = np.random.default_rng(seed)
    return lambda f: np.clip(f + rng.normal(0.0, sigma, f.shape), 0, 255).astype(np.uint8)


def panned(share: float) -> tuple[Change, Change]:
    """A camera turned by ``share`` of its view: (the frame now, the frame before), each
    three fifths of the frame's width, the one now further right."""

    def at(offset: float) -> Change:
        def view(frame: Frame) -> Frame:
            import cv2

            wide = int(frame.shape[1] * 0.6)
            left = int(frame.shape[1] * 0.6 * offset)
            part = frame[:, left : left + wide]
            return np.asarray(cv2.resize(part, (frame.shape[1], frame.shape[0])))

        return view

    return at(share), at(0.0)


def zoomed(zoom: float) -> Change:
    """The middle 1/``zoom`` of the frame at the frame's size: a camera zoomed in."""

    def change(frame: Frame) -> Frame:
        import cv2

        height, width = frame.shape[:2]
        x, y = round(width * (1 - 1 / zoom) / 2), round(height * (1 - 1 / zoom) / 2)
        return np.asarray(cv2.resize(frame[y : height - y, x : width - x], (width, height)))

    return change


def rolled(degrees: float) -> Change:
    def change(frame: Frame) -> Frame:
        import cv2

        height, width = frame.shape[:2]
        turn = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
        size = (width, height)
        return np.asarray(cv2.warpAffine(frame, turn, size, borderMode=cv2.BORDER_REFLECT))

    return change


def lit(light: str) -> Change:
    """Part of the view lit differently: a lamp switched on in a corner (up to × 1.6),
    sunlight through a window on a soft-edged patch (× 1.5), a cloud over half (× 0.6)."""

    def change(frame: Frame) -> Frame:
        import cv2

        height, width = frame.shape[:2]
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        patch = np.zeros((height, width), np.float32)
        if light == "lamp":
            spread = 2 * (0.2 * width) ** 2
            gain = 1 + 0.6 * np.exp(-((x - 0.15 * width) ** 2 + (y - 0.2 * height) ** 2) / spread)
        elif light == "sun":
            patch[int(0.4 * height) : int(0.9 * height), int(0.5 * width) : int(0.9 * width)] = 1
            gain = 1 + 0.5 * cv2.GaussianBlur(patch, (0, 0), 0.03 * width)
        else:
            patch[:, : width // 2] = 1
            gain = 1 - 0.4 * cv2.GaussianBlur(patch, (0, 0), 0.05 * width)
        return np.asarray(np.clip(frame * gain[..., None], 0, 255), dtype=np.uint8)

    return change


# Changes of a still view that are no movement: (the frame now, the frame before).
STILL: dict[str, tuple[Change, Change]] = {
    "sensor noise (σ 3), fresh in each frame": (noisy(3, 1), noisy(3, 2)),
    "sensor noise (σ 8), fresh in each frame": (noisy(8, 3), noisy(8, 4)),
    "JPEG 30 against the frame uncompressed": (lambda f: as_jpeg(f, 30), lambda f: f),
    "exposure × 1.2 (auto exposure)": (exposure(1.2), lambda f: f),
    "exposure × 1.5": (exposure(1.5), lambda f: f),
    "exposure × 0.6 (a lamp off, a cloud)": (exposure(0.6), lambda f: f),
    "gamma 0.7": (gamma(0.7), lambda f: f),
    "a lamp switched on in a corner (up to × 1.6)": (lit("lamp"), lambda f: f),
    "sunlight through a window on part of the view (× 1.5)": (lit("sun"), lambda f: f),
    "a cloud over half the view (× 0.6)": (lit("cloud"), lambda f: f),
    "shaken 1 px (at 640 px wide)": (shaken(1), lambda f: f),
    "shaken 3 px": (shaken(3), lambda f: f),
    "shaken 8 px": (shaken(8), lambda f: f),
    "turned by a tenth of the view (a pan)": panned(0.1),
    "turned by a fifth of the view": panned(0.2),
    "turned by half the view": panned(0.5),
    "zoomed in by a quarter": (zoomed(1.25), lambda f: f),
    "zoomed out by 1.4": (lambda f: f, zoomed(1.4)),
    "rolled by 5°": (rolled(5), lambda f: f),
    "turned by 0.3 of the view and zoomed in by a fifth": (
        lambda f: zoomed(1.2)(panned(0.3)[0](f)),
        panned(0.0)[1],
    ),
}


# Changes of the view between two frames with the walkers in it.
MOVED = {name: STILL[name] for name in ("a lamp switched on in a corner (up to × 1.6)",
                                        "a cloud over half the view (× 0.6)",
                                        "turned by half the view", "zoomed in by a quarter",
                                        "rolled by 5°")}  # fmt: skip


def two_views(frames: list[Frame], photos: list[Frame]) -> None:
    """A car's camera while driving, a camera moved elsewhere: frames of two views, each
    the frame's size (the street against each photograph; photographs against the next)."""
    import cv2

    size = (frames[0].shape[1], frames[0].shape[0])
    fitted: list[Frame] = [
        np.asarray(cv2.resize(p, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
        for p in photos
    ]
    street = [(fitted[i], frames[(40 * i) % len(frames)]) for i in range(len(fitted))]
    others = list(zip(fitted[1:], fitted[:-1], strict=True))
    print("\ntwo views: share with activity ≥ 0.1, mean activity\n")
    print(f"| the two frames | {heads()}")
    rows = ((f"the street, then one of the {len(fitted)} photographs", street),
            (f"one photograph, then the next ({len(others)} pairs)", others))  # fmt: skip
    for name, pairs in rows:
        cells = []
        for measure in MEASURES.values():
            values = np.array([measure(small(now), small(before)) for now, before in pairs])
            cells.append(f"{(values >= 0.1).mean():.3f}, {values.mean():.3f}")
        print(f"| {name} | {' | '.join(cells)} |", flush=True)
    half = []
    for photo, (_, frame) in zip(fitted, street, strict=True):  # a bus stops in the half near
        covered = frame.copy()
        covered[size[1] // 2 :] = photo[size[1] // 2 :]
        half.append((covered, frame))
    print(f"| the street, then its near half covered (movement) | {both(half)} |")
    coats = []
    for _, frame in street:  # someone in a flat dark coat close to the camera
        coat = frame.copy()
        coat[size[1] // 4 :, size[0] // 3 : size[0] // 3 + size[0] // 5] = 40
        coats.append((coat, frame))
    print(f"| the street, then a flat dark coat over a sixth of it (movement) | {both(coats)} |")


# Those the reader's quadrants are measured under (each pass over the photographs: minutes).
READ = ("exposure × 1.2 (auto exposure)", "exposure × 0.6 (a lamp off, a cloud)", "gamma 0.7",
        "a lamp switched on in a corner (up to × 1.6)", "a cloud over half the view (× 0.6)",
        "shaken 3 px", "sensor noise (σ 8), fresh in each frame", "turned by half the view",
        "zoomed in by a quarter")  # fmt: skip


def video_frames(path: Path) -> list[Frame]:
    import cv2

    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(np.asarray(frame, dtype=np.uint8))
    capture.release()
    if not frames:
        sys.exit(f"{path}: no frames (run scripts/fetch_media.sh)")
    return frames


Measure = Callable[[Frame, Frame], float]
# The ways the activity is measured, each a column: set in main().
MEASURES: dict[str, Measure] = {}


def heads() -> str:
    """A table's header after its first column: one column a measure."""
    return " | ".join(MEASURES) + " |\n|---|" + "---|" * len(MEASURES)


def motion_at(commit: str) -> Measure:
    """``motion.activity`` as ``commit`` shipped it (its module alone, from git)."""
    import subprocess
    import types

    source = subprocess.run(["git", "show", f"{commit}:models/vision/motion.py"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    module = types.ModuleType(f"motion_{commit}")
    exec(compile(source, f"{commit}:models/vision/motion.py", "exec"), module.__dict__)
    measure: Measure = module.activity
    return measure


def both(pairs: list[tuple[Frame, Frame]]) -> str:
    """One row's cells: mean (largest) activity by the plain difference, then shipped."""
    cells = []
    for measure in MEASURES.values():
        values = [measure(small(now), small(before)) for now, before in pairs]
        cells.append(f"{np.mean(values):.3f} ({np.max(values):.3f})")
    return " | ".join(cells)


def on_video(frames: list[Frame]) -> None:
    starts = range(0, len(frames) - 10 * RATE, 4 * RATE)  # a pair every 4 s
    print(f"{len(starts)} pairs of `vtest.avi`'s frames (768 × 576), each row's mean (largest)\n")
    print(f"| the two frames | {heads()}")
    for seconds in (1, 5, 10):
        pairs = [(frames[i + seconds * RATE], frames[i]) for i in starts]
        print(f"| walkers, {seconds} s apart | {both(pairs)} |")
    for name, change in (("exposure × 1.3", exposure(1.3)), ("shaken 3 px", shaken(3))):
        pairs = [(frames[i + 10 * RATE], change(frames[i])) for i in starts]
        print(f"| walkers, 10 s apart, {name} between | {both(pairs)} |")
    for name, (now, before) in MOVED.items():
        pairs = [(now(frames[i + 10 * RATE]), before(frames[i])) for i in starts]
        print(f"| walkers, 10 s apart, {name} between | {both(pairs)} |")
    for name, (now, before) in STILL.items():
        print(
            f"| one frame, {name} | {both([(now(frames[i]), before(frames[i])) for i in starts])} |"
        )
    a, b = small(frames[10 * RATE]), small(frames[0])
    for name, measure in MEASURES.items():
        began = time.perf_counter()
        for _ in range(200):
            measure(a, b)
        print(f"\n{name}: {(time.perf_counter() - began) * 5:.2f} ms a pair")


def on_photographs(photos: list[Frame]) -> None:
    print(f"\n{len(photos)} labelled photographs as still views: share with activity ≥ 0.1,"
          " mean activity\n")  # fmt: skip
    print(f"| each against itself | {heads()}")
    for name, (now, before) in STILL.items():
        cells = []
        for measure in MEASURES.values():
            values = np.array([measure(small(now(p)), small(before(p))) for p in photos])
            cells.append(f"{(values >= 0.1).mean():.3f}, {values.mean():.3f}")
        print(f"| {name} | {' | '.join(cells)} |", flush=True)


def reads(photos: list[Frame], rows: list[image_eval.LabelledImage]) -> None:
    """The quadrant when the frame before differed by a change that is no movement, or
    showed another view."""
    import cv2

    config = load_config(None, {})
    taxonomy = active_taxonomy(config)
    reader = build_reader(config, taxonomy)
    shipped = motion.activity

    def right(pairs: list[tuple[Frame, Frame | None]]) -> float:
        readings = [reader.read(now, before) for now, before in pairs]
        return image_eval.evaluate_images(rows, readings, taxonomy).figures.quadrant

    print(f"\nthe reader's quadrant on the {len(photos)}: the frame read alone, and after a frame"
          " that differed by no movement\n")  # fmt: skip
    print("| the frame differed from the one before by | read alone | plain difference | shipped |")
    print("|---|---|---|---|")
    for name in READ:
        now, before = STILL[name]
        pairs: list[tuple[Frame, Frame | None]] = [(now(p), before(p)) for p in photos]
        cells = [f"{right([(frame, None) for frame, _ in pairs]):.3f}"]
        for measure in (plain, shipped):
            motion.activity = measure  # the reader's, swapped
            try:
                cells.append(f"{right(pairs):.3f}")
            finally:
                motion.activity = shipped
        print(f"| {name} | {' | '.join(cells)} |", flush=True)
    # A car's camera while driving: the frame before showed another view (the photograph
    # before this one in the file, at this one's size).
    others: list[tuple[Frame, Frame | None]] = [(photos[0], None)]
    for earlier, later in itertools.pairwise(photos):
        size = (later.shape[1], later.shape[0])
        shown = cv2.resize(earlier, size, interpolation=cv2.INTER_AREA)
        others.append((later, np.asarray(shown, dtype=np.uint8)))
    cells = [f"{right([(frame, None) for frame, _ in others]):.3f}"]
    for measure in (plain, shipped):
        motion.activity = measure
        try:
            cells.append(f"{right(others):.3f}")
        finally:
            motion.activity = shipped
    print(f"| another view (the photograph before it) | {' | '.join(cells)} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--video", type=Path, default=ROOT / ".cache/media/video/vtest.avi")
    parser.add_argument("--labels", type=Path, default=ROOT / "tests/data/photos/heldout.tsv")
    parser.add_argument("--folder", type=Path, default=ROOT / ".cache/photos")
    parser.add_argument("--before", metavar="COMMIT",
                        help="a column for motion.py as COMMIT shipped it too")  # fmt: skip
    parser.add_argument("--no-reads", dest="reads", action="store_false",
                        help="leave out the reader's quadrants (minutes)")  # fmt: skip
    args = parser.parse_args()
    MEASURES["plain difference"] = plain
    if args.before:
        MEASURES[f"as {args.before} shipped it"] = motion_at(args.before)
    MEASURES["shipped"] = motion.activity
    on_video(video_frames(args.video))
    rows = image_eval.read_image_labels(args.labels, args.folder)
    photos = [load_photo(r.file) for r in rows]
    on_photographs(photos)
    two_views(video_frames(args.video), photos)
    if args.reads:
        reads(photos, rows)


if __name__ == "__main__":
    main()
