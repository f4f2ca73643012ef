"""A camera's privacy masks are found in real photographs and filled; the picture is not."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from moodcast.models.vision.picture import Box, fill_masks, picture, privacy_masks
from tests.conftest import letterboxed_with_a_mask

PHOTOS = ["coffee.png", "chelsea.png", "astronaut.png", "messi5.jpg", "building.jpg", "home.jpg"]


def _jpeg(frame: np.ndarray, quality: int) -> np.ndarray:
    data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR))


def _overlap(a: Box, b: tuple[int, int, int, int]) -> float:
    x, y, w, h = b
    across = max(0, min(a.x + a.width, x + w) - max(a.x, x))
    down = max(0, min(a.y + a.height, y + h) - max(a.y, y))
    return across * down / (a.width * a.height + w * h - across * down)


def _masked(photo: np.ndarray, boxes: list[tuple[int, int, int, int]],
            colour: tuple[int, int, int], quality: int) -> np.ndarray:  # fmt: skip
    out = photo.copy()
    for x, y, w, h in boxes:
        out[y : y + h, x : x + w] = colour
    return _jpeg(out, quality)


def _stands_out(photo: np.ndarray, box: tuple[int, int, int, int], level: float) -> bool:
    """Whether the picture just outside each inner side of ``box`` clearly differs from the
    mask: by 30 grey levels on average, and off its shade (by more than 8) nearly all along
    it. Picture of the mask's own shade touching it joins the mask into a shape that is no
    rectangle, and is not found (filling such a mask would change little)."""
    grey = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY).astype(np.float32)
    x, y, w, h = box
    bands = [grey[max(0, y - 12) : y, x : x + w], grey[y + h : y + h + 12, x : x + w],
             grey[y : y + h, max(0, x - 12) : x], grey[y : y + h, x + w : x + w + 12]]  # fmt: skip
    off = [np.abs(band - level) for band in bands if band.size]
    return all(float(d.mean()) >= 30 and float((d > 8).mean()) >= 0.97 for d in off)


@pytest.mark.parametrize("name", PHOTOS)
def test_privacy_masks_in_real_photographs_are_found_where_they_are(photos, name: str) -> None:
    """Black, dark, grey and coloured masks, in the middle, at a side or in a corner, one or
    two, through JPEG at a stream's qualities: each mask that stands out from the picture
    around it is found, and nothing else ever is; the photograph alone has none."""
    photo = np.asarray(cv2.imread(str(photos / name)), dtype=np.uint8)
    h, w = photo.shape[:2]
    assert privacy_masks(photo) == []
    middle = (w // 2, h // 2, w // 3, h // 3)
    corner = (0, 0, w // 4, h // 4)
    side = (w * 7 // 10, h // 10, w // 4, h // 3)  # masks of a quarter of the width or more
    asked = 0
    for boxes in ([middle], [corner], [corner, side]):
        for colour in ((0, 0, 0), (16, 16, 16), (128, 128, 128), (160, 60, 20)):
            level = float(np.dot(colour, (0.114, 0.587, 0.299)))  # its grey (B, G, R)
            for quality in (35, 50, 75, 90):
                found = privacy_masks(_masked(photo, boxes, colour, quality))
                for box in found:  # never anything but a mask
                    assert max(_overlap(box, truth) for truth in boxes) > 0.75, (name, found)
                for truth in boxes:
                    if _stands_out(photo, truth, level):
                        asked += 1
                        assert any(_overlap(box, truth) > 0.75 for box in found), (name, truth)
    assert asked >= 12  # of 64 masks (16 to 36 here): the test asks something of each photograph


def test_flat_places_a_camera_really_sees_are_not_masks(photos) -> None:
    """A window blown white by daylight (or orange, under a lamp), a black sky along a whole
    side, a box whose edges blur into the picture, a box too small to matter, a plain wall,
    a flat or black frame, noise."""
    photo = np.asarray(cv2.imread(str(photos / "building.jpg")), dtype=np.uint8)
    h, w = photo.shape[:2]
    window = _masked(photo, [(w // 3, h // 3, w // 4, h // 3)], (255, 255, 255), 75)
    lamp = _masked(photo, [(w // 3, h // 3, w // 4, h // 3)], (158, 219, 255), 75)
    sky = _masked(photo, [(0, 0, w, h // 4)], (0, 0, 0), 75)
    soft = photo.copy()
    soft[h // 3 : h * 2 // 3, w // 3 : w * 2 // 3] = 0
    soft = _jpeg(cv2.GaussianBlur(soft, (0, 0), 15), 75)  # a shadow fading into the light
    tiny = _masked(photo, [(w // 2, h // 2, w // 10, h // 10)], (0, 0, 0), 75)
    wall = photo.copy()  # a plain wall in a corner, lit a little unevenly, smoothed
    wall[: h // 2, : w // 4] = np.linspace(150, 154, h // 2)[:, None, None].astype(np.uint8)
    wall = _jpeg(wall, 75)
    rng = np.random.default_rng(5)
    noise = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    for frame in (window, lamp, sky, soft, tiny, wall, np.zeros((240, 320, 3), np.uint8),
                  np.full((240, 320, 3), 90, np.uint8), noise):  # fmt: skip
        assert privacy_masks(frame) == []


def test_a_mask_is_filled_with_the_rest_and_the_previous_frame_alike() -> None:
    """The fill is the mean colour of what is outside the masks; the previous frame gets the
    same colour, so a still mask shows no motion; a previous frame of another size is kept."""
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[:, :100] = (10, 20, 30)
    frame[:, 100:] = (50, 60, 70)
    previous = np.full_like(frame, 200)
    box = Box(150, 20, 40, 50)
    filled, before = fill_masks(frame, [box], previous)
    rest = np.ones((100, 200), bool)
    rest[box.slices()] = False
    expected = np.round(frame[rest].mean(axis=0)).astype(np.uint8)
    assert (filled[box.slices()] == expected).all()
    assert before is not None and (before[box.slices()] == expected).all()
    assert (filled[rest] == frame[rest]).all() and (before[rest] == 200).all()
    assert frame[20, 150].tolist() == [50, 60, 70]  # the caller's frame is not written
    assert fill_masks(frame, [box], np.zeros((10, 10, 3), np.uint8))[1].shape == (10, 10, 3)


def test_the_picture_is_cut_from_its_bars_and_its_masks_filled_inside_them(photos) -> None:
    """A masked picture in a letterbox: the bars are cut first, the mask found inside what
    is left; the notes say both, and the previous frame is cut and filled alike."""
    photo = np.asarray(cv2.imread(str(photos / "coffee.png")), dtype=np.uint8)
    h, w = photo.shape[:2]
    framed = letterboxed_with_a_mask(photo)
    seen = picture(framed, framed.copy())
    assert abs(seen.frame.shape[0] - h) <= 3 and seen.frame.shape[1] == w
    assert set(seen.notes) == {"bars", "masks"}
    assert seen.notes["masks"].startswith("privacy mask filled with the picture's mean colour: ")
    assert seen.previous is not None and np.array_equal(seen.previous, seen.frame)
    plain = picture(photo)
    assert plain.notes == {} and plain.frame is photo
