from __future__ import annotations

from pathlib import Path

import pytest

from moodcast.config.errors import MoodcastError
from moodcast.models.text.caption_labels import parse_quadrant, quadrant_of, read_labelled


def test_reads_the_dev_format_with_comments_and_header(tmp_path: Path) -> None:
    path = tmp_path / "c.tsv"
    path.write_text("# a comment\ncaption\tquadrant\na party\tHV-HA\n\na funeral\tlv-la\n")
    rows = read_labelled(path)
    assert [(r.caption, r.quadrant, r.line) for r in rows] == [
        ("a party", "HV-HA", 3),
        ("a funeral", "LV-LA", 5),
    ]
    assert rows[0].pleasant and rows[0].lively and not rows[1].pleasant


@pytest.mark.parametrize(
    ("text", "quadrant"),
    [("HV-HA", "HV-HA"), ("lv_la", "LV-LA"), ("HVLA", "HV-LA"), (" lv ha ", "LV-HA"),
     ("Hv/La", "HV-LA"), ("HAPPY", None), ("HV-HV", None), ("LA-HV", None), ("", None),
     ("HV-HA-LA", None)],
)  # fmt: skip
def test_quadrant_spellings(text: str, quadrant: str | None) -> None:
    assert parse_quadrant(text) == quadrant


def test_labels_in_another_spelling_read_the_same(tmp_path: Path) -> None:
    path = tmp_path / "c.tsv"
    path.write_text("text\tLabel\na party\thv_ha\na funeral\tLVLA\n")  # another header too
    assert [r.quadrant for r in read_labelled(path)] == ["HV-HA", "LV-LA"]
    path.write_text("a party\thv_ha\nbut\tlabel\n")  # a header word after the first line
    with pytest.raises(MoodcastError, match=r"c\.tsv:2: unknown quadrant 'label'"):
        read_labelled(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a party\tHAPPY\n", "c.tsv:1: unknown quadrant 'HAPPY'"),
        ("caption\tquadrant\na party HV-HA\n", "c.tsv:2: expected two tab-separated fields"),
        ("a\tb\tc\n", "c.tsv:1: expected two tab-separated fields, found 3"),
        ("\tHV-HA\n", "c.tsv:1: empty caption"),
        ("# only comments\n\n", "holds no labelled captions"),
    ],
)
def test_bad_label_files_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.tsv"
    path.write_text(text)
    with pytest.raises(MoodcastError, match=message):
        read_labelled(path)


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
        b"a photo\tHV-HA\n\x00\x01\x02",
        b"\xff\xfe\x01\x00\x02\x00",
    ],
    ids=["a JPEG", "text then binary", "binary after a UTF-16 mark"],
)
def test_a_binary_file_is_a_clear_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "c.tsv"
    path.write_bytes(data)
    with pytest.raises(MoodcastError, match="cannot be read"):
        read_labelled(path)


@pytest.mark.parametrize(
    ("v", "a", "q"),
    [
        (0.5, 0.5, "HV-HA"),
        (0.1, -0.2, "HV-LA"),
        (-0.3, 0.0, "LV-HA"),
        (-0.1, -0.9, "LV-LA"),
    ],
)
def test_quadrants_of_points(v: float, a: float, q: str) -> None:
    assert quadrant_of(v, a) == q
