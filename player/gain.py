"""The gain each track plays at: every track at the target loudness, never clipping.

Pure: the player asks for a track's gain when it starts it; the user's volume is apart.
"""

from __future__ import annotations

from moodcast.config.settings import LoudnessSettings
from moodcast.player.track import Track

GAIN_RANGE_DB = (-26.0, 14.0)  # what a deck can apply (equalizer preamp and make-up gain)


def track_gain_db(track: Track, settings: LoudnessSettings) -> float:
    """target - loudness, lowered so the true peak stays under the ceiling; the default
    gain for a track never measured; 0 dB when normalisation is off."""
    if not settings.enabled:
        return 0.0
    if track.loudness_lufs is None:
        return settings.default_gain_db
    gain = settings.target_lufs - track.loudness_lufs
    if track.true_peak_dbtp is not None:
        gain = min(gain, settings.max_true_peak_dbtp - track.true_peak_dbtp)
    low, high = GAIN_RANGE_DB
    return round(max(low, min(high, gain)), 2)
