"""Building the configured frame reader behind one small interface."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from edge.errors import MoodcastError
from edge.settings import MoodcastConfig
from models.mood import MoodEstimate, Taxonomy, load_taxonomy


class MoodReader(Protocol):
    """Reads one frame (and the previous one, for motion) into a mood estimate."""

    taxonomy: Taxonomy

    def read(
        self, frame: NDArray[np.uint8], previous: NDArray[np.uint8] | None = None
    ) -> MoodEstimate: ...


def active_taxonomy(config: MoodcastConfig) -> Taxonomy:
    return load_taxonomy(config.mood.taxonomy).without(config.mood.forbid)


def build_reader(config: MoodcastConfig, taxonomy: Taxonomy) -> MoodReader:
    from models.scene import PeopleCounter, SceneReader

    people = PeopleCounter() if config.reader.people_detection else None
    return SceneReader(taxonomy, people)


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
