"""The mood the music follows: the smoothed camera reading through the response policy, an
override, or the mood held while auto is off."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from moodcast.config.settings import MoodcastConfig
from moodcast.edge.music.smoothing import MoodSmoother, SmoothedMood
from moodcast.edge.timing import Clocks
from moodcast.models.mood import MoodEstimate, Taxonomy
from moodcast.models.response import ResponsePolicy, drive_target, labels

if TYPE_CHECKING:
    from moodcast.edge.car.vehicle import Vehicle
    from moodcast.edge.status.state import RuntimeState

logger = logging.getLogger(__name__)


class MoodFollower:
    """Readings in, the target mood out; pure but for the clock it is given."""

    def __init__(self, config: MoodcastConfig, taxonomy: Taxonomy, clocks: Clocks) -> None:
        self.taxonomy, self.clocks = taxonomy, clocks
        self.smoother = MoodSmoother(config.smoothing)
        self.response = ResponsePolicy.from_settings(config.mood, taxonomy)
        self.labels = labels(config.mood, taxonomy)
        self.respond = config.vehicle.respond  # what a drive calls for, in a car
        self.smoothed: SmoothedMood | None = None
        self.fixed: MoodEstimate | None = None  # the mood held while auto is off
        self.last_reading: MoodEstimate | None = None

    def target(self, state: RuntimeState,
               vehicle: Vehicle | None = None) -> tuple[MoodEstimate, str]:  # fmt: skip
        """The mood music should follow now, and where it comes from (in a car, what the
        drive calls for is applied to all but an override)."""
        estimate, source = self._target(state)
        if vehicle is not None and source != "override":
            estimate = drive_target(estimate, vehicle.current.name, self.respond, self.taxonomy)
        return estimate, source

    def _target(self, state: RuntimeState) -> tuple[MoodEstimate, str]:
        override = state.override_active(self.clocks.wall())
        if override:
            m = self.taxonomy.get(override)
            probs = self.taxonomy.probabilities(m.valence, m.arousal)
            return MoodEstimate(
                m.valence, m.arousal, probs, 1.0, {"override": override}
            ), "override"
        if not state.auto and self.fixed is not None:
            return self.fixed, "fixed"
        if self.smoothed is not None:
            s = self.smoothed
            return self.response.target(s.estimate, self.taxonomy, s.mood), "camera"
        probs = self.taxonomy.probabilities(0.0, 0.0)
        return MoodEstimate(0.0, 0.0, probs, 0.0, {"reason": "no reading yet"}), "default"

    def update(self, reading: MoodEstimate, at: float) -> SmoothedMood:
        """The reading smoothed in; a change of the named mood is logged with its reasons."""
        before = self.smoothed.mood if self.smoothed else None
        self.smoothed = self.smoother.update(reading, at)
        self.last_reading = reading
        if self.smoothed.changed:
            self._log_change(before, self.smoothed)
        return self.smoothed

    def _log_change(self, before: str | None, now: SmoothedMood) -> None:
        """One INFO line per change of the named mood, with what it rests on, so that a person
        watching the journal sees what the device sees and why the music changes."""
        from moodcast.edge.status.state_view import main_evidence

        e = now.estimate
        target = self.response.target(e, self.taxonomy, now.mood)
        plays = f"; plays {target.mood}" if target.mood != now.mood else ""
        logger.info("mood %s → %s (valence %+.2f, arousal %+.2f, confidence %.2f%s; %s)",
                    before or "-", now.mood, e.valence, e.arousal, e.confidence, plays,
                    main_evidence(e))  # fmt: skip
