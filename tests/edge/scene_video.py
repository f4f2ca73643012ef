"""A test video whose scene changes from a dim, still photograph to a bright, busy one."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

SIZE = (320, 240)


def write_scene_change(path: Path, photos: Path, seconds_each: float = 8.0, fps: int = 10) -> Path:
    """The moon's grey surface held still, then a football match panned across: real
    photographs (Debian's scikit-image and OpenCV samples, ``photos``), as a camera would
    see them; the reader is fitted on photographs, and a flat synthetic frame says little
    about what it does on them."""
    dim = cv2.imread(str(photos / "moon.png"))
    busy = cv2.imread(str(photos / "messi5.jpg"))
    if dim is None or busy is None:
        raise FileNotFoundError(f"moon.png and messi5.jpg in {photos}")
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, SIZE)
    still = cv2.resize(dim, SIZE, interpolation=cv2.INTER_AREA)
    for _ in range(int(seconds_each * fps)):
        writer.write(still)
    width = busy.shape[1]
    frames = int(seconds_each * fps)
    span = width // 4  # the pan: a window three quarters wide sweeping across and back
    for i in range(frames):
        left = int(span * (1 - abs(1 - 2 * i / max(frames - 1, 1))))
        window = np.ascontiguousarray(busy[:, left : left + width - span])
        writer.write(cv2.resize(window, SIZE, interpolation=cv2.INTER_AREA))
    writer.release()
    return path
