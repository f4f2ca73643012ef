from __future__ import annotations

import pytest

from moodcast.models.mood import load_taxonomy
from moodcast.player.analysis import Analysis, calibrate

TAXONOMY = load_taxonomy("cowen13")
FEATURES = {"loudness_db": -20.0, "onset_rate": 3.0, "tempo_bpm": 110.0, "brightness_hz": 500.0,
            "mode": 0.0}  # fmt: skip


def analysis(track_id: int, energy: float, happy: float, **features: float) -> Analysis:
    tags = {"mtt:fast": energy, "mtt:slow": 1 - energy, "msd:happy": happy, "msd:sad": 1 - happy}
    return Analysis(track_id, tags, {**FEATURES, **features})


def test_more_energy_tags_rank_higher_in_arousal() -> None:
    result = calibrate([analysis(i, e, 0.5) for i, e in enumerate([0.1, 0.5, 0.9])], TAXONOMY)
    assert result[0].arousal < result[1].arousal < result[2].arousal
    assert result[1].arousal == pytest.approx(0.0)


def test_happy_and_major_rank_higher_in_valence() -> None:
    tracks = [analysis(0, 0.5, 0.2, mode=-0.3), analysis(1, 0.5, 0.8, mode=0.3)]
    result = calibrate(tracks, TAXONOMY)
    assert result[1].valence > result[0].valence


def test_one_track_sits_in_the_middle_and_small_libraries_are_shrunk() -> None:
    (only,) = calibrate([analysis(0, 0.9, 0.9)], TAXONOMY).values()
    assert (only.valence, only.arousal) == (0.0, 0.0)
    two = calibrate([analysis(0, 0.1, 0.5), analysis(1, 0.9, 0.5)], TAXONOMY)
    assert 0 < two[1].arousal < 0.5


def test_scale_of_tags_does_not_matter_only_order() -> None:
    low = calibrate([analysis(i, e, 0.5) for i, e in enumerate([0.01, 0.02, 0.03])], TAXONOMY)
    high = calibrate([analysis(i, e, 0.5) for i, e in enumerate([0.3, 0.6, 0.9])], TAXONOMY)
    assert [low[i].arousal for i in range(3)] == [high[i].arousal for i in range(3)]


def test_mood_words_and_source() -> None:
    tracks = [analysis(i, 0.5, h) for i, h in enumerate([0.1, 0.2, 0.3, 0.4, 0.95])]
    result = calibrate(tracks, TAXONOMY)
    assert "happy" in result[4].tags and result[4].source == "analysed"
    assert sum(result[4].probabilities.values()) == pytest.approx(1.0)
