"""The caption reader: what BLIP says about a frame, read for mood, fused with the scene."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from moodcast.models.mood import MoodEstimate, Taxonomy, clamp
from moodcast.models.text.caption_mood import CaptionMood
from moodcast.models.vision.captioner import BlipCaptioner
from moodcast.models.vision.scene import SceneReader


class CaptionReader:
    """``caption_weight`` 1.0 reads the caption alone; below 1 blends in the scene reader."""

    def __init__(self, captioner: BlipCaptioner, text: CaptionMood, scene: SceneReader,
                 caption_weight: float) -> None:  # fmt: skip
        self.captioner, self.text, self.scene = captioner, text, scene
        self.weight = caption_weight
        self.taxonomy: Taxonomy = text.taxonomy

    def read(
        self, frame: NDArray[np.uint8], previous: NDArray[np.uint8] | None = None
    ) -> MoodEstimate:
        framed = self.scene.prepare(frame, previous)  # once: BLIP and the scene read the same
        caption = self.captioner(framed.frame)
        from_text = self.text.read(caption.text)
        from_scene = self.scene.read_picture(framed)
        w = (
            self.weight
            * from_text.confidence
            / max(
                self.weight * from_text.confidence + (1 - self.weight) * from_scene.confidence, 1e-6
            )
        )
        probs = {
            n: w * from_text.probabilities.get(n, 0.0) + (1 - w) * from_scene.probabilities[n]
            for n in from_scene.probabilities
        }
        evidence = {**from_scene.evidence, **from_text.evidence, "reader": "caption",
                    "caption_weight": round(w, 3),
                    "caption_ms": round(caption.encoder_ms + caption.decoder_ms, 1)}  # fmt: skip
        return MoodEstimate(
            clamp(w * from_text.valence + (1 - w) * from_scene.valence),
            clamp(w * from_text.arousal + (1 - w) * from_scene.arousal),
            probs,
            max(from_text.confidence, from_scene.confidence) if w > 0 else from_scene.confidence,
            evidence,
        )
