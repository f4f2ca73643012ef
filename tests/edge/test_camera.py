from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from moodcast.config.settings import CameraSettings
from moodcast.edge.camera.sources import (
    CameraError,
    ImageFolderSource,
    LiveSource,
    VideoFileSource,
    describe,
    make_source,
)
from moodcast.edge.camera.watchdog import CameraWatchdog


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("0", "device"),
        ("rtsp://cam/1", "stream"),
        ("x/*.jpg", "images"),
        ("a.mp4", "file"),
        ("/dev/video0", "device"),
        ("/dev/v4l/by-id/usb-Cam-video-index0", "device"),
        ("²", "file"),  # str.isdigit() says yes; int() refuses: not a device's index
        ("٣", "file"),
    ],
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


@pytest.mark.parametrize("kind", ["video", "folder"])
def test_a_source_played_to_its_end_without_loop_ends_and_is_not_replayed(
    kind: str, tmp_path: Path, media_video: Path
) -> None:
    """Before: with camera.loop false the watchdog took the end for an error, reopened the
    source and replayed it, flapping between error and ok. Now it ends, once, and stays so."""
    clock = FakeClock()
    opened: list[int] = []

    def factory() -> VideoFileSource | ImageFolderSource:
        opened.append(1)
        if kind == "video":
            return VideoFileSource(str(media_video), False, clock)
        return ImageFolderSource(str(tmp_path / "imgs"), False, clock)

    write_images(tmp_path / "imgs", 2)
    dog = CameraWatchdog(factory, CameraSettings(retry_interval_s=1), detect_frozen=False)
    assert dog.read(0.0) is not None and dog.status == "ok"
    statuses = []
    for step in range(1, 40):
        clock.now = 10_000.0 * step  # far past the video's end
        frame = dog.read(float(step * 5))
        statuses.append(dog.status)
        if kind == "folder" and step == 1:
            assert frame is not None  # the second image still shows
    assert statuses[-1] == "ended" and "error" not in statuses and "ok" not in statuses[2:]
    assert len(opened) == 1 and "camera.loop is false" in dog.detail


def test_image_folder_cycles_in_name_order(tmp_path: Path) -> None:
    write_images(tmp_path / "imgs", 3)
    source = ImageFolderSource(str(tmp_path / "imgs" / "*.png"), True, FakeClock())
    source.open()
    values = [int(source.read()[0, 0, 0]) for _ in range(4)]
    assert values == [0, 40, 80, 0]


def test_a_camera_mounted_upside_down_is_turned_as_configured(tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[:8, :8] = 255  # a mark in the top-left corner
    cv2.imwrite(str(folder / "a.png"), frame)
    for degrees, shape, corner in ((0, (48, 64), (0, 0)), (180, (48, 64), (47, 63)),
                                   (90, (64, 48), (0, 47))):  # fmt: skip
        policy = CameraSettings(rotate=degrees)
        dog = CameraWatchdog(lambda: ImageFolderSource(str(folder), True, FakeClock()), policy,
                             detect_frozen=False)  # fmt: skip
        read = dog.read(0.0)
        assert read is not None and read.shape[:2] == shape
        assert read[corner].tolist() == [255, 255, 255]
    from moodcast.config.settings import load_config
    from moodcast.edge.doctor import check_camera

    config = load_config(None, {"camera.source": str(folder), "camera.rotate": 180})
    assert check_camera(config).endswith("gives 64×48 frames, turned 180° clockwise")


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
        return np.zeros((32, 32, 3), np.uint8)

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


def test_a_camera_path_the_system_refuses_is_an_error_in_the_state(tmp_path: Path) -> None:
    """A name over 255 bytes raised OSError out of every capture (a traceback each time, the
    camera's status never said)."""
    spec = str(tmp_path / ("x" * 300))
    assert describe(spec) == "file"
    dog = CameraWatchdog(lambda: make_source(spec, True, FakeClock()), CameraSettings())
    assert dog.read(0.0) is None
    assert dog.status == "error" and "File name too long" in dog.detail


def _png(shape: tuple[int, ...], value: int = 90) -> bytes:
    ok, data = cv2.imencode(".png", np.full(shape, value, np.uint8))
    assert ok
    return data.tobytes()


def _bomb_png(width: int, height: int) -> bytes:
    """A real PNG header claiming a huge size, as a decompression bomb carries it."""
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
            + struct.pack(">I", zlib.crc32(chunk)))  # fmt: skip


