"""A test video whose scene changes from dim and still to bright and busy."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def write_scene_change(path: Path, seconds_each: float = 8.0, fps: int = 10) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (320, 240))
    rng = np.random.default_rng(0)
    still = np.full((240, 320, 3), 35, np.uint8)
    still[100:140, 100:220] = (50, 45, 40)
    for _ in range(int(seconds_each * fps)):
        writer.write(still)
    for i in range(int(seconds_each * fps)):
        frame = np.full((240, 320, 3), (40, 190, 250), np.uint8)  # warm, bright (BGR)
        for _ in range(12):
            x, y = rng.integers(0, 280), rng.integers(0, 200)
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            cv2.rectangle(frame, (x, y), (x + 40, y + 40), colour, -1)
        cv2.circle(frame, ((i * 17) % 320, 120), 30, (0, 0, 255), -1)
        writer.write(frame)
    writer.release()
    return path
