"""Leak probe: runs each native part the daemon uses many times faster than the daemon does.

The soak showed a small RSS creep while the Python heap (tracemalloc) stayed flat, so the
growth is native. Each probe runs in a fresh process, warms up, then repeats one operation
N times and reports resident memory before and after, with glibc's free heap returned to the
system (``malloc_trim``) at both ends so that a leak is not confused with allocator retention.

Run: .venv/bin/python scripts/leak_probe.py [--probe NAME ...] [--scale 1.0]
Needs scripts/fetch_media.sh media, mosquitto and libVLC. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moodcast.models.heap import release_freed_heap  # noqa: E402
from scripts.benchlib import proc_status, status_mb  # noqa: E402

MEDIA = ROOT / ".cache" / "media"


def rss_mb() -> float:
    return status_mb(proc_status(), "VmRSS")


def probe_vlc(n: int) -> Callable[[], None]:
    """One libVLC player, a new media every time: load, play briefly, stop (a track change)."""
    import vlc

    from moodcast.player.decks import vlc_options

    tracks = sorted((MEDIA / "music").glob("*.ogg"))
    instance = vlc.Instance(vlc_options("dummy", 0))
    player = instance.media_player_new()
    state = {"i": 0}

    def step() -> None:
        media = instance.media_new_path(str(tracks[state["i"] % len(tracks)]))
        player.set_media(media)
        media.release()
        player.play()
        time.sleep(0.15)
        player.get_time()
        player.stop()
        state["i"] += 1

    return step


def probe_video(n: int) -> Callable[[], None]:
    """The video file camera: seek to the frame due and decode it (as VideoFileSource does)."""
    import cv2

    capture = cv2.VideoCapture(str(MEDIA / "video" / "vtest.avi"))
    frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    state = {"i": 0}

    def step() -> None:
        capture.set(cv2.CAP_PROP_POS_FRAMES, (state["i"] * 7) % frames)
        capture.read()
        state["i"] += 1

    return step


def _frames(count: int) -> list[Any]:
    import cv2

    capture = cv2.VideoCapture(str(MEDIA / "video" / "vtest.avi"))
    return [capture.read()[1] for _ in range(count)]


def _scene_probe(people: bool) -> Callable[[], None]:
    from moodcast.models.mood import load_taxonomy
    from moodcast.models.vision.scene import PeopleCounter, SceneReader

    frames = _frames(40)
    reader = SceneReader(load_taxonomy("cowen13"), PeopleCounter() if people else None)
    state = {"i": 0}

    def step() -> None:
        i = state["i"]
        reader.read(frames[i % 40], frames[(i - 1) % 40])
        state["i"] += 1

    return step


def probe_scene(n: int) -> Callable[[], None]:
    """The scene reader without people detection on consecutive real video frames."""
    return _scene_probe(people=False)


def probe_reader(n: int) -> Callable[[], None]:
    """The scene reader with HOG people detection, as the daemon runs it."""
    return _scene_probe(people=True)


def probe_hog(n: int) -> Callable[[], None]:
    """OpenCV's HOG people detector as the scene reader calls it."""
    from moodcast.models.vision.scene import PeopleCounter

    frames = _frames(40)
    people = PeopleCounter()
    state = {"i": 0}

    def step() -> None:
        people.count(frames[state["i"] % 40])
        state["i"] += 1

    return step


def probe_mqtt(n: int) -> Callable[[], None]:
    """The MQTT link publishing the daemon's state message to a real broker."""
    from paho.mqtt import client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from scripts.benchlib import start_broker

    folder = Path(tempfile.mkdtemp())
    broker, port = start_broker(folder)
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    payload = json.dumps({"mood": "calm", "scores": {f"m{i}": 0.1 for i in range(13)}})

    def step() -> None:
        client.publish("moodcast/probe/state", payload, qos=1, retain=True).wait_for_publish(5)

    step.broker = broker  # type: ignore[attr-defined]
    return step


PROBES: dict[str, tuple[Callable[[int], Callable[[], None]], int]] = {
    "vlc": (probe_vlc, 600),
    "video": (probe_video, 20_000),
    "scene": (probe_scene, 20_000),
    "hog": (probe_hog, 3_000),
    "reader": (probe_reader, 3_000),
    "mqtt": (probe_mqtt, 20_000),
}


def run_one(name: str, scale: float) -> dict[str, object]:
    """In this process: warm up, then N steps; RSS after a trim at the start and every N/10."""
    build, count = PROBES[name]
    n = max(10, int(count * scale))
    step = build(n)
    for _ in range(max(5, n // 10)):
        step()
    release_freed_heap()
    series = [rss_mb()]
    start = time.perf_counter()
    for i in range(1, n + 1):
        step()
        if i % max(1, n // 10) == 0:
            release_freed_heap()
            series.append(rss_mb())
    seconds = time.perf_counter() - start
    before, after = series[0], series[-1]
    broker = getattr(step, "broker", None)
    if broker is not None:
        broker.terminate()
    return {
        "probe": name,
        "steps": n,
        "seconds": round(seconds, 1),
        "rss_mb_trimmed_every_tenth": [round(v, 1) for v in series],
        "kb_per_1000_steps": round((after - before) * 1024 / n * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--probe", action="append", choices=sorted(PROBES))
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the step counts")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.scale)))
        return
    for name in args.probe or sorted(PROBES):
        done = subprocess.run(
            [sys.executable, __file__, "--child", name, "--scale", str(args.scale)],
            capture_output=True,
            text=True,
            check=False,
        )
        print(done.stdout.strip() or f"{name}: failed\n{done.stderr[-2000:]}", flush=True)


if __name__ == "__main__":
    main()
