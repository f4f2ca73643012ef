"""The scene reader on labelled photographs as a camera would give them in worse conditions.

    .venv/bin/python scripts/camera_conditions.py [--labels tests/data/photos/heldout.tsv]
        [--folder .cache/photos] [--fusion fitted|hand-set] [--only TEXT]

A shop's or a car's camera is not a photographer: it sees at night in infrared, in dim light
with sensor noise, through a small, strongly compressed stream, under a lamp's colour cast,
with things moving, inside black bars (its caption in them), mounted upside down and with
privacy masks. Each labelled photograph is read as a camera frame (the reader the daemon
builds) as it is and after each such change, made here with OpenCV and numpy (seeded: the
same frames every run), and scored as ``moodcast models evaluate-images`` does: one Markdown
row per condition with the quadrant, the sides, readings at 0.75 or more and how often
right, how many readings changed quadrant from the photograph's own, and in how many
frames bars were cut and privacy masks filled (``picture.picture``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moodcast.config.settings import load_config  # noqa: E402
from moodcast.models.mood import MoodEstimate  # noqa: E402
from moodcast.models.readers import active_taxonomy, build_reader, load_photo  # noqa: E402
from moodcast.models.text.caption_labels import quadrant_of  # noqa: E402
from moodcast.models.vision import image_eval  # noqa: E402
from moodcast.models.vision.monochrome import grey  # noqa: E402
from scripts.compare_scene_fusions import confident  # noqa: E402

Frame = NDArray[np.uint8]


def as_jpeg(frame: Frame, quality: int) -> Frame:
    """The frame as a camera's JPEG of ``quality`` gives it, decoded again."""
    import cv2

    _, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
    assert decoded is not None
    return np.asarray(decoded, dtype=np.uint8)


def small_stream(frame: Frame) -> Frame:
    """A 320-px wide stream, JPEG quality 35 (a cheap camera's substream)."""
    import cv2

    height = max(16, round(frame.shape[0] * 320 / frame.shape[1]))
    resized = np.asarray(cv2.resize(frame, (320, height), interpolation=cv2.INTER_AREA), np.uint8)
    return as_jpeg(resized, 35)


def dim_and_noisy(frame: Frame) -> Frame:
    """A quarter of the light, the gain turned up again: shot noise and a raised floor."""
    rng = np.random.default_rng(7)
    light = frame.astype(np.float64) / 4.0
    noisy = rng.poisson(light) * 4.0 + rng.normal(0, 6, frame.shape)
    return as_jpeg(np.clip(noisy, 0, 255).astype(np.uint8), 70)


def tungsten(frame: Frame) -> Frame:
    """An orange lamp's cast that the camera did not balance (about 2,700 K on daylight)."""
    cast = frame.astype(np.float64) * np.array([0.62, 0.86, 1.12])  # B, G, R
    return np.asarray(np.clip(cast, 0, 255), dtype=np.uint8)


