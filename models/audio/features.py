"""Audio for the tagger: decoding excerpts, musicnn's log-mel input, and simple features.

The log-mel equals musicnn's librosa preprocessing (16 kHz mono, 512-point STFT with a
periodic Hann window, hop 256, centred with zero padding, 96 Slaney mel bands, power 2,
then log10(10000·x + 1)) but stays in float32 throughout (upstream's float16 cast overflows)
and needs only numpy, so no numba JIT start-up on a small device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

SR = 16000
N_FFT = 512
HOP = 256
N_MELS = 96
PATCH_FRAMES = 187  # 3 s

Audio = NDArray[np.float32]


class AudioError(Exception):
    """The file cannot be analysed; the message says why."""


def _hz_to_mel(hz: NDArray[np.float64]) -> NDArray[np.float64]:
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    mels = hz / f_sp
    high = hz >= min_log_hz
    mels[high] = min_log_mel + np.log(hz[high] / min_log_hz) / logstep
    return mels


def _mel_to_hz(mels: NDArray[np.float64]) -> NDArray[np.float64]:
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    hz = f_sp * mels
    high = mels >= min_log_mel
    hz[high] = min_log_hz * np.exp(logstep * (mels[high] - min_log_mel))
    return hz


@lru_cache(maxsize=1)
def mel_filterbank() -> NDArray[np.float32]:
    """Slaney-normalised triangular mel filters, as librosa.filters.mel builds them."""
    fft_freqs = np.fft.rfftfreq(N_FFT, 1.0 / SR)
    edges = _hz_to_mel(np.array([0.0, SR / 2.0]))
    mel_f = _mel_to_hz(np.linspace(edges[0], edges[1], N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_freqs)
    weights = np.zeros((N_MELS, fft_freqs.size), dtype=np.float32)
    for i in range(N_MELS):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : N_MELS + 2] - mel_f[:N_MELS]))[:, None]
    return weights


def power_spectrogram(audio: Audio) -> NDArray[np.float32]:
    """|STFT|² with shape (frames, 257)."""
    padded = np.pad(audio.astype(np.float32), N_FFT // 2)
    if padded.size < N_FFT:
        raise AudioError("audio is too short to analyse")
    n_frames = 1 + (padded.size - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(
        padded, (n_frames, N_FFT), (padded.strides[0] * HOP, padded.strides[0]), writeable=False
    )
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    spectrum = np.fft.rfft(frames * window, axis=1).astype(np.complex64)
    return (spectrum.real**2 + spectrum.imag**2).astype(np.float32)


def log_mel(power: NDArray[np.float32]) -> NDArray[np.float32]:
    """musicnn's input representation, (frames, 96), in float32."""
    mel = power @ mel_filterbank().T
    result: NDArray[np.float32] = np.log10(10000.0 * mel + 1.0).astype(np.float32)
    return result


def patches(rep: NDArray[np.float32]) -> NDArray[np.float32]:
    """Non-overlapping 3 s patches, (N, 187, 96); a short excerpt is repeat-padded to one."""
    if rep.shape[0] < PATCH_FRAMES:
        reps = math.ceil(PATCH_FRAMES / max(rep.shape[0], 1))
        rep = np.tile(rep, (reps, 1))[:PATCH_FRAMES]
    starts = range(0, rep.shape[0] - PATCH_FRAMES + 1, PATCH_FRAMES)
    batch: NDArray[np.float32] = np.stack([rep[s : s + PATCH_FRAMES] for s in starts])
    return batch.astype(np.float32)


