"""Cameras: OpenCV sources behind one small interface, and a watchdog that keeps them alive.

Sources: a device index ("0"), a video file, an RTSP/HTTP URL, or a folder or glob of images.
A read returns the newest frame, not a stale buffered one: live streams are drained by a
grabber thread that decodes only when asked; files and image folders advance with the clock.
"""

from __future__ import annotations

import glob
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from moodcast.config.files import NotARegularFileError, is_there, read_regular
from moodcast.config.text import whole_number
from moodcast.models.vision.frames import FrameRefusedError, decode_image

logger = logging.getLogger(__name__)

Frame = NDArray[np.uint8]
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif"}
_STREAM_TIMEOUT_MS = 5000  # FFmpeg's open and read timeouts for network streams
_LOCK_WAIT_S = 1.0  # longest a read or a close waits on the grabber
_MAX_IMAGE_BYTES = 64 << 20  # a bigger file in an image folder is not a camera frame


def _read_image(path: str) -> Frame:
    try:
        data = read_regular(path, _MAX_IMAGE_BYTES, "camera image")
    except NotARegularFileError as exc:  # a FIFO would freeze captures: skipped with why
        raise FrameRefusedError(f"{path}: {exc.strerror}") from None
    return decode_image(data, path)


class CameraError(Exception):
    """The source cannot give a frame now; the message says why and what to check."""


class CameraPendingError(CameraError):
    """No frame yet, but none is overdue: the source is still connecting."""


class CameraEndedError(CameraError):
    """A file or folder played to its end with ``camera.loop: false``: done, not broken."""


class FrameSource(Protocol):
    def open(self) -> None: ...
    def read(self) -> Frame: ...
    def close(self) -> None: ...


def describe(spec: str) -> str:
    """What kind of source a camera spec names."""
    # A device's index (plain digits) or its node: /dev/video0, /dev/v4l/by-id/… links.
    if whole_number(spec) is not None or spec.startswith("/dev/"):
        return "device"
    if "://" in spec:
        return "stream"
    if any(ch in spec for ch in "*?[") or is_there(spec, folder=True):
        return "images"
    return "file"


def device_node(spec: str) -> str | None:
    """The V4L2 node a device path names now: a /dev/v4l/by-id/ or by-path link is resolved at
    every open, so a USB camera that comes back as /dev/video2 is found again."""
    node = os.path.realpath(spec)
    return node if os.path.exists(node) else None


def make_source(spec: str, loop: bool, clock: Callable[[], float] = time.monotonic) -> FrameSource:
    kind = describe(spec)
    if kind == "images":
        return ImageFolderSource(spec, loop, clock)
    if kind == "file":
        return VideoFileSource(spec, loop, clock)
    return LiveSource(spec)


