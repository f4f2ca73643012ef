from __future__ import annotations

import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from moodcast.config.settings import CameraSettings
from moodcast.edge.camera import (
    CameraError,
    ImageFolderSource,
    LiveSource,
    VideoFileSource,
    describe,
)
from moodcast.edge.watchdog import CameraWatchdog


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("spec", "kind"),
    [("0", "device"), ("rtsp://cam/1", "stream"), ("x/*.jpg", "images"), ("a.mp4", "file")],
)
def test_describe(spec: str, kind: str) -> None:
    assert describe(spec) == kind


def test_video_file_returns_the_frame_due_now(media_video: Path) -> None:
    clock = FakeClock()
    source = VideoFileSource(str(media_video), loop=True, clock=clock)
    source.open()
    first = source.read()
    clock.now = 2.0
    later = source.read()
    clock.now = 10_000.0  # far past the end: loops
    looped = source.read()
    source.close()
    assert first.shape == (576, 768, 3)
    assert not np.array_equal(first, later)
    assert looped.shape == first.shape


def test_video_file_without_loop_reports_its_end(media_video: Path) -> None:
    clock = FakeClock()
    source = VideoFileSource(str(media_video), loop=False, clock=clock)
    source.open()
    clock.now = 10_000.0
    with pytest.raises(CameraError, match="has ended"):
        source.read()


def test_live_source_drains_to_the_newest_frame(media_video: Path) -> None:
    source = LiveSource(str(media_video))  # OpenCV treats a file like a stream here
    source.open()
    deadline = time.monotonic() + 10
    frame = None
    while frame is None and time.monotonic() < deadline:
        try:
            frame = source.read()
        except CameraError:
            time.sleep(0.05)
    assert frame is not None and frame.shape == (576, 768, 3)
    with pytest.raises(CameraError, match="stopped delivering"):
        while time.monotonic() < deadline + 30:  # the grabber reaches the end of the file
            source.read()
            time.sleep(0.05)
    source.close()


def write_images(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        cv2.imwrite(str(folder / f"{i}.png"), np.full((48, 64, 3), 40 * i, np.uint8))


def test_image_folder_cycles_in_name_order(tmp_path: Path) -> None:
    write_images(tmp_path / "imgs", 3)
    source = ImageFolderSource(str(tmp_path / "imgs" / "*.png"), True, FakeClock())
    source.open()
    values = [int(source.read()[0, 0, 0]) for _ in range(4)]
    assert values == [0, 40, 80, 0]


@pytest.mark.reliability
def test_watchdog_survives_an_emptied_folder_and_recovers(tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    write_images(folder, 2)
    policy = CameraSettings(retry_interval_s=5, retry_max_s=20)
    source = lambda: ImageFolderSource(str(folder), True, FakeClock())  # noqa: E731
    dog = CameraWatchdog(source, policy, detect_frozen=False)
    assert dog.read(0.0) is not None and dog.status == "ok"
    shutil.rmtree(folder)
    assert dog.read(1.0) is None
    assert dog.status == "error" and "no images" in dog.detail and "retrying in 5 s" in dog.detail
    assert dog.read(3.0) is None  # still backing off: no reopen attempt
    assert dog.read(6.5) is None and "retrying in 10 s" in dog.detail  # backoff doubled
    write_images(folder, 2)
    assert dog.read(10.0) is None  # next attempt only at 16.5
    assert dog.read(17.0) is not None
    assert (dog.status, dog.reconnects) == ("ok", 1)


class FrozenSource:
    def open(self) -> None:
        pass

    def read(self) -> np.ndarray:
        return np.zeros((4, 4, 3), np.uint8)

    def close(self) -> None:
        pass


@pytest.mark.reliability
def test_watchdog_notices_a_frozen_camera() -> None:
    dog = CameraWatchdog(FrozenSource, CameraSettings(stall_timeout_s=20, retry_interval_s=1))
    assert dog.read(0.0) is not None
    assert dog.read(10.0) is not None
    assert dog.read(21.0) is None and "frozen" in dog.detail


@pytest.mark.reliability
def test_watchdog_reports_a_missing_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "gone.mp4")
    dog = CameraWatchdog(lambda: VideoFileSource(missing, True, FakeClock()), CameraSettings())
    assert dog.read(0.0) is None
    assert "does not exist" in dog.detail
