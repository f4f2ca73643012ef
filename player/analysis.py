"""From what the tagger heard to a mood: pure functions, calibrated within the library.

musicnn's tag probabilities depend strongly on genre (on orchestral game music its MSD mood
tags stay below 0.1), so no fixed threshold works across libraries. Instead every cue is
turned into its percentile rank among the library's analysed tracks, the ranks are combined
with fixed weights into arousal and valence scores, and those scores are ranked again and
spread onto [-1, 1]. A small library is pulled towards the centre, where ranks mean little.

Arousal: energy tags (MTT fast, loud, drums, beat, techno, rock, metal, dance; MSD party,
dance, metal, hard rock, punk, House, electro) minus calm tags (MTT slow, quiet, soft,
ambient, new age, harp, flute; MSD chill, chillout, Mellow, easy listening, ambient,
acoustic), plus loudness and, weakly, onset rate, tempo and spectral brightness.
Valence: happy tags (MSD happy, party, catchy, dance, funk, pop; MTT pop, dance) minus sad
ones (MSD sad; MTT weird, metal, choral) plus the major/minor mode and brightness.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from moodcast.models.mood import Taxonomy
from moodcast.player.track import TrackMood

ENERGY = ("mtt:fast", "mtt:loud", "mtt:drums", "mtt:beat", "mtt:beats", "mtt:techno",
          "mtt:rock", "mtt:metal", "mtt:dance", "msd:party", "msd:dance", "msd:metal",
          "msd:hard rock", "msd:punk", "msd:House", "msd:electro", "msd:heavy metal")  # fmt: skip
CALM = ("mtt:slow", "mtt:quiet", "mtt:soft", "mtt:ambient", "mtt:new age", "mtt:harp",
        "mtt:flute", "msd:chill", "msd:chillout", "msd:Mellow", "msd:easy listening",
        "msd:ambient", "msd:acoustic")  # fmt: skip
HAPPY = ("msd:happy", "msd:party", "msd:catchy", "msd:dance", "msd:funk", "msd:pop",
         "mtt:pop", "mtt:dance")  # fmt: skip
SAD = ("msd:sad", "mtt:weird", "mtt:metal", "mtt:choral")

# Mood words the taggers know, used as this track's tags when it ranks high on them.
MOOD_WORDS = {"msd:happy": "happy", "msd:sad": "sad", "msd:party": "party",
              "msd:chill": "chill", "msd:chillout": "chillout", "msd:Mellow": "mellow",
              "msd:beautiful": "beautiful", "msd:sexy": "sexy", "msd:catchy": "catchy",
              "msd:easy listening": "easy listening", "mtt:fast": "fast",
              "mtt:slow": "slow", "mtt:loud": "loud", "mtt:quiet": "quiet",
              "mtt:soft": "soft", "mtt:ambient": "ambient"}  # fmt: skip

# The tags carry most of the weight: onset rate and brightness alone mislabel often (a
# legato flute is "bright", reverb reads as onsets), see docs/tagging.md.
AROUSAL_WEIGHTS = {"tags": 1.0, "loudness_db": 0.4, "onset_rate": 0.2, "tempo_bpm": 0.2,
                   "brightness_hz": 0.1}  # fmt: skip
VALENCE_WEIGHTS = {"tags": 1.0, "mode": 0.5, "brightness_hz": 0.2}


@dataclass(frozen=True)
class Analysis:
    """What the tagger heard in one track: prefixed tag probabilities and audio features."""

    track_id: int
    tags: Mapping[str, float]
    features: Mapping[str, float]


def _ranks(values: Sequence[float]) -> np.ndarray:
    """Percentile ranks in [0, 1] (ties share their mean rank); 0.5 for a single value."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 1:
        return np.array([0.5])
    order = arr.argsort(kind="stable")
    ranks = np.empty(arr.size)
    ranks[order] = np.arange(arr.size)
    for value in np.unique(arr):
        tied = arr == value
        ranks[tied] = ranks[tied].mean()
    return ranks / (arr.size - 1)


def _tag_score(tags: Mapping[str, float], plus: Sequence[str], minus: Sequence[str]) -> float:
    up = np.mean([tags.get(t, 0.0) for t in plus])
    down = np.mean([tags.get(t, 0.0) for t in minus])
    return float(up - down)


def _axis(
    analyses: Sequence[Analysis], weights: Mapping[str, float], tag_score: list[float]
) -> np.ndarray:
    total = np.zeros(len(analyses))
    for cue, weight in weights.items():
        values = tag_score if cue == "tags" else [a.features.get(cue, 0.0) for a in analyses]
        total += weight * _ranks(values)
    spread = 2.0 * _ranks(list(total)) - 1.0
    return spread * (len(analyses) / (len(analyses) + 4.0))


def calibrate(analyses: Sequence[Analysis], taxonomy: Taxonomy) -> dict[int, TrackMood]:
    """Library-relative mood data for every analysed track."""
    if not analyses:
        return {}
    arousal_tags = [_tag_score(a.tags, ENERGY, CALM) for a in analyses]
    valence_tags = [_tag_score(a.tags, HAPPY, SAD) for a in analyses]
    arousal = _axis(analyses, AROUSAL_WEIGHTS, arousal_tags)
    valence = _axis(analyses, VALENCE_WEIGHTS, valence_tags)
    word_ranks = {k: _ranks([a.tags.get(k, 0.0) for a in analyses]) for k in MOOD_WORDS}
    result = {}
    for i, a in enumerate(analyses):
        v, ar = float(valence[i]), float(arousal[i])
        words = tuple(
            MOOD_WORDS[k]
            for k in MOOD_WORDS
            if word_ranks[k][i] >= 0.8 and len(analyses) >= 5
            and taxonomy.mood_for_tag(MOOD_WORDS[k])
        )  # fmt: skip
        probs = taxonomy.probabilities(v, ar)
        hinted = taxonomy.estimate_from_tags(words, 0.5, "analysed")
        if hinted is not None:
            # A light touch: ranks of single tags are noisy, the position decides the mood.
            probs = {n: 0.9 * probs[n] + 0.1 * hinted.probabilities[n] for n in probs}
        mood = max(probs, key=lambda n: probs[n])
        result[a.track_id] = TrackMood("analysed", taxonomy.name, mood, v, ar, probs, words)
    return result
