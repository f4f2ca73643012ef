"""Choosing the next track for a mood: pure, vectorised, and with controlled randomness.

Each track is scored by its distance to the mood on the valence/arousal plane and by how
well its named-mood probabilities overlap the reading's. Among the best few that are not
recently played and not by the artist just heard, one is drawn at random, favouring the best.
Tracks with no mood information only play when nothing else is left.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from moodcast.config.settings import SelectionSettings
from moodcast.models.mood import MoodEstimate, Taxonomy
from moodcast.player.track import Track

_MAX_DISTANCE = 2.0 * math.sqrt(2.0)
_NO_MOOD_SCORE = 2.0


@dataclass(frozen=True)
class Pick:
    track: Track
    score: float
    reason: str


class PlayHistory:
    """Recently played track ids and artists, bounded by the policy's windows."""

    def __init__(self, policy: SelectionSettings) -> None:
        self.tracks: deque[int] = deque(maxlen=max(policy.repeat_window, 1))
        self.artists: deque[str] = deque(maxlen=max(policy.artist_gap, 1))
        self._policy = policy

    def add(self, track: Track) -> None:
        if self._policy.repeat_window > 0:
            self.tracks.append(track.id)
        if self._policy.artist_gap > 0 and track.artist:
            self.artists.append(track.artist.casefold())


class TrackSelector:
    """Scores a fixed set of tracks against mood estimates; rebuild it after a rescan."""

    def __init__(self, tracks: Sequence[Track], taxonomy: Taxonomy, policy: SelectionSettings):
        self.tracks = list(tracks)
        self.policy = policy
        self.taxonomy = taxonomy
        n, names = len(self.tracks), taxonomy.names
        self._va = np.zeros((n, 2), dtype=np.float32)
        self._probs = np.zeros((n, len(names)), dtype=np.float32)
        self._has_mood = np.zeros(n, dtype=bool)
        artists = [t.artist.casefold() for t in self.tracks]
        codes = {a: i for i, a in enumerate(sorted(set(artists)))}
        self._artist_codes = codes
        self._artists = np.array([codes[a] for a in artists], dtype=np.int64)
        self._index = {t.id: i for i, t in enumerate(self.tracks)}
        self._present = np.ones(n, dtype=bool)  # False: dropped since the build
        for i, track in enumerate(self.tracks):
            probs = self._probabilities(track)
            if probs is None or track.mood is None:
                continue
            self._has_mood[i] = True
            self._va[i] = (track.mood.valence, track.mood.arousal)
            self._probs[i] = [probs.get(name, 0.0) for name in names]
        norms = np.maximum(np.linalg.norm(self._probs, axis=1, keepdims=True), 1e-6)
        self._unit_probs = (self._probs / norms).astype(np.float32)

    def drop(self, track_id: int) -> None:
        """Never pick this track again (it failed, or was banned), without a rebuild: a
        rebuild of 100,000 tracks is a decision thread's half second."""
        if track_id in self._index:
            self._present[self._index[track_id]] = False

    def _probabilities(self, track: Track) -> dict[str, float] | None:
        mood = track.mood
        if mood is None:
            return None
        if mood.taxonomy == self.taxonomy.name:
            return mood.probabilities
        # Stored under another taxonomy: re-derive from the words, else from the position.
        estimate = self.taxonomy.estimate_from_tags(mood.tags, 0.9, mood.source)
        if estimate is not None:
            return dict(estimate.probabilities)
        return self.taxonomy.probabilities(mood.valence, mood.arousal)

    def scores(self, estimate: MoodEstimate) -> NDArray[np.float32]:
        """Lower is better: 0 is a perfect match, tracks without mood score worst."""
        target = np.array([estimate.valence, estimate.arousal], dtype=np.float32)
        delta = self._va - target
        distance = np.sqrt(np.einsum("ij,ij->i", delta, delta)) / _MAX_DISTANCE
        wanted = np.array(
            [estimate.probabilities.get(n, 0.0) for n in self.taxonomy.names], dtype=np.float32
        )
        wanted /= max(float(np.linalg.norm(wanted)), 1e-6)
        w = self.policy.tag_weight
        scores = (1.0 - w) * distance + w * (1.0 - self._unit_probs @ wanted)
        scores[~self._has_mood] = _NO_MOOD_SCORE
        result: NDArray[np.float32] = scores.astype(np.float32, copy=False)
        return result

    def pick(
        self, estimate: MoodEstimate, history: PlayHistory, rng: np.random.Generator
    ) -> Pick | None:
        """The next track, or None when the library is empty."""
        if not self._present.any():
            return None
        scores = self.scores(estimate)
        eligible = self._present.copy()
        eligible[[self._index[i] for i in history.tracks if i in self._index]] = False
        fresh_artist = np.ones(len(self.tracks), dtype=bool)
        for artist in set(history.artists):
            if artist in self._artist_codes:
                fresh_artist &= self._artists != self._artist_codes[artist]
        notes: list[str] = []
        for mask, note in (
            (eligible & fresh_artist & self._has_mood, ""),
            (eligible & self._has_mood, "same artist as a recent track (no other choice)"),
            (eligible, "no track with mood information is left"),
            (self._present, "every track was played recently"),
        ):
            if mask.any():
                if note:
                    notes.append(note)
                break
        candidates = np.flatnonzero(mask)
        k = min(self.policy.top_k, candidates.size)
        best = candidates[np.argpartition(scores[candidates], k - 1)[:k]]
        chosen = int(rng.choice(best, p=_softmax(-scores[best], self.policy.temperature)))
        track = self.tracks[chosen]
        return Pick(track, float(scores[chosen]), _reason(track, estimate, notes))


def _softmax(values: NDArray[np.float32], temperature: float) -> NDArray[np.float64]:
    scaled = values.astype(np.float64) / max(temperature, 1e-6)
    weights = np.exp(scaled - scaled.max())
    result: NDArray[np.float64] = weights / weights.sum()
    return result


def _reason(track: Track, estimate: MoodEstimate, notes: list[str]) -> str:
    mood = track.mood
    if mood is None:
        base = "no mood information for this track"
    else:
        base = (
            f"{mood.mood} ({mood.source}) at valence {mood.valence:+.2f}, arousal "
            f"{mood.arousal:+.2f}, near {estimate.mood} ({estimate.valence:+.2f}, "
            f"{estimate.arousal:+.2f})"
        )
    return "; ".join([base, *notes])
