"""Integrated loudness (ITU-R BS.1770-4 / EBU R128) and true peak, read a block at a time.

A whole decoded track at 44.1 kHz stereo is ~100 MB of float32; the tagging worker stays
under 300 MB (docs/tagging.md), so the file is decoded in 1 s blocks: K-weighting filters
carry their state from block to block, 100 ms mean squares are kept (a few kB a minute),
and the gated 400 ms blocks are formed from them at the end. True peak: each block
oversampled 4× (soxr), as BS.1770 annex 2 describes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ABSOLUTE_GATE = -70.0  # LUFS
RELATIVE_GATE = -10.0  # LU below the ungated mean
MIN_SECONDS = 0.4  # one gating block


SILENT = "silent (no block above -70 LUFS)"


class LoudnessError(Exception):
    """Loudness cannot be measured for this file; the message says why."""


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    true_peak_dbtp: float


def k_weighting(rate: float) -> NDArray[np.float64]:
    """The two BS.1770 K-weighting biquads for ``rate`` as second-order sections (the
    48 kHz coefficients of the standard, derived for any rate as libebur128 does)."""
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh = 10 ** (gain_db / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0,
             1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]  # fmt: skip
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return np.array([shelf, highpass], dtype=np.float64)


def _channel_weights(channels: int) -> NDArray[np.float64]:
    if channels == 6:  # 5.1: L R C LFE Ls Rs; the LFE is left out, surrounds weigh +1.5 dB
        return np.array([1.0, 1.0, 1.0, 0.0, 1.41, 1.41])
    return np.ones(channels)


def integrated(quarters: NDArray[np.float64], weights: NDArray[np.float64]) -> float:
    """Gated loudness from 100 ms mean squares (rows: time, columns: channels)."""
    if len(quarters) < 4:
        raise LoudnessError(f"shorter than one {MIN_SECONDS:.1f} s gating block")
    windows = np.lib.stride_tricks.sliding_window_view(quarters, 4, axis=0).mean(axis=-1)
    power = windows @ weights
    with np.errstate(divide="ignore"):
        blocks = -0.691 + 10 * np.log10(power)
    above = power[blocks > ABSOLUTE_GATE]
    if above.size == 0:
        raise LoudnessError(SILENT)
    relative = -0.691 + 10 * math.log10(float(above.mean())) + RELATIVE_GATE
    kept = power[(blocks > ABSOLUTE_GATE) & (blocks > relative)]
    return -0.691 + 10 * math.log10(float(kept.mean()))


def measure(path: Path, block_s: float = 1.0) -> Loudness:
    """Integrated loudness and true peak of a whole file; :class:`LoudnessError` if none."""
    import soxr
    from scipy.signal import sosfilt

    from moodcast.models.audio.decode import (
        AudioDecodeError,
        SoundFileAudio,
        decode_errors,
        open_audio,
    )

    try:
        info = open_audio(path)
    except AudioDecodeError as exc:
        raise LoudnessError(f"cannot decode audio ({exc})") from exc
    rate, channels = info.rate, info.channels
    if rate <= 0 or channels <= 0 or (info.frames <= 0 and isinstance(info, SoundFileAudio)):
        raise LoudnessError("audio has no samples")
    sos = k_weighting(rate)
    state = np.zeros((len(sos), 2, channels))
    quarter = round(rate * 0.1)
    squares: list[NDArray[np.float64]] = []
    carry = np.zeros((0, channels))
    peak = 0.0
    # One resampler for the whole file: per block, each edge was taken as the signal's end and
    # its ringing read as a peak (+0.19 dBTP for a true -0.92) or a peak across it was missed.
    oversampler = soxr.ResampleStream(rate, rate * 4, channels, dtype="float32", quality="HQ")
    try:
        for block in info.blocks(int(rate * block_s)):
            weighted, state = sosfilt(sos, block.astype(np.float64), axis=0, zi=state)
            carry = np.concatenate([carry, weighted])
            whole = len(carry) // quarter * quarter
            if whole:
                squares.append((carry[:whole] ** 2).reshape(-1, quarter, channels).mean(axis=1))
                carry = carry[whole:]
            up = oversampler.resample_chunk(np.ascontiguousarray(block, dtype=np.float32))
            peak = max(peak, float(np.abs(up).max(initial=0.0)), float(np.abs(block).max()))
        tail = oversampler.resample_chunk(np.zeros((0, channels), np.float32), last=True)
        peak = max(peak, float(np.abs(tail).max(initial=0.0)))
    except decode_errors() as exc:
        raise LoudnessError(f"audio is damaged ({exc})") from exc
    if not squares:
        raise LoudnessError(f"shorter than one {MIN_SECONDS:.1f} s gating block")
    lufs = integrated(np.concatenate(squares), _channel_weights(channels))
    return Loudness(round(lufs, 2), round(20 * math.log10(max(peak, 1e-9)), 2))


def from_replaygain(gain: str, peak: str | None) -> Loudness | None:
    """A track's loudness from ReplayGain 2.0 tags (reference -18 LUFS): '-7.03 dB'."""
    try:
        value = float(gain.lower().replace("db", "").strip())
        linear = float(peak) if peak else None
    except ValueError:
        return None
    if not math.isfinite(value) or abs(value) > 60:
        return None
    true_peak = 20 * math.log10(linear) if linear and linear > 0 else 0.0
    return Loudness(round(-18.0 - value, 2), round(true_peak, 2))
