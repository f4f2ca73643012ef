from __future__ import annotations

import pytest

from moodcast.config.settings import SmoothingSettings
from moodcast.edge.music.smoothing import MoodSmoother
from moodcast.models.mood import MoodEstimate, load_taxonomy

TAXONOMY = load_taxonomy("cowen13")


def reading(mood: str, confidence: float = 1.0) -> MoodEstimate:
    m = TAXONOMY.get(mood)
    return MoodEstimate(
        m.valence, m.arousal, TAXONOMY.probabilities(m.valence, m.arousal), confidence
    )


def run(policy: SmoothingSettings, readings: list[tuple[float, str, float]]) -> list:
    smoother = MoodSmoother(policy)
    return [smoother.update(reading(mood, conf), t) for t, mood, conf in readings]


def test_first_reading_sets_the_mood() -> None:
    (out,) = run(SmoothingSettings(), [(0, "calm", 1.0)])
    assert out.mood == "calm" and out.changed


def test_half_life_halves_the_old_reading() -> None:
    smoother = MoodSmoother(SmoothingSettings(half_life_s=10))
    smoother.update(reading("sad"), 0)
    out = smoother.update(reading("joyful"), 10)
    sad, joy = TAXONOMY.get("sad"), TAXONOMY.get("joyful")
    assert out.estimate.valence == pytest.approx((sad.valence + joy.valence) / 2)


def test_low_confidence_moves_less() -> None:
    sure = run(SmoothingSettings(half_life_s=10), [(0, "sad", 1), (10, "joyful", 1.0)])[-1]
    unsure = run(SmoothingSettings(half_life_s=10), [(0, "sad", 1), (10, "joyful", 0.2)])[-1]
    assert unsure.estimate.valence < sure.estimate.valence


@pytest.mark.parametrize(
    ("times", "switches"),
    [
        ([0, 10, 20, 30], False),  # the new mood leads, but not for min_dwell_s yet
        ([0, 10, 20, 40, 75], True),  # it has led for 65 s > 60 s
    ],
)
def test_hysteresis_needs_a_lasting_lead(times: list[float], switches: bool) -> None:
    policy = SmoothingSettings(half_life_s=5, switch_margin=0.1, min_dwell_s=60)
    seq = [(times[0], "calm", 1.0)] + [(t, "energizing", 1.0) for t in times[1:]]
    outs = run(policy, seq)
    assert (outs[-1].mood == "energizing") is switches
    assert any(o.changed for o in outs[1:]) is switches


def test_flapping_between_two_moods_does_not_switch() -> None:
    policy = SmoothingSettings(half_life_s=30, switch_margin=0.1, min_dwell_s=30)
    seq = [(0, "calm", 1.0)] + [
        (t, "energizing" if i % 2 else "calm", 1.0) for i, t in enumerate(range(5, 300, 5))
    ]
    assert all(o.mood == "calm" for o in run(policy, seq))


@pytest.mark.parametrize(("new", "strong"), [("triumphant", False), ("sad", True)])
def test_strong_change_flag(new: str, strong: bool) -> None:
    policy = SmoothingSettings(half_life_s=1, min_dwell_s=0, strong_change=0.8)
    outs = run(policy, [(0, "energizing", 1.0), (20, new, 1.0)])
    assert outs[-1].changed and outs[-1].mood == new
    assert outs[-1].strong is strong