class LiveSource:
    """A camera device or network stream, drained continuously so reads are fresh.

    The grabber thread opens and drains the capture; the capture job only takes the newest
    frame. A stream that accepts a connection and then sends nothing therefore never holds
    the capture job (or a stop) for longer than ``_LOCK_WAIT_S``: FFmpeg gives up after
    ``_STREAM_TIMEOUT_MS`` and the watchdog reopens with backoff.
    """

    def __init__(self, spec: str) -> None:
        self._spec = spec
        self._capture: object | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._grabbed = 0
        self._failed = ""
        self._opened_at = 0.0

    def open(self) -> None:
        """Starts connecting in the background; reads say 'connecting' until a frame comes."""
        self._failed, self._grabbed, self._opened_at = "", 0, time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(self._stop,), name="camera-grabber", daemon=True
        )
        self._thread.start()

    def _connect(self) -> object | None:
        import cv2

        index = whole_number(self._spec)
        if index is not None:
            capture = cv2.VideoCapture(index)
        elif self._spec.startswith("/dev/"):
            node = device_node(self._spec)
            if node is None:
                self._failed = f"camera {self._spec!r} is not there (unplugged?)"
                return None
            capture = cv2.VideoCapture(node, cv2.CAP_V4L2)
        else:
            timeouts = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, _STREAM_TIMEOUT_MS,
                        cv2.CAP_PROP_READ_TIMEOUT_MSEC, _STREAM_TIMEOUT_MS]  # fmt: skip
            capture = cv2.VideoCapture(self._spec, cv2.CAP_FFMPEG, timeouts)
        if not capture.isOpened():
            capture.release()
            return None
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        return capture

    def _run(self, stop: threading.Event) -> None:
        capture = self._connect()
        if capture is None:
            self._failed = self._failed or (
                f"cannot open camera {self._spec!r} (unplugged? wrong URL? no answer?)"
            )
            return
        with self._lock:
            if stop.is_set():  # closed while connecting
                capture.release()  # type: ignore[attr-defined]
                return
            self._capture = capture
        while not stop.is_set():
            with self._lock:
                ok = capture.grab()  # type: ignore[attr-defined]
                self._grabbed += 1 if ok else 0
            if not ok:
                self._failed = f"camera {self._spec!r} stopped delivering frames"
                break
            stop.wait(0.005)
        with self._lock:
            capture.release()  # type: ignore[attr-defined]
            if self._capture is capture:
                self._capture = None

    def read(self) -> Frame:
        if self._failed:
            raise CameraError(self._failed)
        if not self._lock.acquire(timeout=_LOCK_WAIT_S):
            raise CameraError(f"camera {self._spec!r} is not answering")
        try:
            if self._capture is None or self._grabbed == 0:
                waited = time.monotonic() - self._opened_at
                if waited > _STREAM_TIMEOUT_MS / 1000 * 2:
                    raise CameraError(f"camera {self._spec!r} sent no frame in {waited:.0f} s")
                raise CameraPendingError(f"camera {self._spec!r} is connecting, no frame yet")
            ok, frame = self._capture.retrieve()  # type: ignore[attr-defined]
        finally:
            self._lock.release()
        if not ok or frame is None:
            raise CameraError(f"camera {self._spec!r} gave an unreadable frame")
        return np.asarray(frame, dtype=np.uint8)

    def close(self) -> None:
        """Never waits long: a grabber stuck in FFmpeg ends by its own timeout and releases
        its capture itself."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=_LOCK_WAIT_S)
        self._thread = None


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
                raise CameraEndedError(f"video file {self._path} has ended (camera.loop is"
                                       " false; the last mood holds)")  # fmt: skip
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
        self._skipped: set[str] = set()

    def _files(self) -> list[str]:
        pattern = str(Path(self._spec) / "*") if Path(self._spec).is_dir() else self._spec
        return sorted(p for p in glob.glob(pattern) if Path(p).suffix.lower() in _IMAGE_SUFFIXES)

    def open(self) -> None:
        if not self._files():
            raise CameraError(f"no images in {self._spec}")

    def read(self) -> Frame:
        """The next image that can be read: one that cannot (damaged, not an image, too big)
        is skipped with a warning, once per file, and the next one is shown instead."""
        files = self._files()
        if not files:
            raise CameraError(f"no images in {self._spec} any more")
        problems: list[str] = []
        for _ in range(len(files)):
            if self._index >= len(files):
                if not self._loop:
                    raise CameraEndedError(f"all images in {self._spec} shown (camera.loop is"
                                           " false; the last mood holds)")  # fmt: skip
                self._index = 0
            path = files[self._index]
            self._index += 1
            try:
                return _read_image(path)
            except (FrameRefusedError, OSError) as exc:
                problem = exc.problem if isinstance(exc, FrameRefusedError) else str(exc)
                problems.append(problem)
                if path not in self._skipped:
                    self._skipped.add(path)
                    logger.warning("camera: skipping image %s: %s", path, problem)
        raise CameraError(f"no image in {self._spec} can be read (last: {problems[-1]})")

    def close(self) -> None:
        self._index = 0
