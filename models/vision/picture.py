"""What of a camera's frame is picture: bars cut away, privacy masks filled.

A shop's camera blacks out a till, a neighbour's window or a staff door with a privacy mask:
a box of one flat colour drawn into the stream. Read as picture, a black box over 15 % of
the view pulls the reading gloomy (with 4af4c4c's fusion 0.782 of its 101 held-out
photographs right against 0.822 without it; found and filled with the mean colour of the
rest of the picture, 0.822 again; the shipped fusion's figures are in docs/scene-reader.md,
"Privacy masks are filled" and the rounds after it). A mask is told from the picture by what
no camera's view of a room has: a rectangle of exactly one level, straight edges, sharp
against the picture on its inner sides, at most two of its sides on the frame's border (a
flat band along one whole side is a black sky over a horizon as often as a mask) and not
clipped (a window blown out by daylight is a flat bright box: the labelled set has one in
an office; under an unbalanced lamp it is orange, not white, so any channel at its top
counts).
None of the 565 labelled photographs is touched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from moodcast.models.vision.frames import Frame, content_box

MASK_LEAST = 0.02  # a box smaller than this share of the picture is not worth filling
MASK_MOST = 0.6  # a picture flatter than this is a flat picture, not a masked one
MASK_FLAT = 2  # grey levels: a mask's pixels differ this little from their neighbours and level
MASK_EXACT = 0.98  # share of a mask's pixels (inside its rim) within one level of its median
MASK_FILLED = 0.9  # share of its bounding box a mask's flat pixels fill (JPEG rings at its rim)
MASK_EDGE = 20.0  # grey levels: the picture past an inner side differs this much from the mask
MASK_BRIGHTEST = 250  # a box with a channel this bright is a window blown out by daylight
MASK_LEVELS = 4  # the most populous flat levels looked at (bounds the time a frame costs)
MASK_MARGIN = 8  # px: JPEG's ringing rim (one block) past the flat pixels, filled too
_WORK_SIDE = 640  # the search runs on every n-th pixel, no side longer than this
_OPENING = np.ones((5, 5), np.uint8)


@dataclass(frozen=True)
class Box:
    """A privacy mask's place in the frame, in pixels."""

    x: int
    y: int
    width: int
    height: int

    def slices(self) -> tuple[slice, slice]:
        return slice(self.y, self.y + self.height), slice(self.x, self.x + self.width)

    def overlaps(self, other: Box) -> bool:
        return (self.x < other.x + other.width and other.x < self.x + self.width
                and self.y < other.y + other.height and other.y < self.y + self.height)  # fmt: skip


@dataclass(frozen=True)
class Picture:
    """A frame as read: inside its bars, masks filled; the previous frame made alike, so
    motion compares like with like; notes for the reading's evidence."""

    frame: Frame
    previous: Frame | None
    notes: dict[str, str]


def picture(frame: Frame, previous: Frame | None = None) -> Picture:
    """The picture in a fitted frame (:func:`frames.fit_frame`): bars cut
    (:func:`frames.content_box`), privacy masks filled with the rest's mean colour."""
    height, width = frame.shape[:2]
    rows, cols = content_box(frame)
    notes: dict[str, str] = {}
    if (rows.stop - rows.start, cols.stop - cols.start) != (height, width):
        if previous is not None and previous.shape == frame.shape:
            previous = np.ascontiguousarray(previous[rows, cols])
        frame = np.ascontiguousarray(frame[rows, cols])
        notes["bars"] = (f"{frame.shape[1]}×{frame.shape[0]} picture read inside the"
                         f" {width}×{height} frame")  # fmt: skip
    boxes = privacy_masks(frame)
    if boxes:
        frame, previous = fill_masks(frame, boxes, previous)
        places = ", ".join(f"{b.width}×{b.height} at ({b.x}, {b.y})" for b in boxes)
        notes["masks"] = f"privacy mask filled with the picture's mean colour: {places}"
    return Picture(frame, previous, notes)


