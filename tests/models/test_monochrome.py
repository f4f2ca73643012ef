"""Frames without colour (night vision, black-and-white cameras, old prints): told apart from
colour ones, and read by the fusion fitted on colourless copies of the photographs."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from moodcast.config.errors import MoodcastError
from moodcast.config.settings import load_config
from moodcast.models import readers
from moodcast.models.mood import load_taxonomy
from moodcast.models.vision import fusion as fusion_module
from moodcast.models.vision.fusion import FILE, MONO_FILE, load_fusion
from moodcast.models.vision.monochrome import UNTINTED, grey, is_monochrome, tint_residual
from moodcast.models.vision.scene import SceneReader

ROOT = Path(__file__).resolve().parents[2]

COLOUR = ("astronaut.png", "coffee.png", "chelsea.png", "fruits.jpg", "home.jpg", "messi5.jpg",
          "hubble_deep_field.jpg", "rocket.jpg")  # fmt: skip


def toned(frame: np.ndarray, hue: int, saturation: int) -> np.ndarray:
    """A sepia (hue 15) or blue (hue 110) print of the frame."""
    hsv = cv2.cvtColor(grey(frame), cv2.COLOR_BGR2HSV)
    hsv[..., 0], hsv[..., 1] = hue, saturation
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def infrared(frame: np.ndarray, seed: int = 0) -> np.ndarray:
    """A colour sensor's night picture: grey with a magenta cast, colour noise, then JPEG."""
    g = grey(frame).astype(np.float64) * np.array([1.06, 0.96, 1.06])
    noisy = np.clip(g + np.random.default_rng(seed).normal(0, 2, g.shape), 0, 255)
    _, data = cv2.imencode(".jpg", noisy.astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 70])
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
    assert decoded is not None
    return decoded


@pytest.mark.parametrize("name", COLOUR)
def test_colour_photographs_are_colour_and_their_colourless_copies_are_not(
    photos: Path, name: str
) -> None:
    frame = cv2.imread(str(photos / name))
    assert not is_monochrome(frame) and tint_residual(frame) > 2 * UNTINTED
    for copy in (grey(frame), toned(frame, 15, 90), toned(frame, 110, 60), infrared(frame),
                 cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)):  # fmt: skip
        assert is_monochrome(copy), name


def test_a_grey_photograph_and_flat_frames_are_monochrome(photos: Path) -> None:
    assert is_monochrome(cv2.imread(str(photos / "moon.png")))  # Debian's moon is grey
    assert is_monochrome(np.zeros((60, 80, 3), np.uint8))
    assert is_monochrome(np.full((60, 80, 3), (20, 120, 200), np.uint8))  # one colour: a tint
    # Colour that does not follow lightness (an orange sky over a blue sea, both as light).
    lab = np.full((120, 160, 3), 150, np.uint8)
    lab[:60, :, 1:] = (150, 170)
    lab[60:, :, 1:] = (120, 90)
    sunset = cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)
    assert not is_monochrome(sunset)


