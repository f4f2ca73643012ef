"""The response policy: table-driven, pure."""

from __future__ import annotations

import pytest

from moodcast.config.errors import MoodcastError
from moodcast.config.settings import MoodSettings, PullSettings
from moodcast.models import response
from moodcast.models.mood import MoodEstimate, load_taxonomy

TAX = load_taxonomy("cowen13")


def at(mood: str) -> MoodEstimate:
    m = TAX.get(mood)
    return MoodEstimate(m.valence, m.arousal, TAX.probabilities(m.valence, m.arousal), 0.8,
                        {"caption": "x"})  # fmt: skip


@pytest.mark.parametrize(
    ("respond", "pull", "reading", "mood", "valence", "arousal"),
    [
        ({}, None, "anxious", "anxious", -0.45, 0.65),  # no rule: the reading itself
        ({"anxious": "calm"}, None, "anxious", "calm", 0.45, -0.7),
        ({"anxious": "calm"}, None, "sad", "sad", -0.75, -0.45),  # rule for another mood
        ({}, PullSettings(valence=0.5, arousal=0.0, strength=0.5), "sad", None, -0.125, -0.225),
        ({"sad": "calm"}, PullSettings(valence=1.0, arousal=1.0, strength=1.0), "sad", None,
         1.0, 1.0),
    ],
)  # fmt: skip
def test_targets(respond, pull, reading, mood, valence, arousal) -> None:
    policy = response.ResponsePolicy.from_settings(MoodSettings(respond=respond, pull=pull), TAX)
    target = policy.target(at(reading), TAX)
    if mood:
        assert target.mood == mood
    assert target.valence == pytest.approx(valence)
    assert target.arousal == pytest.approx(arousal)
    assert target.confidence == 0.8
    if respond.get(reading) or pull:
        assert "response" in target.evidence and target.evidence["caption"] == "x"


def test_the_held_mood_decides_not_the_momentary_top() -> None:
    policy = response.ResponsePolicy.from_settings(MoodSettings(respond={"calm": "joyful"}), TAX)
    assert policy.target(at("sad"), TAX, mood="calm").mood == "joyful"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mood.respond.happy": "calm"}, "mood.respond.happy: 'happy' is not"),
        ({"mood.respond.calm": "erotic"}, "mood.respond.calm: 'erotic' is not"),
        ({"mood.labels.scary": "spooky"}, "mood.labels.scary"),
        ({"mood.forbid": ["calm", "nope"]}, r"mood.forbid.1: 'nope' is not a mood"),
        ({"mood.taxonomy": "/nowhere/moods.yaml"}, "mood.taxonomy: taxonomy '/nowhere"),
    ],
)
def test_names_the_active_taxonomy_lacks_are_errors(overrides, message) -> None:
    """Refused when the config is loaded (config check, doctor, the daemon's start alike)."""
    from moodcast.config.settings import load_config

    with pytest.raises(MoodcastError, match=message):
        load_config(None, overrides)


def test_public_place_defaults_fit_each_taxonomy() -> None:
    from moodcast.config.settings import MoodcastConfig
    from moodcast.models.readers import active_taxonomy

    shop = active_taxonomy(MoodcastConfig())
    assert {"erotic", "scary", "annoying"}.isdisjoint(shop.names)
    assert response.labels(MoodSettings(), shop)["anxious"] == "tense"
    five = active_taxonomy(MoodcastConfig(mood=MoodSettings(taxonomy="moodsic5")))
    assert len(five.names) == 5  # none of the public-place moods exist there: nothing dropped
    everything = active_taxonomy(MoodcastConfig(mood=MoodSettings(forbid=[])))
    assert "erotic" in everything.names