def privacy_masks(frame: Frame) -> list[Box]:
    """The flat boxes in ``frame`` that are a camera's privacy masks (rim included)."""
    import cv2

    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    step = max(1, -(-max(grey.shape) // _WORK_SIDE))
    small = np.ascontiguousarray(grey[::step, ::step], dtype=np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    flat = (cv2.dilate(small, kernel) - cv2.erode(small, kernel)) <= MASK_FLAT
    colour = (frame if frame.ndim == 3 else frame[..., None])[::step, ::step]
    rim = max(1, MASK_MARGIN // step)
    boxes: list[Box] = []
    for level in _levels(small, flat):
        near = (flat & (np.abs(small.astype(np.int16) - level) <= MASK_FLAT)).astype(np.uint8)
        at_level = cv2.morphologyEx(near, cv2.MORPH_OPEN, _OPENING)  # JPEG's ringing's specks
        count, _, stats, _ = cv2.connectedComponentsWithStats(at_level, connectivity=4)
        for x, y, w, h, area in stats[1:count].tolist():
            inside = (slice(y + rim, y + h - rim), slice(x + rim, x + w - rim))
            if _is_mask(small, level, (x, y, w, h), area, step) and _drawn(
                small[inside], colour[inside]
            ):
                box = _full_size((x, y, w, h), step, grey.shape)
                if not any(box.overlaps(other) for other in boxes):  # a level's neighbour
                    boxes.append(box)
    return boxes


def _levels(small: NDArray[np.uint8], flat: NDArray[np.bool_]) -> list[int]:
    """The grey levels that enough flat pixels sit at to be a mask, most populous first."""
    counts = np.bincount(small[flat], minlength=256)[:MASK_BRIGHTEST].astype(np.int64)
    near = np.convolve(counts, np.ones(2 * MASK_FLAT + 1, np.int64), "same")
    least = MASK_LEAST * small.size
    window = np.lib.stride_tricks.sliding_window_view(
        np.pad(near, MASK_FLAT, constant_values=-1), 2 * MASK_FLAT + 1
    )
    peaks = np.flatnonzero((near >= least) & (near == window.max(axis=1))).tolist()
    peaks = [lv for i, lv in enumerate(peaks) if i == 0 or lv - peaks[i - 1] > MASK_FLAT]
    return sorted(peaks, key=lambda lv: -int(near[lv]))[:MASK_LEVELS]


def _drawn(inside: NDArray[np.uint8], colour: NDArray[np.uint8]) -> bool:
    """Whether a flat box (inside its rim) is drawn, not filmed: a drawn box is one exact
    level (JPEG keeps a flat block exact), where a plain wall, smoothed by blur or a
    stream's denoising, still spans a few; and it is not clipped (a window blown out by
    daylight, white or, under an unbalanced lamp, orange)."""
    if inside.size == 0:
        return False
    middle = float(np.median(inside))
    exact = float((np.abs(inside.astype(np.int16) - middle) <= 1).mean())
    brightest = float(np.median(colour.reshape(-1, colour.shape[-1]), axis=0).max())
    return exact >= MASK_EXACT and brightest < MASK_BRIGHTEST


def _is_mask(small: NDArray[np.uint8], level: int, box: tuple[int, int, int, int],
             area: int, step: int) -> bool:  # fmt: skip
    """A rectangle of one level, sharp against the picture on its inner sides."""
    x, y, w, h = box
    if not MASK_LEAST * small.size <= area <= MASK_MOST * small.size or area < MASK_FILLED * w * h:
        return False
    height, width = small.shape
    reach = max(2, (MASK_MARGIN + 4) // step)  # past the ringing rim, on both sides of it
    outside = []
    if y - reach >= 0:
        outside.append(small[y - reach, x : x + w])
    if y + h - 1 + reach < height:
        outside.append(small[y + h - 1 + reach, x : x + w])
    if x - reach >= 0:
        outside.append(small[y : y + h, x - reach])
    if x + w - 1 + reach < width:
        outside.append(small[y : y + h, x + w - 1 + reach])
    if len(outside) < 2:  # a band along a whole side: a black sky over a horizon as often
        return False
    sharp = sum(float(np.abs(line.astype(np.float32) - level).mean()) >= MASK_EDGE
                for line in outside)  # fmt: skip
    return sharp >= max(2, len(outside) - 1)  # one side may border picture of its own level


def _full_size(box: tuple[int, int, int, int], step: int, shape: tuple[int, ...]) -> Box:
    """The box at the frame's scale, grown by the ringing rim, within the frame."""
    x, y, w, h = (v * step for v in box)
    x0, y0 = max(0, x - MASK_MARGIN), max(0, y - MASK_MARGIN)
    x1 = min(shape[1], x + w + step - 1 + MASK_MARGIN)
    y1 = min(shape[0], y + h + step - 1 + MASK_MARGIN)
    return Box(x0, y0, x1 - x0, y1 - y0)


def fill_masks(frame: Frame, boxes: list[Box], previous: Frame | None = None,
               ) -> tuple[Frame, Frame | None]:  # fmt: skip
    """``frame`` (BGR) with each box filled with the mean colour of the rest of it, and
    ``previous`` filled alike (the same colour: a still mask shows no motion); the caller's
    arrays are not written."""
    import cv2

    rest = np.full(frame.shape[:2], 255, np.uint8)
    for box in boxes:
        rest[box.slices()] = 0
    if rest.any():
        colour = np.array(cv2.mean(frame, mask=rest)[:3])
    else:
        colour = frame.reshape(-1, 3).mean(axis=0)
    fill = np.round(colour).astype(np.uint8)
    filled = frame.copy()
    if previous is not None and previous.shape == frame.shape:
        previous = previous.copy()
        for box in boxes:
            previous[box.slices()] = fill
    for box in boxes:
        filled[box.slices()] = fill
    return filled, previous
