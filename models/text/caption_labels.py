"""Labelled captions: ``caption<TAB>quadrant`` lines, ``#`` comments, an optional header.

The quadrant names the valence/arousal quadrant that music for the scene should sit in:
``HV``/``LV`` pleasant/unpleasant, ``HA``/``LA`` lively/calm (``captions_dev.tsv``'s format).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from moodcast.config.errors import MoodcastError
from moodcast.config.files import read_regular

QUADRANTS = ("HV-HA", "HV-LA", "LV-HA", "LV-LA")
MAX_LABELS_BYTES = 64 << 20  # a labels file of a million lines is ~50 MB
_FORMAT = "write 'caption<TAB>quadrant' with quadrant one of " + ", ".join(QUADRANTS)


@dataclass(frozen=True)
class Labelled:
    caption: str
    quadrant: str
    line: int

    @property
    def pleasant(self) -> bool:
        return self.quadrant.startswith("HV")

    @property
    def lively(self) -> bool:
        return self.quadrant.endswith("HA")


def quadrant_of(valence: float, arousal: float) -> str:
    """The quadrant a point of the plane lies in (0 counts as pleasant / lively)."""
    return f"{'HV' if valence >= 0 else 'LV'}-{'HA' if arousal >= 0 else 'LA'}"


def quadrant_recalls(truth: Iterable[str], right: Iterable[bool]) -> dict[str, float]:
    """Each labelled quadrant's share read right, in ``QUADRANTS`` order (a quadrant with no
    labels left out): their mean counts every quadrant the same, whatever the set's mix."""
    pairs = list(zip(truth, right, strict=True))
    recalls = {}
    for quadrant in QUADRANTS:
        hits = [bool(r) for t, r in pairs if t == quadrant]
        if hits:
            recalls[quadrant] = sum(hits) / len(hits)
    return recalls


def parse_quadrant(text: str) -> str | None:
    """The quadrant a label names, however it is spelt ('HV-HA', 'hv_ha', 'HVHA', 'HV HA'),
    or None: labels written by hand or by another tool differ only in case and separator."""
    letters = re.sub(r"[^A-Za-z]", "", text).upper()
    quadrant = f"{letters[:2]}-{letters[2:]}"
    return quadrant if len(letters) == 4 and quadrant in QUADRANTS else None


HEADER_WORDS = {"quadrant", "label", "labels", "mood", "class", "category"}


def is_header(parts: list[str]) -> bool:
    """Whether a file's first line names its columns ('file<TAB>quadrant', 'image<TAB>label',
    ...) rather than labelling something."""
    return len(parts) >= 2 and parts[1].casefold() in HEADER_WORDS


def read_labelled(path: Path) -> list[Labelled]:
    """Every labelled caption in the file; an error naming the line for anything else."""
    rows: list[Labelled] = []
    for number, parts in labelled_lines(path, "labelled captions", _FORMAT):
        if len(parts) != 2:
            raise MoodcastError(f"{path}:{number}: expected two tab-separated fields, "
                                f"found {len(parts)}", _FORMAT)  # fmt: skip
        caption, quadrant = parts
        if not rows and is_header(parts):
            continue
        named = parse_quadrant(quadrant)
        if named is None:
            raise MoodcastError(f"{path}:{number}: unknown quadrant {quadrant!r}", _FORMAT)
        if not caption:
            raise MoodcastError(f"{path}:{number}: empty caption", _FORMAT)
        rows.append(Labelled(caption, named, number))
    if not rows:
        raise MoodcastError(f"{path} holds no labelled captions", _FORMAT)
    return rows


def labelled_lines(path: Path, what: str, fmt: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, tab-separated fields) of each line that is not blank or a ``#`` comment."""
    try:
        text = _text(read_regular(path, MAX_LABELS_BYTES, what))
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise MoodcastError(f"{what} {path}: cannot be read ({why})",
                            "give a UTF-8 text file; " + fmt) from exc  # fmt: skip
    control = _CONTROL.search(text)
    if control:
        number = text.count("\n", 0, control.start()) + 1
        raise MoodcastError(f"{what} {path}: cannot be read (a control character, not text,"
                            f" on line {number})", "give a UTF-8 text file; " + fmt)  # fmt: skip
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield number, [p.strip() for p in raw.split("\t")]


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # no text holds these: binary
_UTF32 = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)  # before UTF-16's: FF FE starts both
_UTF16 = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _text(data: bytes) -> str:
    """A labels file's text: UTF-8, or UTF-16 or -32 where a byte-order mark says so (a
    spreadsheet's "Unicode text" export is UTF-16 with tabs); a byte-order mark (Windows
    editors write one before UTF-8 too) is not part of the first name."""
    if data.startswith(_UTF32):
        return data.decode("utf-32")
    if data.startswith(_UTF16):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")
