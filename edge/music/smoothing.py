"""Mood smoothing: pure, with the clock passed in, so that every rule is table-testable.

Readings are blended exponentially (a reading's weight halves every ``half_life_s``, and a
low-confidence reading counts for less); the *named* mood only changes when a new one leads
the current one by ``switch_margin`` for ``min_dwell_s`` (hysteresis), so music does not flap.
A change that moves far on the valence/arousal plane is flagged strong: the player then
crossfades at once instead of waiting for the track to end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from moodcast.config.settings import SmoothingSettings
from moodcast.models.mood import MoodEstimate


@dataclass(frozen=True)
class SmoothedMood:
    estimate: MoodEstimate  # smoothed position and probabilities
    mood: str  # the named mood after hysteresis
    changed: bool  # the named mood changed with this reading
    strong: bool  # ...and moved far enough to crossfade early


class MoodSmoother:
    def __init__(self, policy: SmoothingSettings) -> None:
        self.policy = policy
        self._state: MoodEstimate | None = None
        self._last_at = 0.0
        self._mood: str | None = None
        self._mood_position = (0.0, 0.0)
        self._challenger: str | None = None
        self._challenger_since = 0.0

    def update(self, reading: MoodEstimate, now: float) -> SmoothedMood:
        if self._state is None:
            self._state, self._last_at = reading, now
            self._mood = reading.mood
            self._mood_position = (reading.valence, reading.arousal)
            return SmoothedMood(reading, reading.mood, True, False)
        self._state = self._blend(self._state, reading, now - self._last_at)
        self._last_at = now
        return self._hysteresis(now)

    def _blend(self, old: MoodEstimate, new: MoodEstimate, dt: float) -> MoodEstimate:
        # Weight of the new reading: what an exponential decay over dt leaves to it, scaled
        # by its confidence (a black frame barely moves the mood).
        k = (1.0 - math.pow(0.5, max(dt, 0.0) / self.policy.half_life_s)) * new.confidence
        k = min(1.0, max(k, 0.0))
        names = set(old.probabilities) | set(new.probabilities)
        probs = {
            n: (1 - k) * old.probabilities.get(n, 0.0) + k * new.probabilities.get(n, 0.0)
            for n in names
        }
        return MoodEstimate(
            valence=(1 - k) * old.valence + k * new.valence,
            arousal=(1 - k) * old.arousal + k * new.arousal,
            probabilities=probs,
            confidence=(1 - k) * old.confidence + k * new.confidence,
            evidence=new.evidence,
        )

    def _hysteresis(self, now: float) -> SmoothedMood:
        state, current = self._state, self._mood
        assert state is not None and current is not None
        leader = state.mood
        lead = state.probabilities.get(leader, 0.0) - state.probabilities.get(current, 0.0)
        if leader == current or lead < self.policy.switch_margin:
            self._challenger = None
            return SmoothedMood(state, current, False, False)
        if self._challenger != leader:
            self._challenger, self._challenger_since = leader, now
        if now - self._challenger_since < self.policy.min_dwell_s:
            return SmoothedMood(state, current, False, False)
        moved = math.hypot(
            state.valence - self._mood_position[0], state.arousal - self._mood_position[1]
        )
        self._mood, self._challenger = leader, None
        self._mood_position = (state.valence, state.arousal)
        return SmoothedMood(state, leader, True, moved >= self.policy.strong_change)
