"""The mood space: a valence/arousal plane with named moods from a taxonomy.

Every reader (scene colours, captions, audio analysis) produces a :class:`MoodEstimate`;
tracks carry the same coordinates, so matching music to a room is a distance in one space.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from moodcast.config.errors import MoodcastError

EvidenceValue = float | int | str


@dataclass(frozen=True)
class Mood:
    """One named mood: an anchor on the valence/arousal plane and the words that mean it."""

    name: str
    valence: float
    arousal: float
    description: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class MoodEstimate:
    """A reading of mood: position, named-mood probabilities, confidence and why."""

    valence: float
    arousal: float
    probabilities: Mapping[str, float]
    confidence: float
    evidence: Mapping[str, EvidenceValue] = field(default_factory=dict)

    @property
    def mood(self) -> str:
        """The most probable named mood."""
        return max(self.probabilities, key=lambda name: self.probabilities[name])

    def to_dict(self) -> dict[str, Any]:
        caption = self.evidence.get("caption")
        return {
            "caption": caption,
            "mood": self.mood,
            "valence": round(self.valence, 4),
            "arousal": round(self.arousal, 4),
            "confidence": round(self.confidence, 4),
            "moods": {k: round(v, 4) for k, v in self.probabilities.items()},
            "evidence": dict(self.evidence),
        }


def normalize_tag(word: str) -> str:
    """Fold a mood word so that 'Pump-up', 'pump_up' and ' PUMP UP ' compare equal."""
    return re.sub(r"[\s_\-]+", " ", word.strip().lower())


def clamp(value: float, low: float = -1.0, high: float = 1.0) -> float:
    return min(high, max(low, value))


class Taxonomy:
    """Named moods of one preset, with a tag lookup; moods can be forbidden per deployment."""

    def __init__(self, name: str, moods: Iterable[Mood], temperature: float = 0.35) -> None:
        self.name = name
        self.moods: tuple[Mood, ...] = tuple(moods)
        if not self.moods:
            raise MoodcastError(f"taxonomy {name!r} has no moods", "keep at least one mood")
        self.temperature = temperature
        self._tag_to_mood: dict[str, str] = {}
        for mood in self.moods:
            for tag in (mood.name, *mood.tags):
                key = normalize_tag(tag)
                owner = self._tag_to_mood.setdefault(key, mood.name)
                if owner != mood.name:
                    raise MoodcastError(
                        f"taxonomy {name!r}: tag {tag!r} is listed under both {owner!r} "
                        f"and {mood.name!r}",
                        "give each mood word to exactly one mood",
                    )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.moods)

    def get(self, name: str) -> Mood:
        for mood in self.moods:
            if mood.name == name:
                return mood
        raise MoodcastError(
            f"unknown mood {name!r} in taxonomy {self.name!r}",
            f"use one of: {', '.join(self.names)}",
        )

    def mood_for_tag(self, tag: str) -> str | None:
        """The mood a mood word belongs to, or None when the word is not known."""
        return self._tag_to_mood.get(normalize_tag(tag))

    def without(self, forbidden: Iterable[str]) -> Taxonomy:
        """This taxonomy minus moods a deployment never wants (e.g. 'scary' in a shop)."""
        banned = set(forbidden)
        for name in banned:
            self.get(name)
        kept = [m for m in self.moods if m.name not in banned]
        if not kept:
            raise MoodcastError("every mood is forbidden", "leave at least one mood allowed")
        return Taxonomy(self.name, kept, self.temperature)

    def probabilities(self, valence: float, arousal: float) -> dict[str, float]:
        """Soft assignment of a point to the named moods (softmax of negative distance)."""
        scores = [
            -math.hypot(valence - m.valence, arousal - m.arousal) / self.temperature
            for m in self.moods
        ]
        top = max(scores)
        weights = [math.exp(s - top) for s in scores]
        total = sum(weights)
        return {m.name: w / total for m, w in zip(self.moods, weights, strict=True)}

    def probabilities_in_quadrant(self, valence: float, arousal: float) -> dict[str, float]:
        """Like :meth:`probabilities`, but only moods whose anchor lies in the point's quadrant
        can be named (all of them where the quadrant has none): a reading of pleasant and calm
        is never called *sad* because a sad anchor happens to be nearest."""
        return self.in_quadrant(self.probabilities(valence, arousal), valence, arousal)

    def in_quadrant(self, probs: Mapping[str, float], valence: float,
                    arousal: float) -> dict[str, float]:  # fmt: skip
        """``probs`` kept to the moods whose anchor lies in the point's quadrant, renormalised
        (unchanged where the quadrant has no mood, or none of its moods has any weight)."""
        side = (valence >= 0, arousal >= 0)
        inside = {m.name for m in self.moods if (m.valence >= 0, m.arousal >= 0) == side}
        kept = {n: (p if n in inside else 0.0) for n, p in probs.items()}
        total = sum(kept.values())
        return {n: p / total for n, p in kept.items()} if total > 0 else dict(probs)

    def estimate_from_tags(
        self, tags: Iterable[str], confidence: float, source: str
    ) -> MoodEstimate | None:
        """Position and probabilities from mood words; None when no word is known."""
        counts: dict[str, int] = {}
        for tag in tags:
            mood = self.mood_for_tag(tag)
            if mood is not None:
                counts[mood] = counts.get(mood, 0) + 1
        if not counts:
            return None
        total = sum(counts.values())
        valence = sum(self.get(n).valence * c for n, c in counts.items()) / total
        arousal = sum(self.get(n).arousal * c for n, c in counts.items()) / total
        smooth = self.probabilities(valence, arousal)
        probs = {n: 0.8 * counts.get(n, 0) / total + 0.2 * smooth[n] for n in self.names}
        return MoodEstimate(valence, arousal, probs, confidence, {"source": source})


def load_taxonomy(preset_or_path: str) -> Taxonomy:
    """Load a shipped preset by name (``cowen13``, ``moodsic5``) or a taxonomy YAML file."""
    from moodcast.config.files import is_there
    from moodcast.config.moods import taxonomy_file

    path = taxonomy_file(preset_or_path)
    if not is_there(path):
        raise MoodcastError(
            f"taxonomy {preset_or_path!r} not found",
            "use a preset (cowen13, moodsic5) or the path of a taxonomy YAML file",
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        moods = [
            Mood(
                name=str(m["name"]),
                valence=clamp(float(m["valence"])),
                arousal=clamp(float(m["arousal"])),
                description=str(m.get("description", "")),
                tags=tuple(str(t) for t in m.get("tags", [])),
            )
            for m in raw["moods"]
        ]
        return Taxonomy(str(raw.get("name", path.stem)), moods)
    except (yaml.YAMLError, KeyError, TypeError, ValueError, RecursionError) as exc:
        raise MoodcastError(
            f"taxonomy file {path} is malformed ({type(exc).__name__}: {exc})",
            "each mood needs name, valence, arousal and a list of tags",
        ) from exc