def motion_blur(frame: Frame) -> Frame:
    """A sideways smear of about 2 % of the width (a moving camera or quick movement)."""
    import cv2

    length = max(3, frame.shape[1] // 50)
    kernel = np.zeros((length, length))
    kernel[length // 2] = 1.0 / length
    return np.asarray(cv2.filter2D(frame, -1, kernel), dtype=np.uint8)


def infrared(frame: Frame) -> Frame:
    """Night vision: the luminance alone, with a colour sensor's faint magenta cast and noise."""
    rng = np.random.default_rng(11)
    tinted = grey(frame).astype(np.float64) * np.array([1.06, 0.96, 1.06])
    return as_jpeg(np.clip(tinted + rng.normal(0, 2, frame.shape), 0, 255).astype(np.uint8), 70)


def _in_bars(frame: Frame, top: int, side: int, level: int = 0) -> Frame:
    """The frame on a canvas of grey ``level`` (black) with ``top`` rows above and below it
    and ``side`` columns left and right of it."""
    h, w = frame.shape[:2]
    out = np.full((h + 2 * top, w + 2 * side, 3), level, np.uint8)
    out[top : top + h, side : side + w] = frame
    return out


def letterbox(frame: Frame) -> Frame:
    """Black bars above and below, each a sixth of the picture's height (a wide film still,
    a stream padded to its shape), JPEG 75."""
    return as_jpeg(_in_bars(frame, frame.shape[0] // 6, 0), 75)


def pillarbox(frame: Frame) -> Frame:
    """Black bars left and right, each a fifth of the picture's width (a 4:3 camera in a
    16:9 stream), JPEG 75."""
    return as_jpeg(_in_bars(frame, 0, frame.shape[1] // 5), 75)


def _portrait(frame: Frame) -> Frame:
    """The picture's middle cut to a phone's portrait shape (9:16), as high as it is."""
    h, w = frame.shape[:2]
    width = min(w, round(h * 9 / 16))
    left = (w - width) // 2
    return np.ascontiguousarray(frame[:, left : left + width])


def portrait(frame: Frame) -> Frame:
    """The middle cut to 9:16, JPEG 75: the picture the next condition boxes, read alone."""
    return as_jpeg(_portrait(frame), 75)


def portrait_in_a_wide_stream(frame: Frame) -> Frame:
    """A phone held upright streaming into a 16:9 canvas: its 9:16 picture with black bars
    left and right, 0.68 of the width (a phone's camera app, a video call), JPEG 75."""
    picture = _portrait(frame)
    h, w = picture.shape[:2]
    return as_jpeg(_in_bars(picture, 0, (round(h * 16 / 9) - w) // 2), 75)


def captioned_bars(frame: Frame) -> Frame:
    """Black bars above and below with the camera's caption in them (date and time above, its
    name below), as security cameras write it, JPEG 75."""
    import cv2

    h, w = frame.shape[:2]
    bar = h // 6
    out = _in_bars(frame, bar, 0)
    size, thick = bar / 67, max(1, round(bar / 27))
    cv2.putText(out, "2026-12-05 21:14:07", (bar // 4, int(bar * 0.7)), cv2.FONT_HERSHEY_SIMPLEX,
                size, (255, 255, 255), thick)  # fmt: skip
    cv2.putText(out, "CAM 03 ENTRANCE", (int(w * 0.6), h + int(bar * 1.7)),
                cv2.FONT_HERSHEY_SIMPLEX, size, (255, 255, 255), thick)  # fmt: skip
    return as_jpeg(out, 75)


def caption_on_picture(frame: Frame) -> Frame:
    """The camera's caption written on the picture itself, as most security cameras do: its
    date and time at the top left, its name at the bottom right, white with a black outline,
    each line a twentieth of the picture's height, JPEG 75."""
    import cv2

    h, w = frame.shape[:2]
    out = frame.copy()
    size = h / 20 / 22  # Hershey Simplex is about 22 px high at size 1
    thick = max(1, round(h / 240))
    (name_w, _), _ = cv2.getTextSize("CAM 03 ENTRANCE", cv2.FONT_HERSHEY_SIMPLEX, size, thick)
    for text, at in (("2026-12-05 21:14:07", (w // 40, h // 14)),
                     ("CAM 03 ENTRANCE", (w - w // 40 - name_w, h - h // 30))):  # fmt: skip
        cv2.putText(out, text, at, cv2.FONT_HERSHEY_SIMPLEX, size, (0, 0, 0), thick * 3)
        cv2.putText(out, text, at, cv2.FONT_HERSHEY_SIMPLEX, size, (255, 255, 255), thick)
    return as_jpeg(out, 75)


def _mask_box(frame: Frame) -> tuple[slice, slice]:
    """Where the privacy mask goes: 15 % of the picture, towards the lower right (a till)."""
    h, w = frame.shape[:2]
    mh, mw = int(h * 0.15**0.5), int(w * 0.15**0.5)
    return slice(h - mh - h // 10, h - h // 10), slice(w - mw - w // 10, w - w // 10)


def privacy_mask(frame: Frame) -> Frame:
    """A camera's privacy mask, a black box over 15 % of the picture (a till, a neighbour's
    window), JPEG 75."""
    out = frame.copy()
    out[_mask_box(frame)] = 0
    return as_jpeg(out, 75)


def privacy_mask_filled(frame: Frame) -> Frame:
    """The same box filled with the mean colour of the rest of the picture: what a reader that
    found the mask could do at best (the box's place is known here)."""
    box = _mask_box(frame)
    rest = np.ones(frame.shape[:2], bool)
    rest[box] = False
    out = frame.copy()
    out[box] = frame[rest].mean(axis=0).astype(np.uint8)
    return as_jpeg(out, 75)


def mosaic_mask(frame: Frame) -> Frame:
    """The same place as a mosaic instead of a black box (other makes pixelate what they
    hide: blocks of a twentieth of the picture's width), JPEG 75."""
    import cv2

    out = frame.copy()
    rows, cols = _mask_box(frame)
    part = out[rows, cols]
    h, w = part.shape[:2]
    block = max(2, frame.shape[1] // 20)
    small = cv2.resize(part, (max(1, w // block), max(1, h // block)), interpolation=cv2.INTER_AREA)
    out[rows, cols] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    return as_jpeg(out, 75)


def two_grey_masks(frame: Frame) -> Frame:
    """Two mid-grey privacy masks of 7 % of the picture each, one in the top-left corner,
    one at the right (other makes' masks are grey or coloured, and masks sit anywhere), in
    a JPEG 50 stream."""
    h, w = frame.shape[:2]
    mh, mw = int(h * 0.07**0.5), int(w * 0.07**0.5)
    out = frame.copy()
    out[:mh, :mw] = 128
    out[h // 3 : h // 3 + mh, w - mw - w // 20 : w - w // 20] = 128
    return as_jpeg(out, 50)


def boxed_on_a_mat(frame: Frame) -> Frame:
    """The picture boxed in mid-grey on all four sides, a quarter of its size each way (a
    4:3 camera boxed into a wider stream on every side, a photograph on a mat), JPEG 75."""
    return as_jpeg(_in_bars(frame, frame.shape[0] // 4, frame.shape[1] // 4, 128), 75)


def fisheye_circle(frame: Frame) -> Frame:
    """Black outside the circle a fisheye lens draws on its sensor (a shop's ceiling
    camera): the picture's middle inside a circle as high as the frame, JPEG 75. The lens's
    bending is not made; the black around it is what the reader sees of it."""
    import cv2

    h, w = frame.shape[:2]
    circle = np.zeros((h, w), np.uint8)
    cv2.circle(circle, (w // 2, h // 2), min(h, w) // 2, 255, -1)
    return as_jpeg(np.where(circle[..., None] > 0, frame, 0).astype(np.uint8), 75)


def upside_down(frame: Frame) -> Frame:
    """A ceiling camera mounted the other way up, its picture not turned (``camera.rotate``)."""
    return np.ascontiguousarray(frame[::-1, ::-1])


CONDITIONS: dict[str, Callable[[Frame], Frame]] = {
    "as photographed": lambda frame: frame,
    "night vision (grey)": grey,
    "night vision (tinted, noisy)": infrared,
    "small stream (320 px, JPEG 35)": small_stream,
    "dim and noisy (a quarter of the light)": dim_and_noisy,
    "tungsten cast (unbalanced)": tungsten,
    "motion blur (2 % of the width)": motion_blur,
    "black bars above and below (letterbox)": letterbox,
    "black bars left and right (pillarbox)": pillarbox,
    "the middle cut to a phone's portrait (9:16)": portrait,
    "that 9:16 picture in a 16:9 stream (black bars)": portrait_in_a_wide_stream,
    "black bars with the camera's caption in them": captioned_bars,
    "the camera's caption written on the picture": caption_on_picture,
    "grey box on all four sides (a mat)": boxed_on_a_mat,
    "a fisheye camera's black surround (the picture in a circle)": fisheye_circle,
    "upside down, not turned": upside_down,
    "privacy mask (a black box over 15 %)": privacy_mask,
    "privacy mask filled with the picture's mean colour": privacy_mask_filled,
    "privacy mask as a mosaic (the same place)": mosaic_mask,
    "two grey privacy masks (7 % each, one in a corner), JPEG 50": two_grey_masks,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=Path, default=ROOT / "tests/data/photos/heldout.tsv")
    parser.add_argument("--folder", type=Path, default=ROOT / ".cache/photos")
    parser.add_argument("--fusion", choices=["fitted", "hand-set"], default="fitted")
    parser.add_argument("--only", default="", help="the conditions whose name holds this text"
                        " (the photographs as they are are always read first)")  # fmt: skip
    args = parser.parse_args()
    config = load_config(None, {"reader.fusion": args.fusion})
    taxonomy = active_taxonomy(config)
    reader = build_reader(config, taxonomy)  # a camera's reader: colourless is night vision
    rows = image_eval.read_image_labels(args.labels, args.folder)
    photos = [load_photo(r.file) for r in rows]
    print(f"{len(rows)} photographs of {args.labels.name}, fusion {args.fusion}\n")
    print("| camera condition | quadrant | valence / arousal | at ≥ 0.75: readings, right |"
          " read another quadrant than as photographed | bars cut, masks filled |"
          " most named |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    first: list[str] = []
    for name, change in CONDITIONS.items():
        if args.only not in name and name != "as photographed":
            continue
        readings: list[MoodEstimate] = [reader.read(change(photo)) for photo in photos]
        quadrants = [quadrant_of(e.valence, e.arousal) for e in readings]
        first = first or quadrants
        moved = sum(q != f for q, f in zip(quadrants, first, strict=True))
        bars = sum("bars" in e.evidence for e in readings)
        masks = sum("masks" in e.evidence for e in readings)
        result = image_eval.evaluate_images(rows, readings, taxonomy)
        f = result.figures
        mood, times = next(iter(result.moods_named.items()))  # most said first
        print(f"| {name} | {f.quadrant:.3f} | {f.valence:.3f} / {f.arousal:.3f} |"
              f" {confident(f)} | {moved} of {len(rows)} | {bars}, {masks} |"
              f" *{mood}* {times / len(rows):.2f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
