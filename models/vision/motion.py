"""How much of a camera's view moved since the frame before: the scene reader's activity.

Frames are seconds apart (``camera.capture_interval_s``), so what changed between them is
compared, not tracked. The plain difference of the two frames' grey levels counted every
change as movement: a camera's automatic exposure brightening the view by a fifth read as
three times the movement of a street of walkers (OpenCV's ``vtest.avi``: 0.71 against 0.21),
a lamp dimmed or a gamma change as the most movement there is, and a camera shaken by three
pixels as a street's worth, a camera turned (a pan) as all of its view moving. Here the
frame before is put in this one's place: a shift of the whole view (a shake, a small pan)
found by phase correlation, or a camera turned further, zoomed or rolled, found from the
corners both frames show (ORB features, a similarity by RANSAC, refined by ECC); it is given
this one's light, over the whole view (its quantiles matched: exposure, gain, gamma) or block
by block (a lamp in a corner, the sun or a cloud on part of the view), whichever leaves less
changed; then only pixels that changed beyond the frames' own noise count, and none where a
colour is clipped. Two frames
that share no view (a car's camera while driving, a camera moved elsewhere) are not compared:
no movement is measured, and none is made up. Figures: docs/scene-reader.md, "Motion
between frames" (``scripts/motion_conditions.py``).
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

FULL = 0.25  # share of the view that moved at which activity is full (a street of walkers: 0.07)
STEP = 10.0  # grey levels: a change smaller than this is noise or compression, whatever the noise
NOISE_TIMES = 4.0  # a change counts beyond this many times the frames' median difference
# grey levels: a larger median difference is the view changing, not noise (a noisy night
# camera's is 3 at the analysis width)
NOISE_MOST = 5.0
# Of each side: up to it phase correlation finds a pan (within a pixel in 98 of 100
# photographs turned by 0.3 of the view); a larger turn is left to the features.
SHAKE_MOST = 0.3
# Phase correlation's peak: a shaken view's is 0.8 or more, a street of walkers shaken by a
# pixel 0.3-0.4; two unrelated photographs' under 0.16 in 95 of 100 pairs, 0.24 at most, a
# view and its mirror image up to 0.65: so the shift must also leave less of the view
# changed (SHAKE_GAIN).
SHAKE_PEAK = 0.25
SHAKE_GAIN = 0.85  # the shift is undone only where it leaves at most this of the difference
# px at the analysis width: a smaller shift leaves next to nothing changed. A mount shaken by
# 1 px at 640 wide is a quarter of one here, and sharp edges still read it (0.29 for a
# building's photograph, 0.04 of the held-out photographs ≥ 0.1 when this was 0.25).
SHAKE_LEAST = 0.1
SAME = 0.9  # phase correlation's peak of a view that stood still and barely changed: done
# Features (ORB, sized for the analysis width: 160 px): a similarity (shift, turn, zoom)
# from at least MATCHES_LEAST matches that agree within 2 px. Two unrelated photographs give
# 12 or more in 0-6 of 100 pairs (the similarity found must also explain the view,
# SHAKE_GAIN); a view turned by 0.6 of itself 16 or more in 9 of 10, zoomed by 1.5 6-15.
FEATURES = 500
MATCHES_LEAST = 12
# Two frames with at least this many corners each and no similarity between them show two
# views (5 of 100 photographs have fewer: a flat sky, fog, a dark room).
CORNERS_LEAST = 60
ZOOM_MOST = 1.7  # either way: a larger zoom leaves too little alike (and RANSAC's odd fits)
OVERLAP_LEAST = 0.25  # of the view: less that both frames see is not compared
CLIPPED = 250  # a channel this bright may be clipped
# The light of a part of the view: blocks of this many pixels at the analysis width (16 × 12
# of them); a change of light of up to LIGHT_MOST times, either way, is taken for light.
# More is taken for something come into view: a flat dark coat over a sixth of the view
# read 0.40 where light of any strength was undone, 0.64 so, 0.99 with one mapping over the
# view (the street's walkers in it: 0.30). LIGHT_DARK keeps the ratio of dark pixels
# from following their noise.
LIGHT_BLOCK = 10
LIGHT_MOST = 2.0
LIGHT_DARK = 16.0
_LEVELS = np.linspace(0.0, 100.0, 65)  # the quantiles matched between the two frames


def activity(current: NDArray[np.uint8], previous: NDArray[np.uint8]) -> float:
    """The share of the view that moved between two frames of the same size (the analysis
    width; BGR, or grey), scaled so that a quarter of it is 1; 0 when the sizes differ or the
    frames show two views."""
    import cv2

    if current.shape != previous.shape or current.ndim not in (2, 3):
        return 0.0
    placed = _in_place(_grey(previous), _grey(current))
    if placed is None:
        return 0.0
    # Where a channel is at the top of its range in either frame, its grey level no longer
    # follows the exposure (an exposure raised by half clips a third of a street's view,
    # and each colour clips at another grey level): nothing there is taken to have moved.
    clipped = (_brightest(previous) >= CLIPPED).astype(np.uint8)
    if placed.turn is not None:  # where the frame before's clipped pixels now stand
        clipped = _warped(clipped, placed.turn, cv2.INTER_NEAREST)
    blown = ((_brightest(current) >= CLIPPED) | clipped.astype(bool)).astype(np.uint8)
    valid = placed.valid & ~cv2.dilate(blown, np.ones((3, 3), np.uint8)).astype(bool)
    if not valid.any():
        return 0.0
    # The light changed over the whole view (one mapping of levels: exposure, gamma) or
    # part by part: whichever leaves less changed.
    before = min((placed.before, _relit(placed)), key=lambda b: _left(placed.now, b, valid))
    change = np.abs(placed.now - before)
    floor = min(NOISE_MOST, float(np.median(change[valid])))  # most of a view stands still
    moved = ((change > max(STEP, NOISE_TIMES * floor)) & valid).astype(np.uint8)
    # A pixel here and there is noise a median let through; a thing that moved is a patch.
    moved = cv2.morphologyEx(moved, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    return min(1.0, float(moved.sum()) / float(valid.sum()) / FULL)


class _Placed(NamedTuple):
    """The frame before with this one's levels, in its place; this one (blurred as much as
    an enlarged frame before is); where both frames see the same; the turn that placed it
    (a 2 × 3 matrix from the frame before to this one; None: it stood still); the frame
    before in its place as it was lit."""

    before: NDArray[np.float32]
    now: NDArray[np.float32]
    valid: NDArray[np.bool_]
    turn: NDArray[np.float64] | None
    raw: NDArray[np.float32]


def _relit(placed: _Placed) -> NDArray[np.float32]:
    """The frame before lit as this one is, block by block: a lamp switched on in a corner,
    sunlight through a window, a cloud over half the view change the light of a part of
    it, which one mapping of levels over the whole view does not undo (each read 0.6-1.0 on
    the street of walkers). Each block's light is the median of its pixels' ratio (what
    moves covers less than half a block at the analysis width), up to LIGHT_MOST either way,
    spread smoothly between the blocks' middles; then the levels are matched as before."""
    import cv2

    raw, now, valid = placed.raw, placed.now, placed.valid
    height, width = now.shape
    rows, columns = -(-height // LIGHT_BLOCK), -(-width // LIGHT_BLOCK)
    ratio = np.full((rows * LIGHT_BLOCK, columns * LIGHT_BLOCK), np.nan, np.float32)
    ratio[:height, :width] = np.where(valid, np.log(now + LIGHT_DARK) - np.log(raw + LIGHT_DARK),
                                      np.nan)  # fmt: skip
    square = ratio.reshape(rows, LIGHT_BLOCK, columns, LIGHT_BLOCK).transpose(0, 2, 1, 3)
    blocks = square.reshape(rows, columns, -1)  # each block's pixels in a row
    seen = ~np.isnan(blocks).all(axis=2)
    light = np.zeros((rows, columns), np.float32)
    light[seen] = np.nanmedian(blocks[seen], axis=1)
    light[~seen] = np.median(light[seen]) if seen.any() else 0.0
    light = np.clip(light, -np.log(LIGHT_MOST), np.log(LIGHT_MOST)).astype(np.float32)
    size = (columns * LIGHT_BLOCK, rows * LIGHT_BLOCK)
    field = cv2.resize(light, size, interpolation=cv2.INTER_LINEAR)[:height, :width]
    relit = (raw + LIGHT_DARK) * np.exp(field) - LIGHT_DARK
    return _mapped(relit, _levels(relit[valid], now[valid]))


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
    source = _quantiles(before)
    # np.interp needs rising points: a flat frame's quantiles are all one level.
    source = np.maximum.accumulate(source + np.arange(len(source)) * 1e-6)
    return source, _quantiles(now)


def _quantiles(values: NDArray[np.float32]) -> NDArray[np.float64]:
    """np.percentile(values, _LEVELS), from one sort: a fifteenth of the time here (0.05 ms
    against 0.7 for a frame at the analysis width), as a frame is levelled up to six times."""
    ordered = np.sort(values, axis=None)
    at = _LEVELS / 100.0 * (ordered.size - 1)
    low = np.floor(at).astype(np.intp)
    high = np.minimum(low + 1, ordered.size - 1)
    below, above = ordered[low].astype(np.float64), ordered[high].astype(np.float64)
    return below + (at - low) * (above - below)


def _mapped(frame: NDArray[np.float32], levels: tuple[NDArray[np.float64], NDArray[np.float64]],
            ) -> NDArray[np.float32]:  # fmt: skip
    return np.interp(frame, *levels).astype(np.float32)


def _left(now: NDArray[np.float32], before: NDArray[np.float32], where: NDArray[np.bool_]) -> float:
    """The difference left between two frames, each pixel's held to STEP: what moved differs
    by more wherever the view is put, so it does not pull the placing its way."""
    return float(np.minimum(np.abs(now - before), STEP)[where].mean())


def _in_place(seen: NDArray[np.float32], now: NDArray[np.float32]) -> _Placed | None:
    """The frame before (``seen``) with this one's levels and, where one turn of the whole
    view explains the change (a camera shaken by a door, a truck, the wind; turned, zoomed),
    put in this one's place; None where the two frames show two views."""
    height, width = now.shape
    everywhere = np.ones((height, width), bool)
    still = _Placed(_mapped(seen, _levels(seen, now)), now, everywhere, None, seen)
    if height < 16 or width < 16:
        return still
    shift, peak = _shift(seen, now, still.before)
    if shift is None and peak >= SAME:  # a view that stood still: nothing to undo
        return still
    found = _similarity(seen, now)
    if isinstance(found, str) and shift is None:  # "two views"
        return None
    turns = [t for t in (shift, found) if isinstance(t, np.ndarray) and not _stood(t, now.shape)]
    placings = [(turn, _placed(seen, now, turn)) for turn in turns]
    scored = [(_left(p.now, p.before, p.valid), p) for _, p in placings if p is not None]
    if not scored:
        # The corners agree on a turn that leaves too little of the view in both frames.
        return None if any(turn is found for turn, _ in placings) else still
    least, best = min(scored, key=lambda pair: pair[0])
    if least > SHAKE_GAIN * _left(best.now, still.before, best.valid):
        return still
    return best


def _shift(seen: NDArray[np.float32], now: NDArray[np.float32], before: NDArray[np.float32],
           ) -> tuple[NDArray[np.float64] | None, float]:  # fmt: skip
    """A shift of the whole view up to SHAKE_MOST of it, by phase correlation refined to an
    eighth of a pixel (None: none found, or under SHAKE_LEAST), and the correlation's peak."""
    import cv2

    height, width = now.shape
    window = cv2.createHanningWindow((width, height), cv2.CV_32F)
    # Copies: OpenCV (4.14) multiplies the window into the frames it is given, in place.
    (dx, dy), peak = cv2.phaseCorrelate(before.copy(), now.copy(), window)
    if peak < SHAKE_PEAK or abs(dx) > SHAKE_MOST * width or abs(dy) > SHAKE_MOST * height:
        return None, peak
    if max(abs(dx), abs(dy)) < SHAKE_LEAST:  # a camera that stood still
        return None, peak
    x, y = int(np.ceil(abs(dx))) + 2, int(np.ceil(abs(dy))) + 2
    inside = np.zeros((height, width), bool)  # what both frames see, the edges shifted in left out
    inside[y : height - y, x : width - x] = True
    # The levels again, from what both frames see: a turned camera sees another part.
    shifted = _mapped(seen, _levels(_warped(seen, _moved_by(dx, dy))[inside], now[inside]))

    # With things moving in view phase correlation's shift is off by up to a pixel (a street
    # of walkers shaken by 0.6 px), which leaves every edge changed: a search in halves, then
    # eighths, of a pixel around it finds the shift (the walkers shaken by 3 px at 640 wide
    # read 0.36 with it, 0.47 without, 0.31 unshaken; scripts/motion_conditions.py).
    best = (dx, dy)
    for step, reach in ((0.5, 2), (0.125, 3)):
        x0, y0 = best
        near = [(x0 + i * step, y0 + j * step) for i in range(-reach, reach + 1)
                for j in range(-reach, reach + 1)]  # fmt: skip
        _, best = min(((_left(now, _warped(shifted, _moved_by(*s)), inside), s) for s in near),
                      key=lambda scored: scored[0])  # fmt: skip
    return _moved_by(*best), peak


def _similarity(seen: NDArray[np.float32], now: NDArray[np.float32],
                ) -> NDArray[np.float64] | Literal["two views"] | None:  # fmt: skip
    """The turn (shift, rotation, zoom) from the frame before to this one that the corners
    both show agree on, refined; "two views" where both show plenty of corners and none
    agree; None where there are too few corners to tell."""
    import cv2

    orb = cv2.ORB.create(nfeatures=FEATURES, scaleFactor=1.2, nlevels=4, edgeThreshold=12,
                         patchSize=12, fastThreshold=10)  # fmt: skip
    corners = [orb.detectAndCompute(np.clip(f, 0, 255).astype(np.uint8), None) for f in (seen, now)]
    (then, described_then), (here, described_here) = corners
    if described_then is None or described_here is None:
        return None
    unknown: Literal["two views"] | None = "two views"
    if min(len(then), len(here)) < CORNERS_LEAST:
        unknown = None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(described_then, described_here, k=2)
    # Lowe's ratio: a corner whose best match is not clearly better than its second is dropped.
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < MATCHES_LEAST:
        return unknown
    source = np.array([then[m.queryIdx].pt for m in good], dtype=np.float32)
    target = np.array([here[m.trainIdx].pt for m in good], dtype=np.float32)
    found, agreed = cv2.estimateAffinePartial2D(source, target, method=cv2.RANSAC,
                                                ransacReprojThreshold=2.0)  # fmt: skip
    if found is None or int(agreed.sum()) < MATCHES_LEAST:
        return unknown
    turn = np.asarray(found, dtype=np.float64)
    if not _zoom_within(turn):
        return unknown
    return turn if _stood(turn, now.shape) else _refined(turn, seen, now)


def _refined(turn: NDArray[np.float64], seen: NDArray[np.float32], now: NDArray[np.float32],
             ) -> NDArray[np.float64]:  # fmt: skip
    """The turn refined on every pixel (ECC, which a change of exposure does not move):
    corners found at 160 px put a zoom of 1.25 at 1.242-1.251, which leaves every edge changed
    near the sides; ECC puts it within 0.001. Kept where it leaves less difference."""
    import cv2

    # ECC finds the warp from this frame's pixels to the frame before's: the inverse turn.
    start = np.asarray(cv2.invertAffineTransform(turn), dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 1e-4)
    everywhere = np.ones(now.shape, np.uint8)
    try:  # the frames come smoothed: no more blur (1)
        _, warp = cv2.findTransformECC(now, seen, start, cv2.MOTION_AFFINE, criteria, everywhere, 1)
    except cv2.error:  # it did not converge: the corners' turn stands
        return turn
    better = np.asarray(cv2.invertAffineTransform(warp), dtype=np.float64)
    if not _zoom_within(better):
        return turn

    def left(candidate: NDArray[np.float64]) -> float:
        inside = _seen_by_both(candidate, now.shape).astype(bool)
        return _left(now, _warped(seen, candidate), inside) if inside.any() else float("inf")

    return better if left(better) < left(turn) else turn


def _placed(seen: NDArray[np.float32], now: NDArray[np.float32], turn: NDArray[np.float64],
            ) -> _Placed | None:  # fmt: skip
    """The frame before turned into this one's place, its levels matched on what both see;
    None where that is under OVERLAP_LEAST of the view."""
    import cv2

    zoom = _zoom(turn)
    # An enlarged frame is blurred by its enlarging (its pixels' smoothing grows with it);
    # a frame shrunk is sharper than one taken at that size: the sharper one is blurred to
    # match, so that edges do not read as changed (a zoom of 1.25: 0.11 of the walkers'
    # view changed without it, 0.05 with).
    if zoom > 1.05:
        now = np.asarray(cv2.GaussianBlur(now, (5, 5), float(np.sqrt(zoom * zoom - 1))), np.float32)
    elif zoom < 0.95:
        sigma = 0.5 * float(np.sqrt(1 / (zoom * zoom) - 1))
        seen = np.asarray(cv2.GaussianBlur(seen, (5, 5), sigma), dtype=np.float32)
    inside = _seen_by_both(turn, now.shape)
    # Two pixels in from the edges: the warp blends them with what lies outside.
    valid = cv2.erode(inside, np.ones((5, 5), np.uint8)).astype(bool)
    if valid.mean() < OVERLAP_LEAST:
        return None
    turned = _warped(seen, turn)
    # The levels again, from what both frames see: a turned camera sees another part.
    return _Placed(_mapped(turned, _levels(turned[valid], now[valid])), now, valid, turn, turned)


def _stood(turn: NDArray[np.float64], shape: tuple[int, ...]) -> bool:
    """Whether a turn moves no pixel of the view by SHAKE_LEAST or more."""
    height, width = shape[:2]
    corners = np.array([[0, 0, 1], [width, 0, 1], [0, height, 1], [width, height, 1]])
    return bool(np.abs(corners @ turn.T - corners[:, :2]).max() < SHAKE_LEAST)


def _seen_by_both(turn: NDArray[np.float64], shape: tuple[int, ...]) -> NDArray[np.uint8]:
    """1 where the frame before, turned by ``turn``, covers this one; 0 elsewhere."""
    import cv2

    return _warped(np.ones(shape[:2], np.uint8), turn, cv2.INTER_NEAREST, border=0)


def _zoom_within(turn: NDArray[np.float64]) -> bool:
    return 1 / ZOOM_MOST <= _zoom(turn) <= ZOOM_MOST


def _zoom(turn: NDArray[np.float64]) -> float:
    return float(np.hypot(turn[0, 0], turn[1, 0]))


def _moved_by(dx: float, dy: float) -> NDArray[np.float64]:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])


def _warped(frame: NDArray[Any], turn: NDArray[np.float64], interpolation: int = 1,
            border: int | None = None) -> NDArray[Any]:  # fmt: skip
    """``frame`` turned by ``turn`` (bilinear by default; its edges repeated outward, or
    ``border`` where given)."""
    import cv2

    size = (frame.shape[1], frame.shape[0])
    if border is None:
        moved = cv2.warpAffine(frame, turn, size, flags=interpolation,
                               borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    else:
        moved = cv2.warpAffine(frame, turn, size, flags=interpolation,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=border)  # fmt: skip
    return np.asarray(moved)