def test_the_grey_copy_keeps_the_luminance_in_three_channels(photos: Path) -> None:
    frame = cv2.imread(str(photos / "coffee.png"))
    copy = grey(frame)
    assert copy.shape == frame.shape and copy.dtype == np.uint8
    assert np.array_equal(copy[..., 0], copy[..., 1]) and np.array_equal(copy[..., 1], copy[..., 2])
    assert np.array_equal(copy[..., 0], cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
    assert np.array_equal(grey(copy[..., 0]), copy)  # a one-channel frame too


def test_the_shipped_monochrome_fusion_matches_its_manifest_and_the_training_file() -> None:
    mono, colour = load_fusion(name=MONO_FILE), load_fusion()
    assert mono.training["frames"] == "monochrome"
    assert colour.training.get("frames", "colour") == "colour"
    train = ROOT / "tests/data/photos/train.tsv"
    assert mono.training["labels_sha256"] == hashlib.sha256(train.read_bytes()).hexdigest()
    assert mono.training["labels_sha256"] == colour.training["labels_sha256"]


def test_a_colour_fusion_under_the_monochrome_name_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "fusion"
    shutil.copytree(fusion_module.fusion_dir(), copy, ignore=shutil.ignore_patterns("*.py*"))
    shutil.copy(copy / FILE, copy / MONO_FILE)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"][MONO_FILE] = manifest["files"][FILE]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(MoodcastError, match="fitted on colour frames, not the ones its name says"):
        load_fusion(copy, MONO_FILE)
    del manifest["files"][MONO_FILE]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(MoodcastError, match=f"lists no {MONO_FILE}"):
        load_fusion(copy, MONO_FILE)
    assert load_fusion(copy).training["labels_sha256"]  # the colour one still loads


def test_colourless_frames_are_read_by_the_monochrome_fusion(photos: Path) -> None:
    taxonomy = load_taxonomy("cowen13")
    reader = SceneReader(taxonomy, fusion=load_fusion(), mono=load_fusion(name=MONO_FILE))
    photo = cv2.imread(str(photos / "coffee.png"))
    assert "colour" not in reader.read(photo).evidence
    for copy in (grey(photo), infrared(photo), toned(photo, 15, 90)):
        estimate = reader.read(copy, previous=copy)
        assert str(estimate.evidence["colour"]).startswith("none (night vision")
        assert estimate.evidence["saturation"] == 0.0  # read as the grey copy it was fitted on
        assert estimate.evidence["fusion"] == "fitted"
    # The same reader without it: the colour fusion, at a quarter of its confidence, says why.
    alone = SceneReader(taxonomy, fusion=load_fusion())
    fused = SceneReader(taxonomy, fusion=load_fusion(), mono=load_fusion(name=MONO_FILE))
    fallback, with_mono = alone.read(grey(photo)), fused.read(grey(photo))
    assert "colour fusion at a quarter of its confidence" in str(fallback.evidence["colour"])
    assert fallback.confidence <= 0.25 + 1e-9
    assert with_mono.confidence > fallback.confidence
    # Hand-set weights have no fusion to choose: colourless frames read as before.
    assert "colour" not in SceneReader(taxonomy).read(grey(photo)).evidence


def test_without_the_monochrome_fusion_the_reader_and_doctor_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "fusion"
    shutil.copytree(fusion_module.fusion_dir(), copy, ignore=shutil.ignore_patterns("*.py*"))
    (copy / MONO_FILE).write_text((copy / MONO_FILE).read_text().replace("{", "{ ", 1))
    monkeypatch.setattr(fusion_module, "fusion_dir", lambda: copy)
    config = load_config(None, {"reader.objects.enabled": "false"})
    reader, problem = readers.build_reader_or_scene(config, load_taxonomy("cowen13"))
    scene = getattr(reader, "scene", reader)
    assert "colourless frames (night vision) read by the colour fusion" in problem
    assert "does not match its manifest checksum" in scene.models_detail
    estimate = scene.read(np.full((120, 160, 3), 128, np.uint8))
    assert "does not match its manifest checksum" in str(estimate.evidence["colour"])
    assert estimate.evidence["fusion"] == "fitted"  # the colour fusion still reads


def test_photographs_without_colour_are_read_as_photographs(photos: Path) -> None:
    """A black-and-white photograph (moodcast recommend, evaluate-images) is read by the
    colour fusion, as the photographs it learnt from; a camera's colourless frame is not."""
    config = load_config(None, {"reader.objects.enabled": "false"})
    taxonomy = load_taxonomy("cowen13")
    photograph = readers.build_reader(config, taxonomy, photographs=True)
    camera = readers.build_reader(config, taxonomy)
    moon = cv2.imread(str(photos / "moon.png"))
    assert "colour" not in photograph.read(moon).evidence
    assert str(camera.read(moon).evidence["colour"]).startswith("none (night vision")
