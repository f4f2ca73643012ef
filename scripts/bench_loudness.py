"""Loudness as played: the spread of integrated loudness across tracks on the recorded output
of real libVLC decks, without and with moodcast's normalisation, on the same tracks.

Run: .venv/bin/python scripts/bench_loudness.py [--tracks 6] [--seconds 15]
Uses the demo music (.cache/media/music, scripts/fetch_media.sh): an excerpt of each
track as released, and of some made 12 dB quieter or 4 dB hotter (sox, with its limiter),
so that raw loudness spans more than 10 LU as a shop's mixed library does. The spread is
given over all tracks and over those the deck can reach (no more than +8 dB needed).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moodcast.config.settings import LoudnessSettings  # noqa: E402
from moodcast.edge.events import EventQueue  # noqa: E402
from moodcast.models.audio.loudness import measure  # noqa: E402
from moodcast.player.decks import DeckEnded, VlcDeck  # noqa: E402
from moodcast.player.gain import GAIN_RANGE_DB, track_gain_db  # noqa: E402
from moodcast.player.track import Track  # noqa: E402

MEDIA = ROOT / ".cache" / "media" / "music"
# As released; 8 dB quieter (an acoustic recording); 4 dB hotter through sox's limiter (a
# loud master); 12 and 16 dB quieter (a quiet classical or ambient recording).
VARIANTS: list[list[str]] = [[], ["gain", "-8"], ["gain", "-l", "4"], ["gain", "-12"],
                             ["gain", "-16"]]  # fmt: skip


def record(path: Path, gain: float | None, out: Path) -> float:
    events = EventQueue()
    deck = VlcDeck(0, f"file:{out}", events)
    if gain is not None:
        deck.set_gain(gain)
    deck.load_and_play(str(path), token=1, volume=100)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not isinstance(events.get(0.1), DeckEnded):
        pass
    time.sleep(0.3)
    deck.release()
    return measure(out).integrated_lufs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tracks", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=15.0, help="excerpt length")
    args = parser.parse_args()
    sources = sorted(MEDIA.glob("*.ogg"))[: args.tracks]
    settings = LoudnessSettings()
    rows = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for i, source in enumerate(sources):
            change = VARIANTS[i % len(VARIANTS)]
            excerpt = tmp / f"{i:02d}.ogg"
            subprocess.run(
                ["sox", str(source), str(excerpt), "trim", "60", str(args.seconds), *change],
                check=True,
                capture_output=True,
            )
            m = measure(excerpt)
            track = Track(
                i,
                str(excerpt),
                "",
                source.stem,
                "",
                args.seconds,
                "ok",
                "",
                None,
                loudness_lufs=m.integrated_lufs,
                true_peak_dbtp=m.true_peak_dbtp,
            )
            gain = track_gain_db(track, settings)
            raw = record(excerpt, None, tmp / f"raw{i}.wav")
            normalised = record(excerpt, gain, tmp / f"norm{i}.wav")
            label = f"{source.stem} {' '.join(change) or '(as released)'}"
            rows.append((label, m.integrated_lufs, m.true_peak_dbtp, gain, raw, normalised))
    print(
        f"| track ({args.seconds:g} s excerpt) | file LUFS | true peak dBTP | gain dB |"
        " played raw LUFS | played normalised LUFS |"
    )
    print("|---|---|---|---|---|---|")
    for label, lufs, peak, gain, raw, norm in rows:
        print(f"| {label} | {lufs:.2f} | {peak:.2f} | {gain:+.2f} | {raw:.2f} | {norm:.2f} |")
    print(f"\nall {len(rows)} tracks: {spread(rows)}")
    reach = [r for r in rows if settings.target_lufs - r[1] <= GAIN_RANGE_DB[1]]
    print(
        f"the {len(reach)} that need at most the deck's +{GAIN_RANGE_DB[1]:g} dB: {spread(reach)}"
    )


def spread(rows: list[tuple[str, float, float, float, float, float]]) -> str:
    raws, norms = [r[4] for r in rows], [r[5] for r in rows]
    return (f"spread as played raw {max(raws) - min(raws):.2f} LU, normalised"
            f" {max(norms) - min(norms):.2f} LU")  # fmt: skip


if __name__ == "__main__":
    main()
