"""Frames from outside made safe to read: any shape in, a bounded BGR image out, or a refusal.

OpenCV's HOG and resize take whatever they are given: a 5000×1 strip resized to the analysis
width asks for 1.6 million rows (gigabytes, seconds), and odd channel counts crash it. Every
reader goes through :func:`fit_frame` first, so time and memory per frame are bounded by
``MAX_SIDE`` whatever the camera or photo is.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from moodcast.config.errors import MoodcastError

Frame = NDArray[np.uint8]

MIN_SIDE = 16  # below this nothing in the picture can be recognised
MAX_SIDE = 1280  # larger frames are scaled down first: no reader needs more
MAX_ASPECT = 8.0  # a strip thinner than 1:8 is not a view of a room
PANORAMA_SIDE = 64  # a wider strip at least this high is a panorama: its middle is read
MAX_IMAGE_PIXELS = 40_000_000  # decoded size allowed for a still image (~120 MB as BGR)
# A file bigger than this is no photograph (a 40-Mpx PNG is under ~120 MB): a video or a disk
# image named by mistake, refused before it is read into a 2 GB board's memory.
MAX_PHOTO_BYTES = 128 << 20
AGAIN = "copy the photograph again from its source"


class FrameRefusedError(MoodcastError):
    """A frame no reader can take; the message says what is wrong with it."""

    def __init__(self, problem: str, fix: str = "use a camera or image of ordinary proportions",
                 ) -> None:  # fmt: skip
        super().__init__(problem, fix)


def fit_frame(frame: Any) -> Frame:
    """A 3-channel uint8 frame no larger than ``MAX_SIDE``; :class:`FrameRefusedError` otherwise."""
    if not isinstance(frame, np.ndarray) or frame.ndim not in (2, 3):
        raise FrameRefusedError(f"not an image (shape {getattr(frame, 'shape', None)})")
    if frame.ndim == 3 and frame.shape[2] not in (1, 3, 4):
        raise FrameRefusedError(f"a frame with {frame.shape[2]} channels is not an image")
    h, w = int(frame.shape[0]), int(frame.shape[1])
    if min(h, w) < MIN_SIDE:
        raise FrameRefusedError(f"a {w}×{h} frame is too small (at least {MIN_SIDE} px each way)")
    if max(h, w) / min(h, w) > MAX_ASPECT:
        if min(h, w) < PANORAMA_SIDE:
            raise FrameRefusedError(
                f"a {w}×{h} frame is too narrow a strip (at most 1:{MAX_ASPECT:.0f}, or a"
                f" panorama at least {PANORAMA_SIDE} px high)"
            )
        frame = _middle(frame)
        h, w = int(frame.shape[0]), int(frame.shape[1])
    frame = _as_uint8(frame)
    import cv2

    if max(h, w) > MAX_SIDE:
        scale = MAX_SIDE / max(h, w)
        size = (max(MIN_SIDE, round(w * scale)), max(MIN_SIDE, round(h * scale)))
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    if frame.ndim == 2 or frame.shape[2] == 1:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    elif frame.shape[2] == 4:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(frame, dtype=np.uint8)


BAR_LEAST = 0.02  # a band thinner than this share of the side is not worth cutting
BAR_FLAT = 6.0  # grey levels: a bar's lines vary less than this (JPEG noise near its edge)
BAR_LEVEL = 10.0  # grey levels: one bar's lines, and the two opposite bars, alike within this
BAR_EDGE = 20.0  # grey levels: the picture starts this far from the bar's level, all along
# Two bars covering more than this share of the side are a flat frame. A phone's portrait
# picture in a 16:9 stream leaves 0.68 of the width to its bars (9:16; 9:19.5 0.74): 0.6
# kept such pictures whole, bars and all (docs/reliability.md).
BAR_MOST = 0.75
BAR_MOSTLY = 0.5  # a line with this share at the bar's level may hold a caption (OSD text)


def content_box(frame: Frame) -> tuple[slice, slice]:
    """The picture inside black (or any flat) bars on two opposite sides: a 4:3 camera in a
    16:9 stream with its caption (date, time, name) in the bars, a film still, a photograph
    on a mat. Bars are read as dark, flat picture (a letterboxed beach read gloomy); cutting
    them reads what was filmed. Both sides must have a bar of the same level with a sharp
    straight edge into the picture, which a night sky or a studio backdrop fading into its
    subject does not (none of the 565 labelled photographs is cut)."""
    import cv2

    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    lines = grey.astype(np.float32)
    colour = frame if frame.ndim == 3 else frame[..., None]  # lines read as needed
    top, bottom = _bars(lines, colour)
    left, right = _bars(lines.T, colour.transpose(1, 0, 2))
    h, w = frame.shape[:2]
    return slice(top, h - bottom), slice(left, w - right)


def _bars(grey: NDArray[np.float32], colour: NDArray[Any]) -> tuple[int, int]:
    """How many lines at each end of axis 0 are bars (0, 0 when not both); ``colour``: the
    same lines in colour, where the edge into the picture is measured (a green pitch and a
    grey mat are near in grey, far apart in colour)."""
    n = grey.shape[0]
    mean, spread = grey.mean(axis=1), grey.std(axis=1)
    flat = (spread < BAR_FLAT).tolist()
    ends = [_run(grey, flat, mean, range(n)), _run(grey, flat, mean, range(n - 1, -1, -1))]
    if min(ends) < max(2, BAR_LEAST * n) or sum(ends) > BAR_MOST * n:
        return 0, 0
    if abs(float(mean[0]) - float(mean[-1])) >= BAR_LEVEL:
        return 0, 0
    top, bottom = ends
    across = _across(grey[top : n - bottom], float(mean[0]))
    if across is None:  # flat between the bars too: a flat frame
        return 0, 0
    for last_bar, inside in ((top - 1, top + 2), (n - bottom, n - 3 - bottom)):
        bar = colour[last_bar].mean(axis=0, dtype=np.float32)
        edge = colour[inside, across].astype(np.float32)  # past JPEG's ringing
        step = float(np.abs(edge - bar).max(axis=-1).mean())
        if step < BAR_EDGE:  # the flat run fades into the picture: sky, backdrop, shade
            return 0, 0
    return top, bottom


def _across(body: NDArray[np.float32], level: float) -> slice | None:
    """Where the picture lies across the lines between two bars: inside bars on the other
    two sides at the same level too (a photograph on a mat, a 4:3 picture boxed in a 16:9
    stream on every side), whose lines would otherwise water down its edge. None when
    every column is flat at the level."""
    flat = (body.std(axis=0) < BAR_FLAT) & (np.abs(body.mean(axis=0) - level) < BAR_LEVEL)
    picture = np.flatnonzero(~flat)
    if picture.size == 0:
        return None
    return slice(int(picture[0]), int(picture[-1]) + 1)


def _run(grey: NDArray[np.float32], flat: list[bool], mean: NDArray[np.float32],
         order: range) -> int:  # fmt: skip
    """Lines of the bar from an edge: flat lines of one level, and lines mostly at that level
    (a camera's caption written in its bar) when flat lines follow them."""
    level = float(mean[order[0]])
    if not flat[order[0]]:
        return 0
    lines = order[: int(BAR_MOST * len(order)) + 1]  # a longer bar is refused anyway
    near: NDArray[np.float64] | None = None  # each line's share at the level, from ``first``
    first = count = pending = 0
    for k, i in enumerate(lines):
        if flat[i] and abs(float(mean[i]) - level) < BAR_LEVEL:
            count, pending = count + pending + 1, 0
            continue
        if near is None:  # once, for the lines left (every 4th column is enough for a share)
            first = k
            near = (np.abs(grey[list(lines[k:]), ::4] - level) < BAR_LEVEL).mean(axis=1)
        if float(near[k - first]) < BAR_MOSTLY:
            break
        pending += 1  # a line of text, or the picture's first line: the next lines say
    return count


def _middle(frame: NDArray[Any]) -> NDArray[Any]:
    """The middle of a panorama, cut to ``MAX_ASPECT`` (where a camera points)."""
    h, w = frame.shape[:2]
    if w > h:
        keep = int(h * MAX_ASPECT)
        return frame[:, (w - keep) // 2 : (w - keep) // 2 + keep]
    keep = int(w * MAX_ASPECT)
    return frame[(h - keep) // 2 : (h - keep) // 2 + keep]


def _as_uint8(frame: NDArray[Any]) -> Frame:
    if frame.dtype == np.uint8:
        return frame
    if frame.dtype == np.uint16:  # 16-bit PNG/TIFF
        return (frame >> 8).astype(np.uint8)
    if np.issubdtype(frame.dtype, np.floating):
        if not np.isfinite(frame).all():
            raise FrameRefusedError("a frame with values that are not finite")
        return np.clip(frame * 255.0, 0, 255).astype(np.uint8)
    raise FrameRefusedError(f"a frame of {frame.dtype} pixels is not an image")


def image_size(head: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, JPEG, GIF, BMP or WebP header; None when it is none of
    them. Read before decoding, so a small file that decodes to gigabytes is refused. A
    JPEG's size comes after its metadata segments, which phones fill with hundreds of
    kilobytes (EXIF thumbnails, ICC profiles, depth maps in extended XMP): give the whole
    file (the walk jumps from segment to segment; it reads none of the pixels)."""
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        w, h = struct.unpack(">II", head[16:24])
        return int(w), int(h)
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        w, h = struct.unpack("<HH", head[6:10])
        return int(w), int(h)
    if head[:2] == b"BM" and len(head) >= 26:
        w, h = struct.unpack("<ii", head[18:26])
        return abs(int(w)), abs(int(h))
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp_size(head)
    if head[:2] == b"\xff\xd8":
        return _jpeg_size(head)
    return None


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8X" and len(head) >= 30:
        w = int.from_bytes(head[24:27], "little") + 1
        h = int.from_bytes(head[27:30], "little") + 1
        return w, h
    if chunk == b"VP8L" and len(head) >= 25:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and len(head) >= 30:
        w, h = struct.unpack("<HH", head[26:30])
        return int(w) & 0x3FFF, int(h) & 0x3FFF
    return None


_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_segments(data: bytes) -> Iterator[tuple[int, int]]:
    """(marker, offset) of each JPEG segment up to the first start-of-frame, jumping from
    segment to segment without reading any pixels."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        yield marker, i
        if marker in _JPEG_FRAMES:
            return
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        i += 2 + int(length)


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """The size the first start-of-frame holds."""
    for marker, i in _jpeg_segments(data):
        if marker in _JPEG_FRAMES:
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(w), int(h)
    return None


def exif_orientation(data: bytes) -> int:
    """The EXIF orientation (1-8) a JPEG's camera wrote: how the stored pixels must be turned
    to stand upright (a phone held upright stores its picture sideways, with 6). 1 when
    there is none or it cannot be read."""
    for marker, i in _jpeg_segments(data):
        if marker == 0xE1 and data[i + 4 : i + 10] == b"Exif\x00\x00":
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            found = _tiff_orientation(data[i + 10 : i + 2 + length])
            if found is not None:
                return found
    return 1


def _tiff_orientation(tiff: bytes) -> int | None:
    """Tag 0x0112 of the first image directory of an EXIF block (a TIFF header)."""
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None or len(tiff) < 8:
        return None
    (first,) = struct.unpack(order + "I", tiff[4:8])
    if first + 2 > len(tiff):
        return None
    (count,) = struct.unpack(order + "H", tiff[first : first + 2])
    for k in range(count):
        entry = tiff[first + 2 + 12 * k : first + 14 + 12 * k]
        if len(entry) < 12:
            return None
        tag, kind = struct.unpack(order + "HH", entry[:4])
        if tag == 0x0112 and kind == 3:  # SHORT
            (value,) = struct.unpack(order + "H", entry[8:10])
            return int(value) if 1 <= value <= 8 else None
    return None


def turned(frame: Frame, degrees: int) -> Frame:
    """The frame turned clockwise by a multiple of 90 degrees (a camera mounted sideways or
    upside down: what is read, and shown, stands upright)."""
    import cv2

    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    code = codes.get(degrees % 360)
    return frame if code is None else np.asarray(cv2.rotate(frame, code), dtype=np.uint8)


def upright(frame: Frame, orientation: int) -> Frame:
    """The frame turned as its EXIF orientation says (OpenCV's own steps, which its full-size
    decode applies and its reduced decodes do not)."""
    import cv2

    if orientation in (5, 6, 7, 8):
        frame = np.asarray(cv2.transpose(frame), dtype=np.uint8)
    flip = {2: 1, 3: -1, 4: 0, 6: 1, 7: -1, 8: 0}.get(orientation)
    return frame if flip is None else np.asarray(cv2.flip(frame, flip), dtype=np.uint8)


def decode_image(data: bytes, name: str) -> Frame:
    """A still image decoded within ``MAX_IMAGE_PIXELS`` (a big JPEG is decoded at a half,
    quarter or eighth of its size, which libjpeg does without the full-size buffer), then
    fitted; :class:`FrameRefusedError` saying why when it cannot be."""
    import cv2

    size = image_size(data)
    if size is None and data[:2] == b"\xff\xd8":
        raise FrameRefusedError(f"{name} is a JPEG without a readable size (damaged or"
                                " cut short?)", AGAIN)  # fmt: skip
    if size is None:
        refuse_a_video(data[:16], name)
        known = _unread_format(data[:16])
        what = ("is empty" if not data else f"is {known}, not a PNG, JPEG, GIF, BMP or WebP image"
                if known else "is not a PNG, JPEG, GIF, BMP or WebP image")  # fmt: skip
        raise FrameRefusedError(f"{name} {what}", "give a photograph in one of those formats"
                                " (a camera's or phone's JPEG; convert others first, e.g. with"
                                " heif-convert or ImageMagick)")  # fmt: skip
    w, h = size
    if w <= 0 or h <= 0:
        raise FrameRefusedError(f"{name} says it is {w}×{h} pixels")
    flag = cv2.IMREAD_COLOR
    if w * h > MAX_IMAGE_PIXELS:
        reduced = _reduced_jpeg_flag(cv2, data, w * h)
        if reduced is None:
            raise FrameRefusedError(
                f"{name} is {w}×{h} pixels, over the {MAX_IMAGE_PIXELS // 1_000_000} Mpx a still"
                " may have: scale it down"
            )
        flag = reduced | cv2.IMREAD_IGNORE_ORIENTATION  # whatever OpenCV's version does
    frame = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    if frame is None:
        raise FrameRefusedError(f"{name} cannot be decoded (damaged or cut short?)", AGAIN)
    if flag != cv2.IMREAD_COLOR:  # turned here: OpenCV 4.14's reduced decodes do not
        frame = upright(np.asarray(frame, dtype=np.uint8), exif_orientation(data))
    return fit_frame(frame)


_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


def refuse_a_video(head: bytes, name: str) -> None:
    """Refuse a file whose first bytes are a video's, saying where a video goes."""
    video = video_kind(head)
    if video:
        raise FrameRefusedError(
            f"{name} is a video ({video}), not a photograph",
            "follow a video as the camera (moodcast run --camera FILE, or camera.source), or"
            " save one frame of it as a JPEG (e.g. ffmpeg -i FILE -frames:v 1 frame.jpg)",
        )


def video_kind(head: bytes) -> str | None:
    """Which video container a file's first bytes say it is (a phone's or a camera's clip
    named as a photograph, or given where one is asked for); None for anything else."""
    if head[4:8] == b"ftyp" and head[8:12] not in _HEIF_BRANDS | {b"avif", b"avis"}:
        return "MP4 or QuickTime"
    if head[4:8] in (b"moov", b"mdat", b"wide"):  # QuickTime files without an ftyp box
        return "QuickTime"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "Matroska or WebM"
    if head[:4] == b"\x00\x00\x01\xba":
        return "MPEG program stream"
    if head[:4] == b"FLV\x01":
        return "Flash video"
    if head[:8] == b"\x30\x26\xb2\x75\x8e\x66\xcf\x11":
        return "ASF or WMV"
    return None


def _unread_format(head: bytes) -> str | None:
    """What a file is when it is an image format moodcast does not read: the formats phones
    and cameras also write (an iPhone's HEIC, AVIF, TIFF and the raw files built on it)."""
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return "a HEIC/HEIF image (an iPhone's default)"
        if brand in (b"avif", b"avis"):
            return "an AVIF image"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "a TIFF image or a camera's raw file"
    return None


def _reduced_jpeg_flag(cv2: Any, data: bytes, pixels: int) -> int | None:
    if data[:2] != b"\xff\xd8":
        return None
    for factor, flag in ((2, cv2.IMREAD_REDUCED_COLOR_2), (4, cv2.IMREAD_REDUCED_COLOR_4),
                         (8, cv2.IMREAD_REDUCED_COLOR_8)):  # fmt: skip
        if pixels / (factor * factor) <= MAX_IMAGE_PIXELS:
            return int(flag)
    return None