def load_excerpts(path: Path, seconds: float = 30.0, count: int = 2) -> Audio:
    """Mono 16 kHz float32 audio of up to ``count`` excerpts from the body of the track."""
    import soxr

    from moodcast.models.audio.decode import AudioDecodeError, decode_errors, open_audio

    try:
        info = open_audio(path)
    except AudioDecodeError as exc:
        raise AudioError(f"cannot decode audio ({exc})") from exc
    total = info.frames
    if total <= 0 or info.rate <= 0:
        raise AudioError("audio has no samples")
    span = int(seconds * info.rate)
    if total <= span * count:
        starts = [0]
        span = total
    else:
        starts = [int(total * f) - span // 2 for f in np.linspace(0.3, 0.7, count)]
    parts = []
    try:
        for data in info.read_spans([(max(0, start), span) for start in starts]):
            if len(data):
                parts.append(soxr.resample(data.mean(axis=1), info.rate, SR, quality="HQ"))
    except decode_errors() as exc:
        raise AudioError(f"audio is damaged ({exc})") from exc
    if not parts:
        raise AudioError("audio has no samples")
    audio = np.concatenate(parts).astype(np.float32)
    if audio.size < SR:
        raise AudioError("audio is shorter than one second")
    if float(np.abs(audio).max()) < 1e-4:
        raise AudioError("audio is silent")
    return audio


@dataclass(frozen=True)
class AudioFeatures:
    loudness_db: float
    brightness_hz: float
    onset_rate: float
    tempo_bpm: float
    mode: float  # > 0 major-like, < 0 minor-like

    def as_dict(self) -> dict[str, float]:
        return {k: round(float(v), 4) for k, v in self.__dict__.items()}


_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def features(audio: Audio, power: NDArray[np.float32], rep: NDArray[np.float32]) -> AudioFeatures:
    """Loudness, spectral brightness, onset rate, tempo and major/minor mode, in numpy."""
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / SR)
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    energy = power.sum(axis=1) + 1e-10
    centroid = float(np.median((power @ freqs) / energy))
    flux = np.maximum(np.diff(rep, axis=0), 0).sum(axis=1)
    fps = SR / HOP
    threshold = flux.mean() + flux.std()
    peaks = (flux[1:-1] > threshold) & (flux[1:-1] >= flux[:-2]) & (flux[1:-1] > flux[2:])
    onset_rate = float(peaks.sum() / (len(flux) / fps))
    return AudioFeatures(
        loudness_db=20 * math.log10(max(rms, 1e-6)),
        brightness_hz=centroid,
        onset_rate=onset_rate,
        tempo_bpm=_tempo(flux, fps),
        mode=_mode(audio),
    )


def _tempo(flux: NDArray[np.float32], fps: float) -> float:
    envelope = flux - flux.mean()
    corr = np.correlate(envelope, envelope, mode="full")[envelope.size - 1 :]
    lags = np.arange(int(fps * 60 / 200), int(fps * 60 / 50))
    lags = lags[lags < corr.size]
    if lags.size == 0:
        return 0.0
    bpm = 60.0 * fps / lags
    prior = np.exp(-0.5 * (np.log2(bpm / 120.0) / 0.9) ** 2)  # a broad preference for ~120
    return float(bpm[np.argmax(corr[lags] * prior)])


def _mode(audio: Audio) -> float:
    """Major (> 0) or minor (< 0) feel: chroma from a fine 4096-point spectrum, correlated
    with the Krumhansl–Kessler key profiles in all twelve keys."""
    n_fft = 4096
    if audio.size < n_fft:
        return 0.0
    frames = np.lib.stride_tricks.sliding_window_view(audio, n_fft)[:: n_fft // 2]
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(n_fft), axis=1)).mean(axis=0)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / SR)
    band = (freqs >= 60) & (freqs <= 2000)
    pitch = (np.round(12 * np.log2(freqs[band] / 440.0)).astype(int) + 9) % 12  # C = 0
    chroma = np.zeros(12)
    np.add.at(chroma, pitch, spectrum[band])
    if chroma.sum() <= 0:
        return 0.0
    major = max(np.corrcoef(chroma, np.roll(_MAJOR, k))[0, 1] for k in range(12))
    minor = max(np.corrcoef(chroma, np.roll(_MINOR, k))[0, 1] for k in range(12))
    return float(major - minor)
