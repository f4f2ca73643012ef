"""The activity cue on real video: walkers move; exposure, light on part of the view, noise,
a shake, a camera turned, zoomed or rolled do not; two views (a car's camera while driving)
are not compared."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from moodcast.models.vision.motion import activity

RATE = 10  # vtest.avi's frames a second


def small(frame: np.ndarray) -> np.ndarray:
    """As the scene reader compares frames: 160 px wide."""
    height = round(frame.shape[0] * 160 / frame.shape[1])
    return np.asarray(cv2.resize(frame, (160, height), interpolation=cv2.INTER_AREA))


@pytest.fixture(scope="module")
def street(media_video: Path) -> list[np.ndarray]:
    """Frames 0, 10 s and 20 s into OpenCV's street of walkers (a fixed camera)."""
    capture = cv2.VideoCapture(str(media_video))
    frames = []
    for index in range(20 * RATE + 1):
        ok, frame = capture.read()
        assert ok, f"vtest.avi ended at frame {index}"
        if index % (10 * RATE) == 0:
            frames.append(np.asarray(frame, dtype=np.uint8))
    capture.release()
    return frames


def exposure(frame: np.ndarray, gain: float) -> np.ndarray:
    return np.asarray(np.clip(frame.astype(np.float32) * gain, 0, 255), dtype=np.uint8)


def gamma(frame: np.ndarray, power: float) -> np.ndarray:
    return (255.0 * (frame.astype(np.float32) / 255.0) ** power).astype(np.uint8)


def shaken(frame: np.ndarray, pixels: float) -> np.ndarray:
    turn = np.array([[1, 0, pixels], [0, 1, 0.6 * pixels]], dtype=np.float32)
    size = (frame.shape[1], frame.shape[0])
    return np.asarray(cv2.warpAffine(frame, turn, size, borderMode=cv2.BORDER_REFLECT))


def turned(frame: np.ndarray, share: float) -> np.ndarray:
    """Three fifths of the frame, ``share`` of that further right: a camera's pan."""
    wide = int(frame.shape[1] * 0.6)
    left = int(wide * share)
    part = frame[:, left : left + wide]
    return np.asarray(cv2.resize(part, (frame.shape[1], frame.shape[0])))


def zoomed(frame: np.ndarray, zoom: float) -> np.ndarray:
    """The middle 1/``zoom`` of the frame, at the frame's size: a camera zoomed in."""
    height, width = frame.shape[:2]
    x, y = round(width * (1 - 1 / zoom) / 2), round(height * (1 - 1 / zoom) / 2)
    return np.asarray(cv2.resize(frame[y : height - y, x : width - x], (width, height)))


def rolled(frame: np.ndarray, degrees: float) -> np.ndarray:
    height, width = frame.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return np.asarray(cv2.warpAffine(frame, turn, (width, height), borderMode=cv2.BORDER_REFLECT))


def lit(frame: np.ndarray, light: str) -> np.ndarray:
    """Part of the view lit differently: a lamp switched on in a corner (up to × 1.6),
    sunlight through a window on a soft-edged patch (× 1.5), a cloud over half (× 0.6)."""
    height, width = frame.shape[:2]
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    patch = np.zeros((height, width), np.float32)
    if light == "lamp":
        gain = 1 + 0.6 * np.exp(-((x - 0.15 * width) ** 2 + (y - 0.2 * height) ** 2)
                                / (2 * (0.2 * width) ** 2))  # fmt: skip
    elif light == "sun":
        patch[int(0.4 * height) : int(0.9 * height), int(0.5 * width) : int(0.9 * width)] = 1
        gain = 1 + 0.5 * cv2.GaussianBlur(patch, (0, 0), 0.03 * width)
    else:
        patch[:, : width // 2] = 1
        gain = 1 - 0.4 * cv2.GaussianBlur(patch, (0, 0), 0.05 * width)
    return np.asarray(np.clip(frame * gain[..., None], 0, 255), dtype=np.uint8)


def noisy(frame: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(frame + rng.normal(0.0, sigma, frame.shape), 0, 255).astype(np.uint8)


def test_walkers_ten_seconds_apart_move(street) -> None:
    for before, now in itertools.pairwise(street):
        assert 0.1 < activity(small(now), small(before)) < 1.0
    assert activity(small(street[0]), small(street[0])) == 0.0


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (lambda f: (exposure(f, 1.2), f), "the camera's exposure brightened by a fifth"),
        (lambda f: (exposure(f, 0.6), f), "a lamp switched off"),
        (lambda f: (gamma(f, 0.7), f), "a gamma change"),
        (lambda f: (noisy(f, 8, 1), noisy(f, 8, 2)), "fresh sensor noise in each frame"),
        (lambda f: (shaken(f, 4), f), "the mount shaken by 4 px"),
        (lambda f: (shaken(f, 12), f), "the mount shaken by 12 px"),
        (lambda f: (turned(f, 0.2), turned(f, 0.0)), "the camera turned by a fifth of its view"),
        (lambda f: (turned(f, 0.5), turned(f, 0.0)), "the camera turned by half its view"),
        (lambda f: (zoomed(f, 1.25), f), "the camera zoomed in by a quarter"),
        (lambda f: (f, zoomed(f, 1.4)), "the camera zoomed out"),
        (lambda f: (rolled(f, 5), f), "the camera rolled by 5°"),
        (lambda f: (lit(f, "lamp"), f), "a lamp switched on in a corner"),
        (lambda f: (lit(f, "sun"), f), "sunlight through a window on part of the view"),
        (lambda f: (lit(f, "cloud"), f), "a cloud over half the view"),
    ],
)
def test_a_still_view_that_changed_without_movement_did_not_move(street, change, what) -> None:
    """Each of these read as much movement as the street of walkers, or more, when the
    frames' plain difference was taken (exposure × 1.2: 0.71 against 0.21); now under
    half of the walkers' (0.2-0.3)."""
    for frame in street:
        now, before = change(frame)
        assert activity(small(now), small(before)) < 0.1, what


