"""Any file libVLC plays is heard: AAC and ALAC (.m4a) made by the test with FFmpeg's own
encoders, decoded for listening and loudness alike."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from moodcast.models.audio.decode import AudioDecodeError, FFmpegAudio, open_audio
from moodcast.models.audio.features import load_excerpts
from moodcast.models.audio.loudness import measure
from tests.conftest import require

RATE = 44100


def _signal(seconds: float = 8.0) -> np.ndarray:
    """Stereo: a chord at about -20 dBFS with a slow swell, so loudness is not trivial."""
    t = np.arange(int(seconds * RATE)) / RATE
    swell = 0.6 + 0.4 * np.sin(2 * np.pi * 0.25 * t)
    left = 0.1 * swell * (np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 330 * t))
    right = 0.1 * swell * (np.sin(2 * np.pi * 277 * t) + 0.5 * np.sin(2 * np.pi * 440 * t))
    return np.stack([left, right]).astype(np.float32)  # channels × frames


def encode(path: Path, codec: str, signal: np.ndarray) -> Path:
    """A real .m4a written by FFmpeg's encoder through PyAV (AAC: fltp, ALAC: s16p)."""
    import av

    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream(codec, rate=RATE, layout="stereo")
        fmt = "fltp" if codec == "aac" else "s16p"
        data = signal if fmt == "fltp" else (signal * 32767).astype(np.int16)
        size = stream.codec_context.frame_size or 4096
        for start in range(0, data.shape[1], size):
            chunk = np.ascontiguousarray(data[:, start : start + size])
            frame = av.AudioFrame.from_ndarray(chunk, format=fmt, layout="stereo")
            frame.rate, frame.pts = RATE, start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    require(importlib.util.find_spec("av") is not None, "PyAV (the tagging extra)")
    import soundfile as sf

    folder = tmp_path_factory.mktemp("m4a")
    signal = _signal()
    sf.write(folder / "reference.wav", signal.T, RATE, subtype="FLOAT")
    return {"wav": folder / "reference.wav",
            "aac": encode(folder / "aac.m4a", "aac", signal),
            "alac": encode(folder / "alac.m4a", "alac", signal)}  # fmt: skip


def test_aac_and_alac_measure_like_the_same_signal_in_wav(files: dict[str, Path]) -> None:
    reference = measure(files["wav"])
    alac, aac = measure(files["alac"]), measure(files["aac"])
    assert isinstance(open_audio(files["alac"]), FFmpegAudio)  # libsndfile cannot: FFmpeg did
    assert abs(alac.integrated_lufs - reference.integrated_lufs) < 0.05  # lossless
    assert abs(aac.integrated_lufs - reference.integrated_lufs) < 0.5  # lossy, same loudness
    assert abs(aac.true_peak_dbtp - reference.true_peak_dbtp) < 1.0


def test_aac_and_alac_are_heard_for_tagging(files: dict[str, Path]) -> None:
    reference = load_excerpts(files["wav"])
    for kind in ("aac", "alac"):
        audio = load_excerpts(files[kind])
        assert abs(len(audio) - len(reference)) < 0.05 * len(reference)
        rms, ref_rms = float(np.sqrt(np.mean(audio**2))), float(np.sqrt(np.mean(reference**2)))
        assert abs(rms - ref_rms) < 0.1 * ref_rms


def test_a_file_neither_decoder_can_open_says_so(tmp_path: Path) -> None:
    require(importlib.util.find_spec("av") is not None, "PyAV (the tagging extra)")
    bad = tmp_path / "broken.m4a"
    bad.write_bytes(b"\x00\x00\x00\x18ftypM4A " + bytes(range(256)) * 40)
    with pytest.raises(AudioDecodeError, match="neither libsndfile nor FFmpeg can decode it"):
        open_audio(bad)
    from moodcast.models.audio.loudness import LoudnessError

    with pytest.raises(LoudnessError, match="cannot decode audio"):
        measure(bad)


def test_a_drm_protected_m4a_is_refused_with_the_reason(tmp_path: Path) -> None:
    """An iTunes FairPlay file: its sample entry says 'drms' where a plain one says 'mp4a'."""
    require(importlib.util.find_spec("av") is not None, "PyAV (the tagging extra)")
    plain = encode(tmp_path / "plain.m4a", "aac", _signal(2.0))
    data = plain.read_bytes()
    assert data.count(b"mp4a") >= 1
    at = data.index(b"mdat")
    size = int.from_bytes(data[at - 4 : at], "big")  # the box's size, its header included
    body = slice(at + 4, at - 4 + size)
    scrambled = bytes(b ^ 0x5A for b in data[body])  # the frames encrypted, as FairPlay's are
    protected = tmp_path / "protected.m4p"
    protected.write_bytes((data[: body.start] + scrambled + data[body.stop :])
                          .replace(b"mp4a", b"drms"))  # fmt: skip
    with pytest.raises(AudioDecodeError, match=r"cannot decode its audio \(protected by DRM"):
        open_audio(protected).read_spans([(0, RATE)])
