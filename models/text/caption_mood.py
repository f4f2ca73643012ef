"""Caption → mood on the device: a sentence embedding, read into valence and arousal.

The text model ships with moodcast (``models/text/``: int8 all-MiniLM-L6-v2, its tokenizer and
the trained valence/arousal model, checked by their manifest), so any text the device has — a
BLIP caption, or words for what a detector saw — reads into mood with no export step. A
folder written by ``moodcast models export`` brings its own.

Named moods follow the position: each mood's weight is its closeness to the reading times the
probability of the quadrant its anchor lies in, so the most probable mood sits in the reading's
quadrant. A head trained on a user's own labelled captions (``head.<taxonomy>.npz``,
scripts/train_caption_head.py) replaces the named-mood probabilities when present.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from moodcast.config.errors import MoodcastError
from moodcast.models.mood import Mood, MoodEstimate, Taxonomy
from moodcast.models.onnx_runtime import Manifest
from moodcast.models.text.caption_labels import QUADRANTS, quadrant_of
from moodcast.models.text.caption_va import QuadrantModel
from moodcast.models.text.embedder import TextEmbedder, text_manifest

logger = logging.getLogger(__name__)

SHIPPED_TEXT_MODEL = Path(__file__).parent
_WORD = re.compile(r"[^\W\d_]{2,}")
_WITHIN_T = 0.02  # sharpness of the pick within a quadrant (docs/caption-mood.md)


def text_model_dir(models_dir: Path | None) -> Path:
    """The folder to read the text model from: an export's own when it has one with a
    valence/arousal model, else the one shipped with moodcast."""
    if models_dir is not None:
        path = Path(models_dir).expanduser() / "text_manifest.json"
        if path.is_file():
            try:
                if Manifest(path, "caption-mood", "").get("va_models"):
                    return path.parent
            except MoodcastError:
                pass
            logger.info("%s predates the valence/arousal model; using the built-in one", path)
    return SHIPPED_TEXT_MODEL


def quadrant_probabilities(p_pleasant: float, p_lively: float) -> dict[str, float]:
    pv, pa = p_pleasant, p_lively
    return dict(zip(QUADRANTS, (pv * pa, pv * (1 - pa), (1 - pv) * pa, (1 - pv) * (1 - pa)),
                    strict=True))  # fmt: skip


def mood_sentences(mood: Mood) -> list[str]:
    """Sentences that say the mood, from its description and mood words (any taxonomy)."""
    words = [mood.name, *mood.tags[:6]]
    return [f"a scene that feels {mood.description}", *(f"a {w} atmosphere" for w in words),
            f"people feeling {mood.name}"]  # fmt: skip


class MoodVocabulary:
    """The taxonomy's moods as sentence embeddings: which mood of a quadrant a caption is
    nearest in meaning (embedded once, when the reader is built: ~0.3 s for 13 moods)."""

    def __init__(self, taxonomy: Taxonomy, embed: TextEmbedder) -> None:
        self.vectors = [embed.many(mood_sentences(m)) for m in taxonomy.moods]

    def similarity(self, vector: NDArray[np.float32]) -> NDArray[np.float64]:
        return np.array([float((v @ vector).max()) for v in self.vectors])


def named_moods(
    taxonomy: Taxonomy, quadrants: Mapping[str, float], similarity: NDArray[np.float64]
) -> dict[str, float]:
    """P(mood) = P(its anchor's quadrant) × P(mood | quadrant), the latter from how near the
    caption is in meaning to each of that quadrant's moods. The quadrant comes from the
    trained model, which reads scenes well; the sentences only tell moods of one quadrant
    apart (a party: energizing; friends laughing: amusing), which they do well."""
    homes = [quadrant_of(m.valence, m.arousal) for m in taxonomy.moods]
    weights = np.zeros(len(homes))
    for quadrant in set(homes):
        members = [i for i, home in enumerate(homes) if home == quadrant]
        near = np.exp((similarity[members] - similarity[members].max()) / _WITHIN_T)
        weights[members] = quadrants[quadrant] * near / near.sum()
    weights /= weights.sum() or 1.0
    return {m.name: float(w) for m, w in zip(taxonomy.moods, weights, strict=True)}


class CaptionMood:
    """Reads a caption into a :class:`MoodEstimate` for the active taxonomy."""

    def __init__(
        self,
        models_dir: Path | None,
        taxonomy: Taxonomy,
        precision: str = "int8",
        threads: int = 1,
        providers: Sequence[str] = ("CPUExecutionProvider",),
        use_head: bool = True,
    ) -> None:
        self.dir = text_model_dir(models_dir)
        manifest = text_manifest(self.dir)
        self.embed = TextEmbedder(manifest, precision, threads, providers)
        va = manifest.get("va_models") or {}
        if self.embed.precision not in va:
            raise MoodcastError(
                f"the text model in {self.dir} has no valence/arousal model for "
                f"{self.embed.precision} embeddings", "export the models again")  # fmt: skip
        self.va = QuadrantModel.load(manifest.file(va[self.embed.precision]))
        self.taxonomy = taxonomy
        self.vocabulary = MoodVocabulary(taxonomy, self.embed)
        self.head = self._load_head(models_dir, taxonomy) if use_head else None

    @staticmethod
    def _load_head(
        models_dir: Path | None, taxonomy: Taxonomy
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """A head trained by scripts/train_caption_head.py, when there is one for this taxonomy."""
        if models_dir is None:
            return None
        path = Path(models_dir).expanduser() / f"head.{taxonomy.name}.npz"
        if not path.is_file():
            return None
        data = np.load(path)
        if tuple(str(m) for m in data["moods"]) != taxonomy.names:
            raise MoodcastError(f"{path} was trained for other moods than {taxonomy.name!r}",
                                "train the head again for this taxonomy")  # fmt: skip
        return data["weights"], data["bias"]

    def read(self, caption: str) -> MoodEstimate:
        if not has_words(caption):
            return no_reading(caption, self.taxonomy)
        vector = self.embed(caption)
        odds = self.va.probabilities(vector)[0]
        estimate = reading(caption, odds, self.vocabulary.similarity(vector), self.taxonomy)
        if self.head is None:
            return estimate
        from moodcast.models.text.caption_head import softmax

        weights = softmax(vector @ self.head[0] + self.head[1])
        probs = dict(zip(self.taxonomy.names, (weights / weights.sum()).tolist(), strict=True))
        return replace(estimate, probabilities=probs)


def has_words(text: str) -> bool:
    """Whether a text holds a word to read (two letters or more in any script)."""
    return _WORD.search(text) is not None


def no_reading(caption: str, taxonomy: Taxonomy) -> MoodEstimate:
    """What a text with no words reads as: nothing, with no confidence."""
    evidence = {"caption": caption, "caption_reading": "no words to read"}
    return MoodEstimate(0.0, 0.0, taxonomy.probabilities(0.0, 0.0), 0.0, evidence)


def reading(
    caption: str, odds: Sequence[float], similarity: NDArray[np.float64], taxonomy: Taxonomy
) -> MoodEstimate:
    """The estimate for P(pleasant), P(lively) = ``odds``: named moods (:func:`named_moods`),
    the confidence (how far the likeliest quadrant is above a guess) and the position: on each
    axis the side the odds favour, as far out as the likeliest quadrant's moods sit (their
    anchors, weighted) times how sure the odds are, so a calm reading lands near *calm* and a
    doubtful one near the middle, never across a side it does not favour."""
    p_pleasant, p_lively = float(odds[0]), float(odds[1])
    quadrants = quadrant_probabilities(p_pleasant, p_lively)
    probs = named_moods(taxonomy, quadrants, similarity)
    top = max(quadrants, key=lambda q: quadrants[q])
    members = [m for m in taxonomy.moods if quadrant_of(m.valence, m.arousal) == top] or list(
        taxonomy.moods
    )
    share = sum(probs[m.name] for m in members) or 1.0
    reach_v = abs(sum(probs[m.name] * m.valence for m in members) / share)
    reach_a = abs(sum(probs[m.name] * m.arousal for m in members) / share)
    valence, arousal = (2 * p_pleasant - 1) * reach_v, (2 * p_lively - 1) * reach_a
    confidence = (quadrants[top] - 0.25) / 0.75
    evidence: dict[str, float | int | str] = {
        "caption": caption,
        "caption_quadrant": top,
        "caption_pleasant": round(p_pleasant, 3),
        "caption_lively": round(p_lively, 3),
    }
    return MoodEstimate(valence, arousal, probs, confidence, evidence)
