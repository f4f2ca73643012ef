"""Frames of any shape: bounded output, or a refusal that says why."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from moodcast.models.vision.frames import (
    MAX_SIDE,
    FrameRefusedError,
    decode_image,
    fit_frame,
    image_size,
    video_kind,
)


@pytest.mark.parametrize(
    ("shape", "dtype", "expected"),
    [
        ((480, 640, 3), np.uint8, (480, 640)),
        ((480, 640), np.uint8, (480, 640)),
        ((480, 640, 1), np.uint8, (480, 640)),
        ((480, 640, 4), np.uint8, (480, 640)),
        ((480, 640, 3), np.uint16, (480, 640)),
        ((6000, 8000, 3), np.uint8, (960, 1280)),
        ((1000, 7900, 3), np.uint8, (162, 1280)),  # a wide view: scaled down whole
        ((500, 20000, 3), np.uint8, (160, 1280)),  # a panorama: its middle 1:8, scaled
        ((20000, 500, 3), np.uint8, (1280, 160)),
        ((16, 16, 3), np.uint8, (16, 16)),
    ],
)
def test_frames_come_out_bounded_and_bgr(shape, dtype, expected) -> None:
    out = fit_frame(np.zeros(shape, dtype))
    assert out.shape == (*expected, 3) and out.dtype == np.uint8
    assert max(out.shape[:2]) <= MAX_SIDE and out.flags["C_CONTIGUOUS"]


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        (np.zeros((1, 5000, 3), np.uint8), "too small"),
        (np.zeros((5000, 1, 3), np.uint8), "too small"),
        (np.zeros((0, 0, 3), np.uint8), "too small"),
        (np.zeros((30, 300, 3), np.uint8), "narrow"),
        (np.zeros((480, 640, 2), np.uint8), "2 channels"),
        (np.zeros((4, 480, 640, 3), np.uint8), "not an image"),
        (np.zeros(100, np.uint8), "not an image"),
        (np.full((64, 64, 3), np.nan, np.float32), "not finite"),
        (np.zeros((64, 64, 3), np.int64), "int64"),
        ("a string", "not an image"),
    ],
)
def test_frames_no_reader_can_take_are_refused_with_the_reason(frame, why) -> None:
    with pytest.raises(FrameRefusedError, match=why):
        fit_frame(frame)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".webp"])
def test_image_size_is_read_from_the_header(ext: str) -> None:
    ok, data = cv2.imencode(ext, np.zeros((37, 53, 3), np.uint8))
    assert ok
    assert image_size(data.tobytes()) == (53, 37)
    assert image_size(b"not an image at all") is None


def test_a_big_jpeg_is_decoded_reduced_and_a_big_png_refused(monkeypatch) -> None:
    from moodcast.models.vision import frames

    monkeypatch.setattr(frames, "MAX_IMAGE_PIXELS", 100_000)  # a small limit, a small file
    big = np.random.default_rng(0).integers(0, 255, (600, 800, 3), np.uint8)
    jpeg = cv2.imencode(".jpg", big)[1].tobytes()
    assert decode_image(jpeg, "big.jpg").shape == (150, 200, 3)  # decoded at a quarter of each side
    png = cv2.imencode(".png", big)[1].tobytes()
    with pytest.raises(FrameRefusedError, match="800×600 pixels"):
        decode_image(png, "big.png")
    with pytest.raises(FrameRefusedError, match="cannot be decoded"):
        decode_image(jpeg[:300], "cut.jpg")


def _with_metadata(jpeg: bytes, kilobytes: int) -> bytes:
    """The JPEG with extended-XMP segments before its frame header, as phones write depth
    maps and motion data (each segment at most 64 KB)."""
    import struct

    body = b"http://ns.adobe.com/xmp/extension/\x00" + b"x" * 60_000
    segment = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    return jpeg[:2] + segment * (kilobytes // 60) + jpeg[2:]


def test_a_phone_jpeg_with_hundreds_of_kilobytes_of_metadata_is_read(monkeypatch) -> None:
    from moodcast.models.vision import frames

    picture = np.random.default_rng(1).integers(0, 255, (120, 160, 3), np.uint8)
    phone = _with_metadata(cv2.imencode(".jpg", picture)[1].tobytes(), 300)
    assert len(phone) > 300_000
    assert image_size(phone) == (160, 120)
    assert decode_image(phone, "portrait.jpg").shape == (120, 160, 3)
    monkeypatch.setattr(frames, "MAX_IMAGE_PIXELS", 10_000)  # the size guard still holds
    big = np.zeros((600, 800, 3), np.uint8)
    bomb = _with_metadata(cv2.imencode(".jpg", big)[1].tobytes(), 300)
    assert decode_image(bomb, "big.jpg").shape[:2] == (75, 100)  # read at an eighth
    with pytest.raises(FrameRefusedError, match="a JPEG without a readable size"):
        decode_image(phone[:200_000], "cut.jpg")  # cut inside its metadata


@pytest.mark.parametrize(
    ("data", "why"),
    [(b"", "empty.jpg is empty"), (b"GIF8", "is not a PNG, JPEG"),
     (b"%PDF-1.4 not a photo", "is not a PNG, JPEG"),
     (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1", "is a HEIC/HEIF image .an iPhone's"),
     (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00", "is an AVIF image, not a PNG"),
     (b"II*\x00\x08\x00\x00\x00", "is a TIFF image or a camera's raw file")],
)  # fmt: skip
def test_what_is_not_an_image_is_named_with_a_fix(data: bytes, why: str) -> None:
    with pytest.raises(FrameRefusedError, match=why) as refused:
        decode_image(data, "empty.jpg")
    assert "give a photograph in one of those formats" in str(refused.value)


@pytest.mark.parametrize(
    ("head", "kind"),
    [(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", "MP4 or QuickTime"),
     (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "MP4 or QuickTime"),
     (b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat", "QuickTime"),
     (b"RIFF\x00\x10\x00\x00AVI LIST", "AVI"),
     (b"\x1a\x45\xdf\xa3\x01\x00\x00\x00", "Matroska or WebM"),
     (b"\x00\x00\x01\xba\x44\x00\x04\x00", "MPEG program stream"),
     (b"FLV\x01\x05\x00\x00\x00\x09", "Flash video")],
)  # fmt: skip
def test_a_video_given_as_a_photograph_is_named_and_where_it_goes_said(head, kind) -> None:
    with pytest.raises(FrameRefusedError, match=f"is a video .{kind}., not a photograph") as no:
        decode_image(head + bytes(64), "clip.jpg")
    assert "moodcast run --camera" in str(no.value)


def test_a_real_video_file_is_named_a_video(media_video: Path, tmp_path: Path) -> None:
    """OpenCV's sample clip (AVI), and a few of its frames written as MP4 by OpenCV."""
    with pytest.raises(FrameRefusedError, match=r"vtest.avi is a video \(AVI\)"):
        decode_image(media_video.read_bytes()[:4096], "vtest.avi")
    clip = tmp_path / "clip.mp4"
    capture = cv2.VideoCapture(str(media_video))
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, (768, 576))
    for _ in range(5):
        writer.write(capture.read()[1])
    writer.release()
    capture.release()
    assert video_kind(clip.read_bytes()[:16]) == "MP4 or QuickTime"


