"""The evaluation on a small labelled file, with the real shipped text model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from moodcast.models.mood import load_taxonomy
from moodcast.models.text import caption_eval
from moodcast.models.text.caption_labels import Labelled
from moodcast.models.text.caption_mood import CaptionMood

ROOT = Path(__file__).resolve().parents[2]
CAPTIONS = [
    ("kids laughing and dancing at a birthday party", "HV-HA"),
    ("a crowded gym with loud music and people lifting weights", "HV-HA"),
    ("fans cheering at a football match", "HV-HA"),
    ("a calm lake at sunrise with a small boat", "HV-LA"),
    ("a woman reading in a cozy armchair", "HV-LA"),
    ("a cat asleep on a warm windowsill", "HV-LA"),
    ("two drivers screaming at each other after a crash", "LV-HA"),
    ("a kitchen on fire with black smoke", "LV-HA"),
    ("a mob smashing shop windows", "LV-HA"),
    ("an old man alone in a grey waiting room", "LV-LA"),
    ("an empty street in the rain at night", "LV-LA"),
    ("a withered plant on a dusty windowsill", "LV-LA"),
]


@pytest.fixture(scope="module")
def reader() -> CaptionMood:
    return CaptionMood(None, load_taxonomy("cowen13"))


def rows() -> list[Labelled]:
    return [Labelled(c, q, i + 1) for i, (c, q) in enumerate(CAPTIONS)]


def test_plain_evaluation_counts_every_reading(reader: CaptionMood) -> None:
    labelled = rows()
    vectors = reader.embed.many([r.caption for r in labelled])
    result = caption_eval.evaluate(
        labelled, caption_eval.read_all(labelled, vectors, reader.va, reader.vocabulary,
                                        reader.taxonomy), reader.taxonomy)  # fmt: skip
    assert result.n == 12
    assert sum(sum(row.values()) for row in result.confusion.values()) == 12
    right = sum(result.confusion[q][q] for q in result.confusion)
    assert result.quadrant == pytest.approx(right / 12)
    assert result.quadrant >= 10 / 12  # unseen captions of plain scenes read right
    assert len(result.wrong) == 12 - right
    assert sum(n for _, n, _ in result.by_confidence) == 12
    assert result.mood_in_quadrant >= 11 / 12


def test_cross_validation_never_trains_on_the_held_out_captions(reader: CaptionMood) -> None:
    labelled = rows()
    vectors = reader.embed.many([r.caption for r in labelled])
    alone = caption_eval.cross_validate(labelled, vectors, reader.vocabulary, reader.taxonomy,
                                        folds=3)  # fmt: skip
    # The same captions offered as extra training data are dropped, so nothing changes: a
    # held-out caption is never among the ones its model was trained on.
    leaky = caption_eval.cross_validate(labelled, vectors, reader.vocabulary, reader.taxonomy,
                                        labelled, vectors, folds=3)  # fmt: skip
    assert leaky.to_dict() == alone.to_dict()
    assert alone.n == 12
    with pytest.raises(Exception, match="folds"):
        caption_eval.cross_validate(labelled, vectors, reader.vocabulary, reader.taxonomy,
                                    folds=20)  # fmt: skip


def test_the_command_reports_figures_and_json(tmp_path: Path) -> None:
    path = tmp_path / "labels.tsv"
    path.write_text("caption\tquadrant\n" + "".join(f"{c}\t{q}\n" for c, q in CAPTIONS))
    out = subprocess.run([sys.executable, "-m", "moodcast.edge.cli", "models", "evaluate",
                          str(path), "--json"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["n"] == 12 and 0 <= data["quadrant"] <= 1 and data["precision"] == "int8"
    text = subprocess.run([sys.executable, "-m", "moodcast.edge.cli", "models", "evaluate",
                           str(path), "--folds", "4"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert text.returncode == 0, text.stderr
    assert "4-fold cross-validation" in text.stdout and "| truth \\ read as |" in text.stdout
    bad = tmp_path / "bad.tsv"
    bad.write_text("a party\tJOLLY\n")
    err = subprocess.run([sys.executable, "-m", "moodcast.edge.cli", "models", "evaluate",
                          str(bad)], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=False)  # fmt: skip
    assert err.returncode == 2 and "bad.tsv:1: unknown quadrant 'JOLLY'" in err.stderr


def test_confidence_means_something_on_the_shipped_model(reader: CaptionMood) -> None:
    sure = [reader.read(c).confidence for c, _ in CAPTIONS]
    vague = [reader.read(c).confidence for c in ["a thing", "a photo", "an image of an object"]]
    assert np.mean(vague) < np.mean(sure)
