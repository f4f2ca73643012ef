"""Benchmark the core on this machine: scene reader, scan throughput, track selection.

Run: .venv/bin/python scripts/bench_core.py [--out docs/benchmarks-core.md]
Figures go to stdout (and a Markdown table with --out); nothing here is a test.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moodcast.config.settings import SelectionSettings  # noqa: E402
from moodcast.models.mood import MoodEstimate, load_taxonomy  # noqa: E402
from moodcast.models.vision.scene import PeopleCounter, SceneReader  # noqa: E402
from moodcast.player.library import Library  # noqa: E402
from moodcast.player.scan import scan  # noqa: E402
from moodcast.player.selection import PlayHistory, TrackSelector  # noqa: E402
from moodcast.player.track import Track, TrackMood  # noqa: E402
from scripts.benchlib import emit, table  # noqa: E402

MEDIA = ROOT / ".cache" / "media"
ROUNDS = 7


def timed_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and 90th percentile wall time in milliseconds after one warm-up call."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.9 * (len(samples) - 1))]


def video_frames(count: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(MEDIA / "video" / "vtest.avi"))
    frames: list[np.ndarray] = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.resize(frame, (640, 480), interpolation=cv2.INTER_AREA))
    capture.release()
    return frames


def bench_scene(rows: list[tuple[str, str]]) -> None:
    taxonomy = load_taxonomy("cowen13")
    frames = video_frames(60)
    plain = SceneReader(taxonomy)
    people = PeopleCounter()
    i = iter(range(10**9))

    def read_plain() -> None:
        k = next(i) % (len(frames) - 1)
        plain.read(frames[k + 1], frames[k])

    def count_people() -> None:
        people.count(frames[next(i) % len(frames)])

    med, p90 = timed_ms(read_plain, 200)
    rows.append(
        (
            "scene reader, 640×480 frame + previous, no people detection",
            f"{med:.2f} ms (p90 {p90:.2f})",
        )
    )
    med, p90 = timed_ms(count_people, 40)
    rows.append(
        ("people detection alone (HOG, 800 px wide, scale 1.2)", f"{med:.1f} ms (p90 {p90:.1f})")
    )


def bench_scan(rows: list[tuple[str, str]]) -> None:
    if shutil.which("sox") is None:
        rows.append(("scan throughput", "skipped: sox missing"))
        return
    with tempfile.TemporaryDirectory() as tmp:
        music = Path(tmp, "music")
        music.mkdir()
        seed = music / "seed.ogg"
        subprocess.run(
            ["sox", "-n", "-r", "22050", str(seed), "synth", "3", "sine", "440"], check=True
        )
        import mutagen

        for n in range(500):
            target = music / f"{n:04d}.ogg"
            shutil.copyfile(seed, target)
            audio = mutagen.File(target)
            audio["ARTIST"], audio["TITLE"], audio["MOOD"] = f"a{n % 50}", f"t{n}", "Calm"
            audio.save()
        taxonomy = load_taxonomy("cowen13")
        files = sorted(music.glob("*.ogg"))
        plain_s: list[float] = []
        first_s: list[float] = []
        for round_ in range(ROUNDS):  # alternated: the machine's noise falls on both alike
            start = time.perf_counter()
            for path in files:  # the plain way: open each file once with mutagen, read its tags
                audio = mutagen.File(path)
                _ = (audio.info.length, audio.get("ARTIST"), audio.get("TITLE"), audio.get("MOOD"))
            plain_s.append(time.perf_counter() - start)
            with Library(Path(tmp, f"lib{round_}.db")) as lib:
                start = time.perf_counter()
                report = scan(lib, [music], taxonomy)
                first_s.append(time.perf_counter() - start)
        with Library(Path(tmp, "lib0.db")) as lib:
            start = time.perf_counter()
            scan(lib, [music], taxonomy)
            again = time.perf_counter() - start
    plain, first = statistics.median(plain_s), statistics.median(first_s)
    ratios = sorted(f / p for f, p in zip(first_s, plain_s, strict=True))
    rows.append(
        ("scan, 500 tagged Ogg files, first pass (tags only)", f"{report.seen / first:.0f} files/s")
    )
    rows.append(("rescan, 500 unchanged files", f"{report.seen / again:.0f} files/s"))
    rows.append((f"plain mutagen loop, the same 500 files (one open each, tags read; median of"
                 f" {ROUNDS} rounds alternated with the scan's)",
                 f"{len(files) / plain:.0f} files/s; the scan's first pass costs"
                 f" {first / plain:.2f}× it"
                 f" (per round {ratios[0]:.2f}–{ratios[-1]:.2f}×)"))  # fmt: skip


def bench_selection(rows: list[tuple[str, str]]) -> None:
    taxonomy = load_taxonomy("cowen13")
    rng = np.random.default_rng(0)
    tracks = []
    for n in range(100_000):
        v, a = rng.uniform(-1, 1, 2)
        probs = taxonomy.probabilities(v, a)
        mood = max(probs, key=lambda k: probs[k])
        data = TrackMood("analysed", "cowen13", mood, v, a, probs, ()) if n % 10 else None
        tracks.append(
            Track(n, f"/m/{n}.ogg", f"artist{n % 5000}", f"t{n}", "", 200.0, "ok", "", data)
        )
    policy = SelectionSettings()
    start = time.perf_counter()
    selector = TrackSelector(tracks, taxonomy, policy)
    build = time.perf_counter() - start
    history = PlayHistory(policy)
    for t in tracks[:20]:
        history.add(t)
    probs = taxonomy.probabilities(0.3, -0.2)
    estimate = MoodEstimate(0.3, -0.2, probs, 0.8)
    med, p90 = timed_ms(lambda: selector.pick(estimate, history, rng), 200)
    rows.append(
        ("selection index build, 100,000 tracks (once per rescan)", f"{build * 1000:.0f} ms")
    )
    rows.append(("one pick from 100,000 tracks", f"{med:.2f} ms (p90 {p90:.2f})"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, help="write a Markdown table here")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    bench_scene(rows)
    bench_scan(rows)
    bench_selection(rows)
    header = (
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"Python {platform.python_version()}, OpenCV {cv2.__version__}, numpy {np.__version__}"
    )
    emit(table(header, rows), args.out)


if __name__ == "__main__":
    main()
