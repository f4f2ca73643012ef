"""What the state names as a reading's main evidence."""

from __future__ import annotations

import numpy as np

from moodcast.edge.status.state_view import main_evidence
from moodcast.models.mood import load_taxonomy
from moodcast.models.vision.scene import SceneReader


def test_the_main_evidence_says_when_the_frame_says_little() -> None:
    """A black or noisy frame (a covered lens, a broken stream) is named as such, not as a
    list of cues; a photograph's reading is not."""
    reader = SceneReader(load_taxonomy("cowen13"))
    rng = np.random.default_rng(1)
    black = reader.read(np.zeros((240, 320, 3), np.uint8))
    noise = reader.read(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8))
    assert main_evidence(black) == "the frame says little: black, flat or washed out"
    assert main_evidence(noise).endswith("no picture in it (noise or a broken stream)")
    tiles = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    blotches = np.kron(tiles, np.ones((10, 10, 1), np.uint8))  # coloured squares: a picture
    assert main_evidence(reader.read(blotches)).startswith("brightness ")
