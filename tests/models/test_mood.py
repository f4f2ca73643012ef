from __future__ import annotations

import csv
from pathlib import Path

import pytest

from moodcast.config.errors import MoodcastError
from moodcast.models.mood import Mood, Taxonomy, load_taxonomy, normalize_tag

PRESETS = ("cowen13", "moodsic5")

# The folder letter of tests/data/image2music/cowen13_clusters → the cowen13 mood it stands for.
COWEN_FOLDERS = {
    "A": "amusing", "B": "annoying", "C": "anxious", "D": "beautiful", "E": "calm",
    "F": "dreamy", "G": "energizing", "H": "erotic", "I": "defiant", "J": "joyful",
    "K": "sad", "L": "scary", "M": "triumphant",
}  # fmt: skip


@pytest.mark.parametrize("preset", PRESETS)
def test_every_lastfm_tag_maps_into_preset(preset: str, image2music: Path) -> None:
    taxonomy = load_taxonomy(preset)
    tags = {p.stem for p in (image2music / "lastfm_moods").glob("*.csv")}
    assert len(tags) == 45
    unmapped = sorted(t for t in tags if taxonomy.mood_for_tag(t) is None)
    assert unmapped == []


def test_cowen_cluster_tags_map_to_their_category(image2music: Path) -> None:
    taxonomy = load_taxonomy("cowen13")
    for folder in sorted((image2music / "cowen13_clusters").iterdir()):
        expected = COWEN_FOLDERS[folder.name[0]]
        for path in folder.glob("*.csv"):
            with path.open(encoding="utf-8") as handle:
                words = {row["mood_EN"] for row in csv.DictReader(handle)}
            for word in words:
                assert taxonomy.mood_for_tag(word) == expected, (path, word)


def test_moodsic_classes_are_its_own_moods() -> None:
    taxonomy = load_taxonomy("moodsic5")
    assert taxonomy.names == ("happy", "romantic", "sad", "aggressive", "dramatic")


@pytest.mark.parametrize(
    ("word", "folded"),
    [("Pump-up", "pump up"), ("  EASY_listening ", "easy listening"), ("Calm", "calm")],
)
def test_normalize_tag(word: str, folded: str) -> None:
    assert normalize_tag(word) == folded


@pytest.mark.parametrize("preset", PRESETS)
def test_probabilities_sum_to_one_and_favour_the_nearest_anchor(preset: str) -> None:
    taxonomy = load_taxonomy(preset)
    for mood in taxonomy.moods:
        probs = taxonomy.probabilities(mood.valence, mood.arousal)
        assert sum(probs.values()) == pytest.approx(1.0)
        assert max(probs, key=lambda n: probs[n]) == mood.name


def test_forbidden_moods_are_never_named() -> None:
    taxonomy = load_taxonomy("cowen13").without(["scary"])
    scary = load_taxonomy("cowen13").get("scary")
    probs = taxonomy.probabilities(scary.valence, scary.arousal)
    assert "scary" not in probs
    assert taxonomy.mood_for_tag("creepy") is None


def test_forbidding_an_unknown_mood_is_an_error() -> None:
    with pytest.raises(MoodcastError, match="unknown mood 'spooky'"):
        load_taxonomy("cowen13").without(["spooky"])


def test_a_tag_under_two_moods_is_rejected() -> None:
    moods = [Mood("a", 0, 0, "", ("x",)), Mood("b", 1, 1, "", ("X",))]
    with pytest.raises(MoodcastError, match="both 'a' and 'b'"):
        Taxonomy("t", moods)


def test_estimate_from_tags_uses_known_words_only() -> None:
    taxonomy = load_taxonomy("cowen13")
    estimate = taxonomy.estimate_from_tags(["Sad", "gloomy", "nonsense"], 0.9, "file")
    assert estimate is not None
    assert estimate.mood == "sad"
    assert estimate.valence < -0.5
    assert taxonomy.estimate_from_tags(["nonsense"], 0.9, "file") is None


def test_unknown_preset_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(MoodcastError, match="use a preset"):
        load_taxonomy("nope")
    bad = tmp_path / "t.yaml"
    bad.write_text("moods: [{name: x}]\n")
    with pytest.raises(MoodcastError, match="malformed"):
        load_taxonomy(str(bad))
