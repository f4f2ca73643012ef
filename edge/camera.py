"""Cameras: OpenCV sources behind one small interface, and a watchdog that keeps them alive.

Sources: a device index ("0"), a video file, an RTSP/HTTP URL, or a folder or glob of images.
A read returns the newest frame, not a stale buffered one: live streams are drained by a
grabber thread that decodes only when asked; files and image folders advance with the clock.
"""

from __future__ import annotations

import glob
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

logger = logging.getLogger(__name__)

Frame = NDArray[np.uint8]
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


class CameraError(Exception):
    """The source cannot give a frame now; the message says why and what to check."""


class FrameSource(Protocol):
    def open(self) -> None: ...
    def read(self) -> Frame: ...
    def close(self) -> None: ...


def describe(spec: str) -> str:
    """What kind of source a camera spec names."""
    if spec.isdigit():
        return "device"
    if "://" in spec:
        return "stream"
    if any(ch in spec for ch in "*?[") or Path(spec).is_dir():
        return "images"
    return "file"


def make_source(spec: str, loop: bool, clock: Callable[[], float] = time.monotonic) -> FrameSource:
    kind = describe(spec)
    if kind == "images":
        return ImageFolderSource(spec, loop, clock)
    if kind == "file":
        return VideoFileSource(spec, loop, clock)
    return LiveSource(spec)


class LiveSource:
    """A camera device or network stream, drained continuously so reads are fresh."""

    def __init__(self, spec: str) -> None:
        self._spec = spec
        self._capture: object | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._grabbed = 0
        self._failed = False

    def open(self) -> None:
        import cv2

        target: int | str = int(self._spec) if self._spec.isdigit() else self._spec
        capture = cv2.VideoCapture(target)
        if not capture.isOpened():
            capture.release()
            raise CameraError(f"cannot open camera {self._spec!r} (unplugged? wrong URL?)")
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._capture, self._failed, self._grabbed = capture, False, 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._drain, name="camera-grabber", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                ok = self._capture is not None and self._capture.grab()  # type: ignore[attr-defined]
                self._grabbed += 1 if ok else 0
            if not ok:
                self._failed = True
                return
            time.sleep(0.005)

    def read(self) -> Frame:
        if self._failed:
            raise CameraError(f"camera {self._spec!r} stopped delivering frames")
        with self._lock:
            if self._capture is None or self._grabbed == 0:
                raise CameraError(f"camera {self._spec!r} has no frame yet")
            ok, frame = self._capture.retrieve()  # type: ignore[attr-defined]
        if not ok or frame is None:
            raise CameraError(f"camera {self._spec!r} gave an unreadable frame")
        return np.asarray(frame, dtype=np.uint8)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        with self._lock:
            if self._capture is not None:
                self._capture.release()  # type: ignore[attr-defined]
            self._capture = None


class VideoFileSource:
    """A video file replayed in real time: each read returns the frame due now."""

    def __init__(self, spec: str, loop: bool, clock: Callable[[], float]) -> None:
        self._path, self._loop, self._clock = spec, loop, clock
        self._capture: object | None = None
        self._fps, self._frames, self._t0 = 25.0, 0, 0.0

    def open(self) -> None:
        import cv2

        if not Path(self._path).is_file():
            raise CameraError(f"video file {self._path} does not exist")
        capture = cv2.VideoCapture(self._path)
        if not capture.isOpened():
            raise CameraError(f"video file {self._path} cannot be decoded")
        self._capture = capture
        self._fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        self._frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self._t0 = self._clock()

    def read(self) -> Frame:
        import cv2

        capture = self._capture
        if capture is None:
            raise CameraError("video file is not open")
        due = int((self._clock() - self._t0) * self._fps)
        if self._frames > 0:
            if due >= self._frames and not self._loop:
                raise CameraError(f"video file {self._path} has ended (set camera.loop)")
            due %= self._frames
        capture.set(cv2.CAP_PROP_POS_FRAMES, due)  # type: ignore[attr-defined]
        ok, frame = capture.read()  # type: ignore[attr-defined]
        if not ok or frame is None:
            raise CameraError(f"video file {self._path}: frame {due} cannot be read")
        return np.asarray(frame, dtype=np.uint8)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()  # type: ignore[attr-defined]
        self._capture = None


class ImageFolderSource:
    """A folder or glob of images shown in name order, one per read (for replay and tests)."""

    def __init__(self, spec: str, loop: bool, clock: Callable[[], float]) -> None:
        self._spec, self._loop = spec, loop
        self._index = 0

    def _files(self) -> list[str]:
        pattern = str(Path(self._spec) / "*") if Path(self._spec).is_dir() else self._spec
        return sorted(p for p in glob.glob(pattern) if Path(p).suffix.lower() in _IMAGE_SUFFIXES)

    def open(self) -> None:
        if not self._files():
            raise CameraError(f"no images in {self._spec}")

    def read(self) -> Frame:
        import cv2

        files = self._files()
        if not files:
            raise CameraError(f"no images in {self._spec} any more")
        if self._index >= len(files):
            if not self._loop:
                raise CameraError(f"all images in {self._spec} shown (set camera.loop)")
            self._index = 0
        path = files[self._index]
        self._index += 1
        frame = cv2.imread(path, cv2.IMREAD_COLOR)
        if frame is None:
            raise CameraError(f"image {path} cannot be read")
        return np.asarray(frame, dtype=np.uint8)

    def close(self) -> None:
        self._index = 0
