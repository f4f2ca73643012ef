"""What the room calls for: from the mood read to the mood to play, per deployment.

A reading is not always what should play: a car in a stressful jam, a storm, a gloomy morning
in a shop. ``mood.respond`` maps a reading's named mood to the mood to play instead, and
``mood.pull`` draws the music part of the way towards a point of the plane. Pure functions
of the estimate and the settings, so every rule is table-testable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from moodcast.config.errors import MoodcastError
from moodcast.config.settings import (
    PUBLIC_PLACE_FORBID,
    PUBLIC_PLACE_LABELS,
    DriveResponse,
    MoodSettings,
    PullSettings,
)
from moodcast.models.mood import MoodEstimate, Taxonomy, clamp


def forbidden(settings: MoodSettings, taxonomy: Taxonomy) -> list[str]:
    """The moods this deployment never plays: as configured, or the public-place set."""
    if settings.forbid is not None:
        return list(settings.forbid)
    return [name for name in PUBLIC_PLACE_FORBID if name in taxonomy.names]


def labels(settings: MoodSettings, taxonomy: Taxonomy) -> dict[str, str]:
    """Mood name → the word shown for it; every mood has one (its name by default)."""
    chosen = settings.labels
    if chosen is None:
        chosen = {k: v for k, v in PUBLIC_PLACE_LABELS.items() if k in taxonomy.names}
    for name in chosen:
        _known(taxonomy, name, f"mood.labels.{name}")
    return {name: chosen.get(name, name) for name in taxonomy.names}


def _known(taxonomy: Taxonomy, name: str, where: str) -> None:
    if name not in taxonomy.names:
        raise MoodcastError(f"{where}: {name!r} is not an allowed mood of {taxonomy.name!r}",
                            f"use one of {', '.join(taxonomy.names)}")  # fmt: skip


@dataclass(frozen=True)
class ResponsePolicy:
    respond: Mapping[str, str]
    pull: PullSettings | None

    @classmethod
    def from_settings(cls, settings: MoodSettings, taxonomy: Taxonomy) -> ResponsePolicy:
        """Checked against the active taxonomy: a name it lacks is an error naming the key."""
        for reading, target in settings.respond.items():
            _known(taxonomy, reading, f"mood.respond.{reading}")
            _known(taxonomy, target, f"mood.respond.{reading}")
        return cls(dict(settings.respond), settings.pull)

    def target(
        self, reading: MoodEstimate, taxonomy: Taxonomy, mood: str | None = None
    ) -> MoodEstimate:
        """The mood to play for a reading (the reading itself when no rule applies).

        ``mood``: the reading's named mood when the caller holds it steadier than the top
        probability (the smoother's hysteresis)."""
        mood = mood or reading.mood
        valence, arousal, why = reading.valence, reading.arousal, []
        instead = self.respond.get(mood)
        if instead is not None:
            anchor = taxonomy.get(instead)
            valence, arousal = anchor.valence, anchor.arousal
            why.append(f"{mood} → {instead}")
        if self.pull is not None and self.pull.strength > 0:
            s = self.pull.strength
            valence = clamp((1 - s) * valence + s * self.pull.valence)
            arousal = clamp((1 - s) * arousal + s * self.pull.arousal)
            why.append(
                f"pulled {s:.0%} towards ({self.pull.valence:+.2f}, {self.pull.arousal:+.2f})"
            )
        if not why:
            return reading
        probabilities = taxonomy.probabilities(valence, arousal)
        if instead is not None and self.pull is None:
            probabilities = {n: float(n == instead) for n in taxonomy.names}
        evidence = {**reading.evidence, "response": "; ".join(why)}
        return MoodEstimate(valence, arousal, probabilities, reading.confidence, evidence)


def drive_target(
    estimate: MoodEstimate, situation: str, respond: Mapping[str, DriveResponse],
    taxonomy: Taxonomy,
) -> MoodEstimate:  # fmt: skip
    """The mood to play given the driving situation (``vehicle.respond``): pulled towards the
    situation's point, then held within its arousal limits; the estimate itself when the
    situation has no response."""
    rule = respond.get(situation)
    if rule is None:
        return estimate
    valence, arousal, why = estimate.valence, estimate.arousal, []
    if rule.strength > 0:
        s = rule.strength
        valence = clamp((1 - s) * valence + s * rule.valence)
        arousal = clamp((1 - s) * arousal + s * rule.arousal)
        why.append(f"pulled {s:.0%} towards ({rule.valence:+.2f}, {rule.arousal:+.2f})")
    if rule.arousal_min is not None and arousal < rule.arousal_min:
        arousal = rule.arousal_min
        why.append(f"arousal held at {rule.arousal_min:+.2f} or more")
    if rule.arousal_max is not None and arousal > rule.arousal_max:
        arousal = rule.arousal_max
        why.append(f"arousal held at {rule.arousal_max:+.2f} or less")
    if not why:
        return estimate
    reason = f"{situation.replace('_', ' ')}: " + "; ".join(why)
    earlier = estimate.evidence.get("response")
    evidence = {**estimate.evidence, "response": f"{earlier}; {reason}" if earlier else reason}
    return MoodEstimate(valence, arousal, taxonomy.probabilities(valence, arousal),
                        estimate.confidence, evidence)  # fmt: skip
