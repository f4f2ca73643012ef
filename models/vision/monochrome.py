"""Frames without colour: a camera in night vision (infrared), a black-and-white camera, an old
photograph.

Such a frame is not a mood: most security and dashboard cameras switch to infrared at dusk,
and the fusion fitted on colour photographs reads almost every colourless frame gloomy (the
colourless photographs it learnt from are mostly grey weather and old portraits; on grey copies
of the held-out photographs it is right 0.27 of the time, docs/scene-reader.md). The reader
therefore tells such frames apart and reads them with a fusion fitted on colourless copies of
the same photographs.

A frame counts as colourless when what colour it has follows its brightness alone: the
chroma (Lab's a and b) fitted as a function of lightness leaves almost nothing. That takes in
a pure grey frame, a sepia or blue-toned one and an infrared camera's tinted picture, and
leaves out a sunset or a snow field with a blue sky, whose colour lies in parts of the frame,
not in their lightness.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Frame = NDArray[np.uint8]

# The 99th percentile of what the lightness leaves of the chroma, in Lab units (a and b of
# OpenCV's 8-bit Lab): 0 for grey, ~1-2 for a sepia or blue tone, 3-6 for a tinted infrared
# picture with colour noise and JPEG artefacts; the labelled photographs lie above 6 but for
# 32 of 565, which are black-and-white or nearly colourless already (snow, fog, an old toned
# print) and lose little read as grey.
UNTINTED = 6.0
_WIDTH = 160  # enough pixels for a percentile; the colour of a frame is not in its detail


def tint_residual(frame: Frame) -> float:
    """How much of the frame's colour its lightness does not explain (99th percentile of the
    chroma left after fitting a and b as quadratics in lightness); 0 for a grey frame."""
    import cv2

    if frame.ndim == 2 or frame.shape[2] == 1:
        return 0.0
    small: NDArray[Any] = frame
    if frame.shape[1] > _WIDTH:  # the reader gives its analysis copy, 160 px already
        height = max(1, round(frame.shape[0] * _WIDTH / frame.shape[1]))
        small = cv2.resize(frame, (_WIDTH, height), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(small, cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(np.float64)
    light = lab[:, 0] / 255.0
    chroma = lab[:, 1:] - 128.0
    if not np.any(chroma):
        return 0.0
    basis = np.column_stack([light, light**2, np.ones_like(light)])
    coefficients, *_ = np.linalg.lstsq(basis, chroma, rcond=None)
    left = np.hypot(*(chroma - basis @ coefficients).T)
    return float(np.percentile(left, 99))


def is_monochrome(frame: Frame) -> bool:
    """Whether the frame has no colour of its own (grey, toned, infrared)."""
    return tint_residual(frame) <= UNTINTED


def grey(frame: Frame) -> Frame:
    """The frame as a monochrome camera gives it: its luminance in all three channels (what
    the monochrome fusion was fitted on; a tint is dropped)."""
    import cv2

    if frame.ndim == 3:
        frame = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    return np.asarray(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
