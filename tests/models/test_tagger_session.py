from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from moodcast.config.errors import MoodcastError
from moodcast.models.audio import features as audio
from moodcast.models.audio.tagger_session import MODELS_DIR, MusicnnTagger

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "musicnn_reference.npz"


@pytest.mark.parametrize("name", ["msd_musicnn", "mtt_musicnn"])
def test_onnx_matches_the_original_tensorflow_model(name: str) -> None:
    ref = np.load(REFERENCE)
    samples = ref["audio_int16"].astype(np.float32) / 32768.0
    batch = audio.patches(audio.log_mel(audio.power_spectrogram(samples)))
    tagger = MusicnnTagger(name)
    tags, embedding = tagger.session.run(None, {tagger.input_name: batch})
    assert np.abs(tags - ref[f"{name}_tags"]).max() < 1e-4
    assert np.abs(embedding - ref[f"{name}_embedding"]).max() < 1e-3
    out = tagger(batch)
    assert len(out.tags) == 50 and out.embedding.shape == (200,)


def test_a_damaged_model_file_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "musicnn"
    shutil.copytree(MODELS_DIR, copy)
    data = bytearray((copy / "msd_musicnn.onnx").read_bytes())
    data[-100] ^= 0xFF
    (copy / "msd_musicnn.onnx").write_bytes(bytes(data))
    with pytest.raises(MoodcastError, match="does not match its manifest checksum"):
        MusicnnTagger("msd_musicnn", copy)
    (copy / "mtt_musicnn.onnx").unlink()
    with pytest.raises(MoodcastError, match="is missing"):
        MusicnnTagger("mtt_musicnn", copy)
