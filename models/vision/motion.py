"""How much of a camera's view moved since the frame before: the scene reader's activity.

Frames are seconds apart (``camera.capture_interval_s``), so what changed between them is
compared, not tracked. The plain difference of the two frames' grey levels counted every
change as movement: a camera's automatic exposure brightening the view by a fifth read as
three times the movement of a street of walkers (OpenCV's ``vtest.avi``: 0.71 against 0.21),
a lamp dimmed or a gamma change as the most movement there is, and a camera shaken by three
pixels as a street's worth, a camera turned (a pan) as all of its view moving. Here the
frame before is first given this one's levels (their quantiles matched: exposure, gain,
gamma) and put in its place (a shift of the whole view, a shake or a pan, found by phase
correlation, undone); then only pixels that changed beyond the frames' own noise count, and
none where a colour is clipped. Figures: docs/scene-reader.md, "Motion
between frames" (``scripts/motion_conditions.py``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FULL = 0.25  # share of the view that moved at which activity is full (a street of walkers: 0.07)
STEP = 10.0  # grey levels: a change smaller than this is noise or compression, whatever the noise
NOISE_TIMES = 4.0  # a change counts beyond this many times the frames' median difference
# grey levels: a larger median difference is the view changing, not noise (a noisy night
# camera's is 3 at the analysis width)
NOISE_MOST = 5.0
# Of each side: a larger shift of the whole view leaves too little that both frames see (a
# camera turned further, a drive); up to it phase correlation finds a pan (within a pixel in
# 98 of 100 photographs turned by 0.3 of the view).
SHAKE_MOST = 0.3
# Phase correlation's peak: a shaken view's is 0.8 or more, a street of walkers shaken by a
# pixel 0.3-0.4; two unrelated photographs' under 0.16 in 95 of 100 pairs, 0.24 at most, a
# view and its mirror image up to 0.65: so the shift must also leave less of the view
# changed (SHAKE_GAIN).
SHAKE_PEAK = 0.25
SHAKE_GAIN = 0.85  # the shift is undone only where it leaves at most this of the difference
SHAKE_LEAST = 0.25  # px at the analysis width: a smaller shift leaves next to nothing changed
CLIPPED = 250  # a channel this bright may be clipped
_LEVELS = np.linspace(0.0, 100.0, 65)  # the quantiles matched between the two frames


def activity(current: NDArray[np.uint8], previous: NDArray[np.uint8]) -> float:
    """The share of the view that moved between two frames of the same size (the analysis
    width; BGR, or grey), scaled so that a quarter of it is 1; 0 when the sizes differ."""
    import cv2

    if current.shape != previous.shape or current.ndim not in (2, 3):
        return 0.0
    now = _grey(current)
    before, valid = _in_place(_grey(previous), now)
    # Where a channel is at the top of its range in either frame, its grey level no longer
    # follows the exposure (an exposure raised by half clips a third of a street's view,
    # and each colour clips at another grey level): nothing there is taken to have moved.
    blown = np.maximum(_brightest(current), _brightest(previous)) >= CLIPPED
    valid &= ~cv2.dilate(blown.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if not valid.any():
        return 0.0
    change = np.abs(now - before)
    floor = min(NOISE_MOST, float(np.median(change[valid])))  # most of a view stands still
    moved = ((change > max(STEP, NOISE_TIMES * floor)) & valid).astype(np.uint8)
    # A pixel here and there is noise a median let through; a thing that moved is a patch.
    moved = cv2.morphologyEx(moved, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    return min(1.0, float(moved.sum()) / float(valid.sum()) / FULL)


def _grey(frame: NDArray[np.uint8]) -> NDArray[np.float32]:
    """The frame's grey levels, smoothed a little (sensor noise, JPEG's blocks)."""
    import cv2

    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    return np.asarray(cv2.GaussianBlur(grey.astype(np.float32), (3, 3), 0), dtype=np.float32)


def _brightest(frame: NDArray[np.uint8]) -> NDArray[np.uint8]:
    return np.asarray(frame.max(axis=2) if frame.ndim == 3 else frame, dtype=np.uint8)


def _levels(before: NDArray[np.float32], now: NDArray[np.float32],
            ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # fmt: skip
    """How grey levels of ``before`` map onto ``now``'s (two sets of the same pixels, or of
    whole frames): their quantiles, as rising points for np.interp. A change of exposure,
    gain or gamma over the view is no movement."""
    source = np.percentile(before, _LEVELS).astype(np.float64)
    # np.interp needs rising points: a flat frame's quantiles are all one level.
    source = np.maximum.accumulate(source + np.arange(len(source)) * 1e-6)
    return source, np.percentile(now, _LEVELS).astype(np.float64)


def _mapped(frame: NDArray[np.float32], levels: tuple[NDArray[np.float64], NDArray[np.float64]],
            ) -> NDArray[np.float32]:  # fmt: skip
    return np.interp(frame, *levels).astype(np.float32)


def _in_place(seen: NDArray[np.float32], now: NDArray[np.float32],
              ) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:  # fmt: skip
    """The frame before (``seen``) with this one's levels and, where one shift of the whole
    view explains the change (a camera shaken by a door, a truck, the wind, or turned a
    little), put in this one's place; and where both frames see the same."""
    import cv2

    height, width = now.shape
    valid = np.ones((height, width), dtype=bool)
    before = _mapped(seen, _levels(seen, now))
    if height < 16 or width < 16:
        return before, valid
    window = cv2.createHanningWindow((width, height), cv2.CV_32F)
    # Copies: OpenCV (4.14) multiplies the window into the frames it is given, in place.
    (dx, dy), peak = cv2.phaseCorrelate(before.copy(), now.copy(), window)
    if peak < SHAKE_PEAK or abs(dx) > SHAKE_MOST * width or abs(dy) > SHAKE_MOST * height:
        return before, valid
    if max(abs(dx), abs(dy)) < SHAKE_LEAST:  # a camera that stood still: nothing to undo
        return before, valid
    x, y = int(np.ceil(abs(dx))) + 2, int(np.ceil(abs(dy))) + 2
    inside = np.zeros_like(valid)  # where both frames see the same, the edges shifted in left out
    inside[y : height - y, x : width - x] = True
    # The levels again, from what both frames see: a turned camera sees another part.
    shifted = _mapped(seen, _levels(_warped(seen, dx, dy)[inside], now[inside]))

    def left(shift: tuple[float, float]) -> float:
        """The difference a shift leaves, each pixel's held to STEP: what moved differs by
        more wherever the view is put, so it does not pull the shift its way."""
        return float(np.minimum(np.abs(now - _warped(shifted, *shift)), STEP)[inside].mean())

    # With things moving in view phase correlation's shift is off by up to a pixel (a street
    # of walkers shaken by 0.6 px), which leaves every edge changed: a search in halves, then
    # eighths, of a pixel around it finds the shift (the walkers shaken by 3 px at 640 wide
    # read 0.36 with it, 0.47 without, 0.31 unshaken; scripts/motion_conditions.py).
    best = (dx, dy)
    for step, reach in ((0.5, 2), (0.125, 3)):
        x0, y0 = best
        near = [(x0 + i * step, y0 + j * step) for i in range(-reach, reach + 1)
                for j in range(-reach, reach + 1)]  # fmt: skip
        least, best = min(((left(s), s) for s in near), key=lambda scored: scored[0])
    if least > SHAKE_GAIN * left((0.0, 0.0)):
        return before, valid
    return _warped(shifted, *best), inside


def _warped(frame: NDArray[np.float32], dx: float, dy: float) -> NDArray[np.float32]:
    import cv2

    turn = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32)
    size = (frame.shape[1], frame.shape[0])
    moved = cv2.warpAffine(frame, turn, size, flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    return np.asarray(moved, dtype=np.float32)
