"""Measuring a frame reader on labelled photographs: the labels file, the figures, the CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from moodcast.config.errors import MoodcastError
from moodcast.models.mood import MoodEstimate, load_taxonomy
from moodcast.models.vision.image_eval import (
    LabelledImage,
    evaluate_images,
    read_image_labels,
    read_photos,
)

TAXONOMY = load_taxonomy("cowen13")


def _reading(valence: float, arousal: float, confidence: float, people: int) -> MoodEstimate:
    probs = TAXONOMY.probabilities(valence, arousal)
    return MoodEstimate(valence, arousal, probs, confidence, {"people": people})


def _labelled(folder: Path, names: str, text: str) -> list[LabelledImage]:
    """The rows of a labels file over placeholder photographs ``a.jpg``, ``b.jpg``, ..."""
    for name in names:
        (folder / f"{name}.jpg").write_bytes(b"x")
    labels = folder / "labels.tsv"
    labels.write_text(text)
    return read_image_labels(labels, folder)


def test_figures_of_a_small_labelled_set(tmp_path: Path) -> None:
    rows = _labelled(tmp_path, "abcd", "# a comment\nfile\tquadrant\tpeople\na.jpg\tHV-HA\t3\n"
                     "b.jpg\thv-la\nc.jpg\tLV-HA\t0\nd.jpg\tLV-LA\t1\n")  # fmt: skip
    assert [r.quadrant for r in rows] == ["HV-HA", "HV-LA", "LV-HA", "LV-LA"]
    assert [r.people for r in rows] == [3, None, 0, 1]
    readings = [_reading(0.6, 0.5, 0.9, 2), _reading(0.5, -0.4, 0.8, 0),
                _reading(0.4, 0.5, 0.95, 0), _reading(-0.5, -0.5, 0.3, 1)]  # fmt: skip
    result = evaluate_images(rows, readings, TAXONOMY)
    assert result.figures.quadrant == 0.75 and result.figures.valence == 0.75
    assert result.figures.arousal == 1.0
    assert result.figures.confusion["LV-HA"]["HV-HA"] == 1
    assert sum(result.moods_named.values()) == 4
    assert result.people_n == 3 and result.people_error == pytest.approx(1 / 3)
    assert result.crowd_n == 2 and result.crowd_error == pytest.approx(1 / 2)  # a.jpg: 2 for 3
    assert result.figures.wrong[0].caption == "c.jpg"  # the confident wrong one first
    bands = {band: (n, share) for band, n, share in result.figures.by_confidence}
    n, share = bands["0.75–1.00"]
    assert n == 3 and share == pytest.approx(2 / 3)
    assert result.log_loss is None  # these readings give no side probabilities
    # each quadrant counts once, whatever the mix: LV-HA (read HV-HA) is the one missed
    assert result.figures.recall == {"HV-HA": 1.0, "HV-LA": 1.0, "LV-HA": 0.0, "LV-LA": 1.0}
    assert result.figures.mean_recall == 0.75


def test_the_mean_recall_shows_a_lean_to_the_largest_quadrant(tmp_path: Path) -> None:
    rows = _labelled(tmp_path, "abcd", "a.jpg\tHV-LA\nb.jpg\tHV-LA\nc.jpg\tHV-LA\nd.jpg\tLV-LA\n")
    calm = _reading(0.5, -0.5, 0.9, 0)  # everything read pleasant and calm
    result = evaluate_images(rows, [calm] * 4, TAXONOMY)
    assert result.figures.quadrant == 0.75 and result.figures.mean_recall == 0.5
    assert set(result.figures.recall) == {"HV-LA", "LV-LA"}  # only the quadrants labelled


def test_a_photograph_that_cannot_be_read_is_set_aside_with_its_reason(tmp_path: Path) -> None:
    rows = _labelled(
        tmp_path, "abc", "# mine\nimage\tlabel\tpeople\na.jpg\tHV-LA\nb.jpg\tLV-LA\nc.jpg\thvha\n"
    )
    assert [(r.line, r.quadrant) for r in rows] == [(3, "HV-LA"), (4, "LV-LA"), (5, "HV-HA")]

    def read(file: Path) -> MoodEstimate:
        if file.name == "b.jpg":
            raise MoodcastError("b.jpg cannot be decoded (damaged or cut short?)")
        return _reading(0.5, -0.5, 0.9, 0)

    kept, readings, unread = read_photos(rows, read)
    assert [r.file.name for r in kept] == ["a.jpg", "c.jpg"] and len(readings) == 2
    assert [(u.line, u.file) for u in unread] == [(4, "b.jpg")]
    assert "cannot be decoded" in unread[0].why
    with pytest.raises(MoodcastError, match=r"none of the 3 photographs could be read \(line 3"):
        read_photos(rows, lambda f: read(tmp_path / "b.jpg"))


def test_the_log_loss_scores_the_sides_probabilities(tmp_path: Path) -> None:
    rows = _labelled(tmp_path, "ab", "a.jpg\tHV-HA\nb.jpg\tLV-LA\n")

    def said(p_pleasant: float, p_lively: float) -> MoodEstimate:
        evidence = {"p_pleasant": p_pleasant, "p_lively": p_lively}
        return MoodEstimate(0.1, 0.1, TAXONOMY.probabilities(0.1, 0.1), 0.5, evidence)

    sure = evaluate_images(rows, [said(0.9, 0.8), said(0.2, 0.0)], TAXONOMY).log_loss
    # a: -ln 0.9 - ln 0.8; b: -ln 0.8 - ln(1 - 0.001) (a certain 0 counts as 0.001 off)
    expected = (-math.log(0.9) - math.log(0.8) - math.log(0.8) - math.log(0.999)) / 2
    assert sure == pytest.approx(expected)
    unsure = evaluate_images(rows, [said(0.5, 0.5), said(0.5, 0.5)], TAXONOMY).log_loss
    assert unsure is not None and sure is not None
    assert unsure == pytest.approx(2 * math.log(2)) and unsure > sure


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("a.jpg\tHV-XX", "labels.tsv:2: unknown quadrant 'HV-XX'"),
        ("nope.jpg\tHV-HA", "labels.tsv:2: no photograph 'nope.jpg'"),
        ("a.jpg\tHV-HA\tmany", "labels.tsv:2: people 'many' is not a whole number"),
        ("a.jpg\tHV-HA\t²", "labels.tsv:2: people '²' is not a whole number"),  # isdigit()
        ("a.jpg\tHV-HA\t٣", "labels.tsv:2: people '٣' is not a whole number"),
        ("a.jpg", "labels.tsv:2: expected 2 or 3 tab-separated fields"),
    ],
)
def test_a_bad_line_is_named(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "a.jpg").write_bytes(b"x")
    labels = tmp_path / "labels.tsv"
    labels.write_text(f"# photos\n{line}\n")
    with pytest.raises(MoodcastError, match=message.replace("(", r"\(")):
        read_image_labels(labels, tmp_path)


def test_a_photograph_labelled_twice_is_refused_by_both_lines(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"x")
    labels = tmp_path / "labels.tsv"
    labels.write_text("a.jpg\tHV-HA\n# again, another way\n./a.jpg\tLV-LA\n")
    with pytest.raises(MoodcastError, match=r"labels.tsv:3: './a.jpg' is labelled on line 1"):
        read_image_labels(labels, tmp_path)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_a_labels_file_a_windows_editor_wrote_is_read(tmp_path: Path, encoding: str) -> None:
    """A byte-order mark and CRLF line ends: Notepad, a spreadsheet's 'UTF-8 text' and its
    'Unicode text' (UTF-16, tab-separated)."""
    for name in ("a", "b", "café"):
        (tmp_path / f"{name}.jpg").write_bytes(b"x")
    labels = tmp_path / "labels.tsv"
    text = "a.jpg\tHV-HA\t2\r\nb.jpg\tLV-LA\r\ncafé.jpg\tHV-LA\r\n"
    bom = {"utf-16-be": "\ufeff"}.get(encoding, "")  # the codec writes none of its own
    labels.write_bytes((bom + text).encode(encoding))
    rows = read_image_labels(labels, tmp_path)
    assert [(r.file.name, r.quadrant, r.people) for r in rows] == [
        ("a.jpg", "HV-HA", 2), ("b.jpg", "LV-LA", None), ("café.jpg", "HV-LA", None)]  # fmt: skip


def test_a_labels_file_in_another_encoding_is_refused_with_what_to_give(tmp_path: Path) -> None:
    labels = tmp_path / "labels.tsv"
    labels.write_bytes("café.jpg\tHV-HA\n".encode("latin-1"))
    with pytest.raises(MoodcastError, match=r"cannot be read .* give a UTF-8 text file"):
        read_image_labels(labels, tmp_path)


def test_a_folder_given_as_the_labels_file_is_named_so(tmp_path: Path) -> None:
    with pytest.raises(MoodcastError, match="give the path of an image labels file"):
        read_image_labels(tmp_path, tmp_path)


def test_the_cli_measures_the_scene_reader_on_real_photographs(photos: Path,
                                                              tmp_path: Path) -> None:  # fmt: skip
    """Debian's photographs (python3-skimage, opencv-doc), labelled by looking at them."""
    labels = tmp_path / "labels.tsv"
    labels.write_text("file\tquadrant\tpeople\ncoffee.png\tHV-LA\t0\nchelsea.png\tHV-LA\t0\n"
                      "astronaut.png\tHV-HA\t1\nmoon.png\tLV-LA\t0\n")  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "moodcast.edge.cli", "models", "evaluate-images",
                           str(photos), "--labels", str(labels), "--json"],
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["n"] == 4 and figures["people_n"] == 4
    assert sum(sum(row.values()) for row in figures["confusion"].values()) == 4
    assert sum(figures["moods_named"].values()) == 4
    assert 0.0 <= figures["quadrant"] <= 1.0
    done = subprocess.run([sys.executable, "-m", "moodcast.edge.cli", "models", "evaluate-images",
                           str(photos), "--labels", str(labels), "--json", "--monochrome"],
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    night = json.loads(done.stdout)
    assert night["how"].endswith("the photographs without their colour") and night["n"] == 4
    broken = tmp_path / "broken"  # one photograph cut short among good ones: set aside, named
    broken.mkdir()
    for name in ("coffee.png", "moon.png"):
        (broken / name).write_bytes((photos / name).read_bytes())
    (broken / "cut.jpg").write_bytes((photos / "chelsea.png").read_bytes()[:300])
    labels.write_text("coffee.png\tHV-LA\ncut.jpg\tHV-LA\nmoon.png\tLV-LA\n")
    done = subprocess.run([sys.executable, "-m", "moodcast.edge.cli", "models", "evaluate-images",
                           str(broken), "--labels", str(labels), "--json"],
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["n"] == 2 and [u["line"] for u in figures["not_read"]] == [2]
    assert "labels.tsv:2: not read, left out of the figures" in done.stderr
    bad = tmp_path / "bad.tsv"
    bad.write_text("coffee.png\tHAPPY\n")
    done = subprocess.run([sys.executable, "-m", "moodcast.edge.cli", "models", "evaluate-images",
                           str(photos), "--labels", str(bad)],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 2 and "bad.tsv:1: unknown quadrant 'HAPPY'" in done.stderr


def test_the_camera_conditions_benchmark_reads_every_condition(photos: Path, tmp_path: Path):
    """scripts/camera_conditions.py on two labelled photographs: a row per condition, the
    photographs as they are first (nothing moved from themselves)."""
    labels = tmp_path / "labels.tsv"
    labels.write_text("coffee.png\tHV-LA\nmoon.png\tLV-LA\n")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(root / "scripts/camera_conditions.py"),
                           "--labels", str(labels), "--folder", str(photos)],
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 20 and rows[1].startswith("| as photographed |")
    assert "| 0 of 2 | 0, 0 |" in rows[1]  # nothing cut or filled in the photographs
    for condition in ("night vision (grey)", "black bars left and right (pillarbox)",
                      "upside down, not turned", "privacy mask (a black box over 15 %)",
                      "a fisheye camera's black surround (the picture in a circle)"):  # fmt: skip
        assert any(row.startswith(f"| {condition} |") for row in rows)
    phone = next(row for row in rows if row.startswith("| that 9:16 picture in a 16:9"))
    assert "| 2, 0 |" in phone  # both cut back to their upright picture
    mat = next(row for row in rows if row.startswith("| grey box on all four sides"))
    cut = int(mat.split(" | ")[-2].split(",")[0])
    assert cut >= 1  # the coffee; the grey moon on a grey mat has no edge to find
