from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from moodcast.models.audio import features as audio

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "musicnn_reference.npz"
SR = audio.SR


def clip() -> np.ndarray:
    ref = np.load(REFERENCE)
    return np.asarray(ref["audio_int16"], dtype=np.float32) / 32768.0


def test_log_mel_equals_librosa_in_float32() -> None:
    # The reference was computed by librosa.feature.melspectrogram (musicnn's own call) in
    # float32 by scripts/convert_musicnn.py.
    expected = np.load(REFERENCE)["logmel"]
    got = audio.log_mel(audio.power_spectrogram(clip()))
    assert got.dtype == np.float32 and got.shape == expected.shape
    assert np.abs(got - expected).max() < 1e-4


def test_patches_are_3_seconds_and_short_audio_is_padded() -> None:
    rep = audio.log_mel(audio.power_spectrogram(clip()))
    assert audio.patches(rep).shape == (rep.shape[0] // 187, 187, 96)
    assert audio.patches(rep[:50]).shape == (1, 187, 96)


def tone(freqs: list[float], seconds: float = 4.0, amp: float = 0.2) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amp * sum(np.sin(2 * np.pi * f * t) for f in freqs)).astype(np.float32)


def feats(signal: np.ndarray) -> audio.AudioFeatures:
    power = audio.power_spectrogram(signal)
    return audio.features(signal, power, audio.log_mel(power))


def clicks(bpm: float, seconds: float = 8.0) -> np.ndarray:
    signal = np.zeros(int(seconds * SR), np.float32)
    rng = np.random.default_rng(0)
    for beat in np.arange(0, seconds, 60.0 / bpm):
        start = int(beat * SR)
        burst = rng.standard_normal(400).astype(np.float32) * np.exp(-np.arange(400) / 60)
        signal[start : start + 400] += 0.5 * burst[: signal.size - start]
    return signal


@pytest.mark.parametrize("bpm", [90.0, 120.0, 150.0])
def test_tempo_of_a_click_track(bpm: float) -> None:
    assert feats(clicks(bpm)).tempo_bpm == pytest.approx(bpm, rel=0.05)


def test_louder_is_louder_and_brighter_is_brighter() -> None:
    quiet, loud = feats(tone([220], amp=0.02)), feats(tone([220], amp=0.4))
    assert loud.loudness_db - quiet.loudness_db == pytest.approx(26, abs=1)
    assert feats(tone([2000])).brightness_hz > feats(tone([200])).brightness_hz


def test_major_and_minor_chords() -> None:
    c_major = tone([261.63, 329.63, 392.0, 523.25])
    c_minor = tone([261.63, 311.13, 392.0, 523.25])
    assert feats(c_major).mode > 0 > feats(c_minor).mode


def test_undecodable_silent_and_short_files_are_refused(tmp_path: Path, make_tone) -> None:
    junk = tmp_path / "junk.ogg"
    junk.write_bytes(b"\x00" * 1000)
    with pytest.raises(audio.AudioError, match="cannot decode"):
        audio.load_excerpts(junk)
    silent = tmp_path / "silent.wav"
    import soundfile as sf

    sf.write(silent, np.zeros(SR * 3, np.float32), SR)
    with pytest.raises(audio.AudioError, match="silent"):
        audio.load_excerpts(silent)
    short = make_tone(tmp_path / "short.ogg", seconds=0.3)
    with pytest.raises(audio.AudioError, match="shorter than one second"):
        audio.load_excerpts(short)
