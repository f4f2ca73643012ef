"""What plays next: the queue head, the recent plays the selection avoids repeating, and a
hold after a failure that was not the track's (no descriptors left)."""

from __future__ import annotations

import numpy as np

from moodcast.config.settings import SelectionSettings
from moodcast.models.mood import MoodEstimate
from moodcast.player.selection import Pick, PlayHistory, TrackSelector


class NextUp:
    """Pure but for the random generator it is given; the conductor says when a track
    starts and which selector is in use."""

    def __init__(self, settings: SelectionSettings, rng: np.random.Generator) -> None:
        self.history = PlayHistory(settings)
        self.rng = rng
        self._queued: tuple[Pick, TrackSelector] | None = None  # and the selector it is from
        self._held_until = 0.0  # no track starts before

    def head(self, selector: TrackSelector) -> Pick | None:
        """The queue head, if it was picked from ``selector`` (a rebuilt one drops it)."""
        if self._queued is None or self._queued[1] is not selector:
            return None
        return self._queued[0]

    def clear(self) -> None:
        """The head no longer fits (the mood or an override changed): picked again."""
        self._queued = None

    def pick(self, selector: TrackSelector, estimate: MoodEstimate) -> Pick | None:
        return selector.pick(estimate, self.history, self.rng)

    def take(self, selector: TrackSelector, estimate: MoodEstimate) -> Pick | None:
        """The track to start now: the queue head, or a fresh pick."""
        return self.head(selector) or self.pick(selector, estimate)

    def started(self, pick: Pick, selector: TrackSelector, estimate: MoodEstimate) -> None:
        """``pick`` started: remembered, and the next one queued."""
        self.history.add(pick.track)
        following = self.pick(selector, estimate)
        self._queued = None if following is None else (following, selector)

    def hold(self, until: float) -> None:
        self._held_until = until

    def held(self, now: float) -> bool:
        return now < self._held_until