@pytest.mark.reliability
def test_image_folder_skips_what_cannot_be_read_and_shows_the_rest(tmp_path: Path, caplog):
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "01.png").write_bytes(_png((120, 160, 3), 10))
    (folder / "02-cut.jpg").write_bytes(cv2.imencode(".jpg", np.zeros((120, 160, 3), np.uint8))[1]
                                        .tobytes()[:200])  # fmt: skip
    (folder / "03-text.png").write_text("not an image")
    (folder / "04-empty.jpg").write_bytes(b"")
    (folder / "05-strip.png").write_bytes(_png((1, 4000, 3)))
    (folder / "06-bomb.png").write_bytes(_bomb_png(60000, 60000))
    (folder / "07.png").write_bytes(_png((120, 160, 3), 70))
    dog = CameraWatchdog(lambda: ImageFolderSource(str(folder), True, FakeClock()),
                         CameraSettings(), detect_frozen=False)  # fmt: skip
    seen = [dog.read(float(i)) for i in range(4)]
    assert [int(f[0, 0, 0]) for f in seen if f is not None] == [10, 70, 10, 70]
    assert dog.status == "ok"
    bad = ("02-cut.jpg", "03-text.png", "04-empty.jpg", "05-strip.png", "06-bomb.png")
    named = [next(n for n in bad if n in r.getMessage()) for r in caplog.records
             if r.levelname == "WARNING" and any(n in r.getMessage() for n in bad)]  # fmt: skip
    assert sorted(named) == list(bad)  # each bad file named once, not once per pass
    assert any("60000×60000" in r.getMessage() for r in caplog.records)  # the bomb's size said


@pytest.mark.reliability
def test_image_folder_of_nothing_readable_is_an_error_not_a_hang(tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "a.png").write_text("nope")
    (folder / "b.jpg").write_bytes(_bomb_png(70000, 10))
    dog = CameraWatchdog(lambda: ImageFolderSource(str(folder), True, FakeClock()),
                         CameraSettings())  # fmt: skip
    assert dog.read(0.0) is None
    assert dog.status == "error" and "no image" in dog.detail and "can be read" in dog.detail


@pytest.mark.reliability
@pytest.mark.parametrize("scheme", ["http", "rtsp"])
def test_a_stream_that_never_sends_is_timed_out_and_retried_without_piling_up(scheme):
    import threading

    from tests.mjpeg_server import SilentServer

    server = SilentServer()
    policy = CameraSettings(retry_interval_s=0.5, retry_max_s=1)
    dog = CameraWatchdog(lambda: LiveSource(server.url(scheme)), policy)
    try:
        started = time.monotonic()
        slowest = 0.0
        statuses = []
        while time.monotonic() - started < 16:
            t0 = time.monotonic()
            assert dog.read(t0) is None
            slowest = max(slowest, time.monotonic() - t0)
            statuses.append(dog.status)
            grabbers = [t for t in threading.enumerate() if t.name == "camera-grabber"]
            assert len(grabbers) <= 4  # each gives up after FFmpeg's 5 s timeout
            time.sleep(0.2)
        assert statuses[0] == "connecting" and statuses[-1] == "error"
        assert "ok" not in statuses and "cannot open" in dog.detail
        assert server.accepted >= 2  # retried
        assert slowest < 4.0  # never FFmpeg's 5 s: a read waits at most the 1 s lock wait
    finally:
        dog.close()
        server.close()


@pytest.mark.reliability
def test_a_stream_that_goes_silent_mid_way_is_noticed_and_reopened() -> None:
    from tests.mjpeg_server import MjpegServer

    server = MjpegServer(stall_after=10)
    server.start()
    policy = CameraSettings(retry_interval_s=0.5, retry_max_s=1)
    dog = CameraWatchdog(lambda: LiveSource(server.url), policy)
    statuses: list[str] = []
    try:
        started = time.monotonic()
        while time.monotonic() - started < 20 and dog.reconnects < 1:
            dog.read(time.monotonic())
            statuses.append(dog.status)
            time.sleep(0.2)
        assert "ok" in statuses and "error" in statuses
        assert dog.reconnects >= 1
    finally:
        dog.close()
        server.stop()


def test_a_device_link_is_followed_again_at_every_open(tmp_path: Path) -> None:
    """A USB camera re-enumerated as another /dev/videoN: its by-id link moves with it."""
    from moodcast.edge.camera.sources import device_node

    first, second = tmp_path / "video0", tmp_path / "video2"
    first.touch()
    second.touch()
    link = tmp_path / "usb-Cam-video-index0"
    link.symlink_to(first)
    assert device_node(str(link)) == str(first)
    link.unlink()
    link.symlink_to(second)
    assert device_node(str(link)) == str(second)
    link.unlink()
    link.symlink_to(tmp_path / "gone")
    assert device_node(str(link)) is None


def test_a_missing_device_path_says_so_and_is_tried_again() -> None:
    source = make_source("/dev/v4l/by-id/usb-No-Such-Camera-video-index0", loop=False)
    source.open()
    deadline = time.monotonic() + 5
    message = ""
    while time.monotonic() < deadline:
        try:
            source.read()
        except CameraError as exc:
            message = str(exc)
            if "not there" in message:
                break
        time.sleep(0.05)
    source.close()
    assert "is not there (unplugged?)" in message
    assert "does not exist" not in message  # before: opened as a video file


def test_a_fifo_in_an_image_folder_is_skipped_not_waited_on(tmp_path: Path) -> None:
    import cv2
    import numpy as np

    os.mkfifo(tmp_path / "a.jpg")  # sorted first: before, reading it froze the captures
    cv2.imwrite(str(tmp_path / "b.jpg"), np.full((48, 64, 3), 120, np.uint8))
    source = make_source(str(tmp_path), loop=False)
    source.open()
    frame = source.read()
    source.close()
    assert frame.shape[:2] == (48, 64)
