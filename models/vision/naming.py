"""Which mood of the read quadrant names a fused reading.

Inside the quadrant the fusion read, the mood is the one whose sentences lie nearest in
meaning to what was described ("two dogs, a seashore"), less a share of each mood's mean
similarity to the descriptions of the fusion's training photographs: some moods' words lie
near almost any description, and would otherwise name most scenes (hubness). Quadrant and
position are the fusion's; only the word is chosen here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from moodcast.models.mood import MoodEstimate, Taxonomy

if TYPE_CHECKING:
    from moodcast.models.text.caption_mood import CaptionMood
    from moodcast.models.vision.fusion import SceneFusion


class QuadrantNamer:
    def __init__(self, taxonomy: Taxonomy, text: CaptionMood | None,
                 fusion: SceneFusion) -> None:  # fmt: skip
        self.taxonomy, self._text, self._fusion = taxonomy, text, fusion
        self._centre: NDArray[np.float64] | None = None  # see _mood_centre

    def estimate(self, p_pleasant: float, p_lively: float, description: str,
                 evidence: dict[str, Any]) -> MoodEstimate:  # fmt: skip
        """Position and named moods from the two odds (the caller sets the confidence): the
        mood nearest in meaning to ``description`` where the text model can say (a beach:
        calm; flowers: beautiful), else the nearest anchor."""
        if self._text is None or not description:
            valence, arousal = 2 * p_pleasant - 1, 2 * p_lively - 1
            probs = self.taxonomy.probabilities_in_quadrant(valence, arousal)
            return MoodEstimate(valence, arousal, probs, 0.0, evidence)
        from moodcast.models.text.caption_mood import reading

        similarity = self._text.vocabulary.similarity(self._text.embed(description))
        similarity = similarity - self._fusion.centring * self._mood_centre(self._text)
        told = reading(description, (p_pleasant, p_lively), similarity, self.taxonomy)
        evidence["described"] = description
        probs = self.taxonomy.in_quadrant(told.probabilities, told.valence, told.arousal)
        return replace(told, probabilities=probs, evidence=evidence)

    def _mood_centre(self, text: CaptionMood) -> NDArray[np.float64]:
        """Each mood's mean similarity to the descriptions of the fusion's training photographs
        (zeros without them), computed once, at the first reading."""
        if self._centre is None:
            described = [d for d in self._fusion.described if d]
            sims = [text.vocabulary.similarity(v) for v in text.embed.many(described)]
            self._centre = np.mean(sims, axis=0) if sims else np.zeros(len(self.taxonomy.moods))
        return self._centre
