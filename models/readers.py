"""Building the configured frame reader behind one small interface."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
from numpy.typing import NDArray

from moodcast.config.errors import MoodcastError
from moodcast.config.settings import MoodcastConfig
from moodcast.models.mood import MoodEstimate, Taxonomy, load_taxonomy

if TYPE_CHECKING:
    from moodcast.models.scene import SceneReader


class MoodReader(Protocol):
    """Reads one frame (and the previous one, for motion) into a mood estimate."""

    taxonomy: Taxonomy

    def read(
        self, frame: NDArray[np.uint8], previous: NDArray[np.uint8] | None = None
    ) -> MoodEstimate: ...


def active_taxonomy(config: MoodcastConfig) -> Taxonomy:
    """The configured taxonomy without its forbidden moods; the mood rules checked against it."""
    from moodcast.models import response

    full = load_taxonomy(config.mood.taxonomy)
    taxonomy = full.without(response.forbidden(config.mood, full))
    response.labels(config.mood, taxonomy)
    response.ResponsePolicy.from_settings(config.mood, taxonomy)
    return taxonomy


def _scene_reader(config: MoodcastConfig, taxonomy: Taxonomy) -> SceneReader:
    from moodcast.models.scene import PeopleCounter, SceneReader

    return SceneReader(taxonomy, PeopleCounter() if config.reader.people_detection else None)


def build_reader(config: MoodcastConfig, taxonomy: Taxonomy) -> MoodReader:
    """The configured reader; raises MoodcastError when caption models cannot be used."""
    scene = _scene_reader(config, taxonomy)
    return scene if config.reader.kind == "scene" else _caption_reader(config, taxonomy, scene)


def _caption_reader(config: MoodcastConfig, taxonomy: Taxonomy, scene: SceneReader) -> MoodReader:
    from moodcast.models.caption_mood import CaptionMood
    from moodcast.models.caption_reader import CaptionReader
    from moodcast.models.captioner import BlipCaptioner

    r = config.reader
    if r.models_dir is None:
        raise MoodcastError(
            f"reader.kind {r.kind!r} needs reader.models_dir",
            "run 'moodcast models export --out DIR' and set reader.models_dir (or --models DIR)",
        )
    captioner = BlipCaptioner(r.models_dir, r.precision, r.threads, r.providers, r.prompt)
    text = CaptionMood(r.models_dir, taxonomy, r.precision, r.threads, r.providers)
    weight = 1.0 if r.kind == "caption" else r.caption_weight
    return CaptionReader(captioner, text, scene, weight)


def build_reader_or_scene(config: MoodcastConfig, taxonomy: Taxonomy) -> tuple[MoodReader, str]:
    """The configured reader, or the scene reader with the reason when that is impossible."""
    scene = _scene_reader(config, taxonomy)
    if config.reader.kind == "scene":
        return scene, ""
    try:
        return _caption_reader(config, taxonomy, scene), ""
    except MoodcastError as exc:
        return scene, f"{config.reader.kind} reader unavailable ({exc}); using the scene reader"


def load_photo(path: Path) -> NDArray[np.uint8]:
    """A photo as a BGR array, or an error that says why it cannot be read."""
    import cv2

    if not path.is_file():
        raise MoodcastError(f"photo {path} does not exist", "give the path of a JPEG or PNG file")
    frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if frame is None or frame.size == 0:
        raise MoodcastError(
            f"{path} is not an image OpenCV can read", "give a JPEG, PNG, BMP, TIFF or WebP file"
        )
    return np.asarray(frame, dtype=np.uint8)