@pytest.mark.parametrize("name", ["building.jpg", "astronaut.png"])
def test_a_shake_of_a_quarter_pixel_is_undone_too(photos, name) -> None:
    """1 px at 640 px wide, a quarter of a pixel at the analysis width: a building's sharp
    edges read 0.29 when shifts that small were taken for a camera that stood still."""
    photo = np.asarray(cv2.imread(str(photos / name)), dtype=np.uint8)
    assert activity(small(shaken(photo, photo.shape[1] / 640)), small(photo)) < 0.05


def test_walkers_still_move_when_the_exposure_changed_or_the_mount_shook_too(street) -> None:
    before, now = street[0], street[1]
    plain = activity(small(now), small(before))
    changes = (exposure(before, 1.3), shaken(before, 3), lit(before, "lamp"), lit(before, "cloud"))
    for changed in changes:  # the plain difference: 1.0, 0.39, 1.0, 1.0
        assert 0.1 < activity(small(now), small(changed)) < 2 * plain


def test_walkers_still_move_when_the_camera_turned_or_zoomed_too(street) -> None:
    """Before the corners placed the frame before, each read as all of the view moving."""
    before, now = street[0], street[1]
    pairs = [(turned(now, 0.5), turned(before, 0.0)), (zoomed(now, 1.25), before),
             (rolled(now, 5), before)]  # fmt: skip
    for changed, then in pairs:
        assert 0.1 < activity(small(changed), small(then)) < 1.0


def test_two_views_are_not_compared(street, photos) -> None:
    """A car's camera while driving, a camera moved elsewhere: the frames share no view, and
    everything in them differs. That read as the most movement there is (1.0); it is none
    measured, not calm either (the reader adds no arousal for it)."""
    frame = small(street[0])
    assert activity(np.ascontiguousarray(frame[::-1]), frame) == 0.0  # turned over
    views = [small(cv2.resize(cv2.imread(str(photos / name)), (768, 576)))
             for name in ("building.jpg", "home.jpg", "coffee.png", "astronaut.png")]  # fmt: skip
    for one, other in itertools.combinations([frame, *views], 2):
        assert activity(one, other) == 0.0


def test_something_flat_and_dark_come_into_view_moved(street) -> None:
    """A dark coat close to the camera, over a sixth of the view: inside its outline nothing
    differs from one pixel to the next, as in a change of light, but no light darkens a
    part of the view by as much (0.99 when light was matched over the whole view alone;
    0.40 when light of any strength was undone part by part)."""
    frame = street[0]
    height, width = frame.shape[:2]
    coat = frame.copy()
    coat[height // 4 :, width // 3 : width // 3 + width // 5] = 40
    assert activity(small(coat), small(frame)) > 0.5


def test_what_covers_half_the_view_moved_it_all(street, photos) -> None:
    """A bus that stops in front of the camera: what still shows of the view stands, the rest
    changed; the view is the same one, so that is movement."""
    frame = small(street[0])
    covered = frame.copy()
    height = frame.shape[0]
    bus = small(cv2.resize(cv2.imread(str(photos / "building.jpg")), (768, 576)))
    covered[height // 2 :] = bus[height // 2 :]
    assert activity(covered, frame) == 1.0


def test_frames_it_cannot_compare_are_no_movement() -> None:
    flat = np.zeros((90, 160), np.uint8)
    assert activity(flat, flat) == 0.0
    assert activity(flat, np.zeros((100, 160), np.uint8)) == 0.0  # another size
    assert activity(np.zeros((90, 160, 3), np.uint8), np.zeros((90, 160, 3), np.uint8)) == 0.0
    tiny = np.random.default_rng(0).integers(0, 255, (6, 9), dtype=np.uint8)
    assert 0.0 <= activity(tiny, tiny[::-1].copy()) <= 1.0