def _exif_jpeg(picture: np.ndarray, orientation: int) -> bytes:
    """A JPEG whose EXIF says how to turn it, as a phone writes one held on its side."""
    import io

    from PIL import Image

    image = Image.fromarray(cv2.cvtColor(picture, cv2.COLOR_BGR2RGB))
    exif = image.getexif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif)
    return out.getvalue()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_big_phone_photograph_decoded_reduced_stands_as_its_exif_says(
    monkeypatch, orientation: int
) -> None:
    from moodcast.models.vision import frames

    picture = np.zeros((240, 320, 3), np.uint8)  # four quadrants of their own colour
    picture[:120, :160], picture[:120, 160:] = (0, 0, 255), (0, 255, 0)
    picture[120:, :160], picture[120:, 160:] = (255, 0, 0), (255, 255, 255)
    data = _exif_jpeg(picture, orientation)
    assert frames.exif_orientation(data) == orientation
    upright = decode_image(data, "phone.jpg")  # full size: OpenCV turns it
    monkeypatch.setattr(frames, "MAX_IMAGE_PIXELS", 5_000)
    reduced = decode_image(data, "phone.jpg")  # at a quarter of each side: turned here
    assert reduced.shape[:2] == (upright.shape[0] // 4, upright.shape[1] // 4)
    small = cv2.resize(upright, reduced.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(small.astype(int) - reduced.astype(int)).mean() < 8


def test_exif_orientation_without_exif_or_with_a_broken_block_is_upright() -> None:
    from moodcast.models.vision.frames import exif_orientation

    plain = cv2.imencode(".jpg", np.zeros((20, 30, 3), np.uint8))[1].tobytes()
    assert exif_orientation(plain) == 1
    for block in (b"Exif\x00\x00XX", b"Exif\x00\x00II*\x00\xff\xff\xff\x00",
                  b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05"):  # fmt: skip
        segment = b"\xff\xe1" + len(block + b"..").to_bytes(2, "big") + block
        assert exif_orientation(plain[:2] + segment + plain[2:]) == 1


def _barred(picture: np.ndarray, top: int, side: int, level: int = 0) -> np.ndarray:
    """The picture inside flat bars, JPEG-encoded as a stream or a still gives it."""
    h, w = picture.shape[:2]
    out = np.full((h + 2 * top, w + 2 * side, 3), level, np.uint8)
    out[top : top + h, side : side + w] = picture
    return np.asarray(cv2.imdecode(cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 75])[1], 1))


@pytest.mark.parametrize("name", ["coffee.png", "chelsea.png", "astronaut.png", "messi5.jpg"])
def test_bars_around_a_real_photograph_are_cut_back_to_it(photos, name: str) -> None:
    from moodcast.models.vision.frames import content_box

    picture = cv2.imread(str(photos / name))
    h, w = picture.shape[:2]
    assert content_box(picture) == (slice(0, h), slice(0, w))  # a photograph has none
    for top, side, level in ((h // 6, 0, 0), (0, w // 5, 0), (h // 8, 0, 16), (0, w // 6, 255)):
        rows, cols = content_box(_barred(picture, top, side, level))
        assert abs(rows.start - top) <= 3 and abs(rows.stop - (top + h)) <= 3
        assert abs(cols.start - side) <= 3 and abs(cols.stop - (side + w)) <= 3


@pytest.mark.parametrize("name", ["coffee.png", "chelsea.png", "astronaut.png", "messi5.jpg"])
def test_a_photograph_boxed_on_every_side_is_cut_back_to_it(photos, name: str) -> None:
    """On a mat, or a 4:3 picture boxed into a 16:9 stream on all four sides: each pair of
    bars' edge into the picture is measured where the picture is, not along lines that are
    mostly the other pair's bars (a grey box around all of these was not cut before)."""
    from moodcast.models.vision.frames import content_box

    picture = cv2.imread(str(photos / name))
    h, w = picture.shape[:2]
    for top, side in ((h // 4, w // 3), (h // 3, w // 4)):
        for level in (0, 128, 255):
            rows, cols = content_box(_barred(picture, top, side, level))
            assert abs(rows.start - top) <= 3 and abs(rows.stop - (top + h)) <= 3, level
            assert abs(cols.start - side) <= 3 and abs(cols.stop - (side + w)) <= 3, level


@pytest.mark.parametrize("name", ["coffee.png", "chelsea.png", "astronaut.png", "messi5.jpg"])
@pytest.mark.parametrize("shape", [9 / 16, 9 / 19.5])
def test_a_phones_upright_picture_in_a_wide_stream_is_cut_back_to_it(
    photos, name: str, shape: float
) -> None:
    """A phone held upright streaming into a 16:9 canvas: its bars take 0.68 of the width
    (9:16) or 0.74 (9:19.5), past the 0.6 that kept such pictures whole, bars and all."""
    from moodcast.models.vision.frames import content_box

    photo = np.asarray(cv2.imread(str(photos / name)))
    h, w = photo.shape[:2]
    width = min(w, round(h * shape))
    picture = photo[:, (w - width) // 2 : (w - width) // 2 + width]
    side = (round(h * 16 / 9) - width) // 2
    for level in (0, 40):
        rows, cols = content_box(_barred(picture, 0, side, level))
        assert (rows.start, rows.stop) == (0, h), level
        assert abs(cols.start - side) <= 3 and abs(cols.stop - (side + width)) <= 3, level


def test_a_narrow_strip_between_wide_flat_sides_is_not_cut_to() -> None:
    """Bars over more than three quarters of the side are a flat frame with something in it
    (a door in a plain wall, a lamp), not a picture in bars: kept whole."""
    from moodcast.models.vision.frames import content_box

    strip = np.random.default_rng(5).integers(0, 255, (240, 60, 3), np.uint8)  # a fifth
    frame = _barred(strip, 0, 120, 200)
    assert content_box(frame) == (slice(0, 240), slice(0, 300))


@pytest.mark.parametrize("name", ["coffee.png", "chelsea.png", "astronaut.png"])
def test_bars_with_a_cameras_caption_in_them_are_cut_too(photos, name: str) -> None:
    """A security camera writes its date, time and name in the bars of its picture."""
    from moodcast.models.vision.frames import content_box

    picture = cv2.imread(str(photos / name))
    h, w = picture.shape[:2]
    bar = h // 6
    framed = np.zeros((h + 2 * bar, w, 3), np.uint8)
    framed[bar : bar + h] = picture
    size = bar / 60
    for text, x, y in (("2026-12-05 21:14:07", 10, int(bar * 0.7)),
                       ("CAM 03 ENTRANCE", w // 2, h + int(bar * 1.7))):  # fmt: skip
        cv2.putText(framed, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, size, (255, 255, 255), 2)
    data = cv2.imencode(".jpg", framed, [cv2.IMWRITE_JPEG_QUALITY, 75])[1]
    rows, cols = content_box(np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR)))
    assert abs(rows.start - bar) <= 3 and abs(rows.stop - (bar + h)) <= 3
    assert (cols.start, cols.stop) == (0, w)


def test_flat_edges_that_fade_into_the_picture_are_not_bars(photos) -> None:
    """A night sky over lights, a studio backdrop, one flat side, a flat frame: nothing cut."""
    from moodcast.models.vision.frames import content_box

    h, w = 240, 320
    night = np.zeros((h, w, 3), np.uint8)  # black above and below, lights fading in
    ramp = np.linspace(0, 120, 60)[:, None, None].astype(np.uint8)
    night[60:120] = ramp * np.random.default_rng(3).integers(0, 2, (60, w, 1), np.uint8)
    night[120:180] = night[60:120][::-1]
    one_side = _barred(cv2.imread(str(photos / "coffee.png")), 40, 0)[40:]  # the top bar only
    flat = np.full((h, w, 3), 200, np.uint8)
    for frame in (night, one_side, np.zeros((h, w, 3), np.uint8), flat):
        assert content_box(frame) == (slice(0, frame.shape[0]), slice(0, frame.shape[1]))


@pytest.mark.parametrize("degrees", [0, 90, 180, 270])
def test_a_frame_is_turned_clockwise(degrees: int) -> None:
    from moodcast.models.vision.frames import turned

    frame = np.zeros((20, 30, 3), np.uint8)
    frame[0, 0] = 255  # the top-left corner goes round clockwise
    corner = {0: (0, 0), 90: (0, 19), 180: (19, 29), 270: (29, 0)}[degrees]
    out = turned(frame, degrees)
    assert out.shape[:2] == ((20, 30) if degrees in (0, 180) else (30, 20))
    assert out[corner].tolist() == [255, 255, 255]
