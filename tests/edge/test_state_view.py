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


def test_the_main_evidence_says_a_frame_has_no_colour() -> None:
    """A camera in night vision is read by the monochrome fusion: the state says so first."""
    from moodcast.models.vision.fusion import MONO_FILE, load_fusion

    taxonomy = load_taxonomy("cowen13")
    reader = SceneReader(taxonomy, fusion=load_fusion(), mono=load_fusion(name=MONO_FILE))
    rng = np.random.default_rng(3)
    tiles = rng.integers(0, 256, (24, 32, 1), dtype=np.uint8)
    grey = np.repeat(np.kron(tiles, np.ones((10, 10, 1), np.uint8)), 3, axis=2)
    said = main_evidence(reader.read(grey))
    assert said.startswith("no colour in the frame (night vision?); ")
    colour = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    said = main_evidence(reader.read(np.kron(colour, np.ones((10, 10, 1), np.uint8))))
    assert "night vision" not in said
