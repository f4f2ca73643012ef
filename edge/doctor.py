"""``moodcast doctor``: check each part the way the daemon will use it, and say how to fix it."""

from __future__ import annotations

import math
import queue
import struct
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path

from moodcast.config.errors import MoodcastError
from moodcast.config.settings import MoodcastConfig
from moodcast.edge.camera.sources import CameraError, make_source
from moodcast.edge.events import EventQueue
from moodcast.edge.mqtt.client import build_client
from moodcast.models.readers import active_taxonomy

Check = Callable[[MoodcastConfig], str]


def check_camera(config: MoodcastConfig) -> str:
    source = make_source(config.camera.source, loop=True)
    try:
        source.open()
        deadline = time.monotonic() + 5.0
        while True:
            try:
                frame = source.read()
                break
            except CameraError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    except CameraError as exc:
        raise MoodcastError(
            f"camera {config.camera.source!r}: {exc}",
            "check camera.source (device index, file, URL, image folder) and the cable",
        ) from exc
    finally:
        source.close()
    turned = f", turned {config.camera.rotate}° clockwise" if config.camera.rotate else ""
    return f"camera {config.camera.source!r} gives {frame.shape[1]}×{frame.shape[0]} frames{turned}"


def check_library(config: MoodcastConfig) -> str:
    from moodcast.player.library import Library

    path = Path(config.library.path).expanduser()
    if not path.exists():
        raise MoodcastError(f"library {path} does not exist", "run 'moodcast scan DIR'")
    with Library(path) as library:
        tracks = library.tracks()
    playable = [t for t in tracks if t.playable]
    if not playable:
        raise MoodcastError(f"library {path} has no playable tracks", "run 'moodcast scan DIR'")
    with_mood = sum(1 for t in playable if t.mood is not None)
    active_taxonomy(config)
    return f"library {path}: {len(playable)} playable tracks, {with_mood} with mood data"


def _tone(path: Path, seconds: float = 0.5) -> None:
    rate = 22050
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        samples = (
            int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(rate * seconds))
        )
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))


def check_player(config: MoodcastConfig) -> str:
    from moodcast.player.decks import UNHEARD_FIX, DeckEnded, DeckFailed, DeckUnheard, VlcDeck

    events = EventQueue()
    deck = VlcDeck(0, config.player.audio_output, events)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tone = Path(tmp, "tone.wav")
            _tone(tone)
            deck.load_and_play(str(tone), token=1, volume=config.player.volume)
            deadline = time.monotonic() + 10.0
            while time.monotonic() < deadline:
                event = events.get(timeout=0.2)
                if isinstance(event, DeckUnheard):
                    raise MoodcastError(
                        f"{event.reason} (tried with a test tone)",
                        f"{UNHEARD_FIX}; a box without speakers: dummy or file:PATH.wav",
                    )
                if isinstance(event, DeckEnded):
                    return f"libVLC plays through audio output {config.player.audio_output!r}"
                if isinstance(event, DeckFailed):
                    break
    finally:
        deck.release()
    raise MoodcastError(
        f"libVLC could not play a test tone on {config.player.audio_output!r}",
        "check player.audio_output and that a sound device exists (or use dummy)",
    )


def check_broker(config: MoodcastConfig) -> str:
    m = config.mqtt
    if not m.enabled:
        return "MQTT is disabled (mqtt.enabled: false)"
    result: queue.Queue[str] = queue.Queue()
    client = build_client(m, f"moodcast-doctor-{m.device_id}")
    client.on_connect = lambda _c, _u, _f, rc, _p: result.put("" if not rc.is_failure else str(rc))
    try:
        client.connect(m.host, m.port, keepalive=10)
    except OSError as exc:
        raise MoodcastError(
            f"broker {m.host}:{m.port} unreachable ({exc})",
            "start mosquitto or fix mqtt.host/mqtt.port",
        ) from exc
    thread = threading.Thread(target=client.loop_forever, daemon=True)
    thread.start()
    try:
        reason = result.get(timeout=5.0)
    except queue.Empty:
        reason = "no answer within 5 s"
    finally:
        client.disconnect()
        thread.join(timeout=2.0)
    if reason:
        raise MoodcastError(
            f"broker {m.host}:{m.port} refused the connection: {reason}",
            "check mqtt.username, mqtt.password and mqtt.tls",
        )
    return f"broker {m.host}:{m.port} accepted the connection"


def check_reader(config: MoodcastConfig) -> str:
    from moodcast.models.readers import build_reader

    reader = build_reader(config, active_taxonomy(config))
    scene = getattr(reader, "scene", reader)  # the caption reader's scene part, or itself
    counter = getattr(scene, "counter_detail", "") or "unknown"
    models = getattr(scene, "models_detail", "") or "unknown"
    return (f"reader {config.reader.kind!r} ready; things in view: {counter};"
            f" cues combined by: {models}")  # fmt: skip


def check_vehicle(config: MoodcastConfig) -> str:
    """The car's sources, asked once each as the daemon would: gpsd for a report, the
    adapter for speed and RPM."""
    v = config.vehicle
    if not v.enabled:
        return "no car signals configured (vehicle.obd, vehicle.gpsd)"
    said = []
    if v.gpsd is not None:
        said.append(_ask_source(_gpsd_source(v.gpsd), "gnss", 8.0))
    if v.obd is not None:
        said.append(_ask_source(_obd_source(v.obd, v.obd_poll_s), "obd", 20.0))
    failed = [s for s in said if s.startswith("FAIL ")]
    if failed:
        raise MoodcastError("; ".join(s[5:] for s in said),
                            "see README 'In the car': adapter, gpsd, receiver")  # fmt: skip
    return "; ".join(said)


def _gpsd_source(address: str) -> Callable[[Callable[[object], None]], object]:
    from moodcast.edge.car.gnss import GpsdClient

    return lambda put: GpsdClient(address, put)


def _obd_source(port: str, poll_s: float) -> Callable[[Callable[[object], None]], object]:
    from moodcast.edge.car.obd_link import ObdPoller

    return lambda put: ObdPoller(port, poll_s, put)


def _ask_source(make: Callable[[Callable[[object], None]], object], name: str,
                within: float) -> str:  # fmt: skip
    """The first reading of a source (ok) or its last problem (FAIL) within ``within`` s."""
    from moodcast.edge.events import VehicleRead, VehicleStatus

    got: queue.Queue[object] = queue.Queue()
    source = make(got.put)
    source.start()  # type: ignore[attr-defined]
    problem, deadline = "no answer", time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            try:
                event = got.get(timeout=0.2)
            except queue.Empty:
                continue
            if isinstance(event, VehicleRead):
                r = event.reading
                speed = "no speed" if r.speed_kmh is None else f"{r.speed_kmh:.0f} km/h"
                return f"{name} ok ({speed})"
            if isinstance(event, VehicleStatus) and event.problem:
                problem = event.problem
    finally:
        source.stop()  # type: ignore[attr-defined]
    return f"FAIL {name}: {problem}"


CHECKS: dict[str, Check] = {
    "camera": check_camera,
    "library": check_library,
    "player": check_player,
    "broker": check_broker,
    "reader": check_reader,
    "vehicle": check_vehicle,
}


def run_checks(config: MoodcastConfig, warnings: list[str] | None = None) -> int:
    """Print one line per part (and the config's warnings first); the number that failed."""
    failures = 0
    for warning in warnings or []:
        print(f"WARN  config   {warning}")
    for name, check in CHECKS.items():
        try:
            print(f"ok    {name:<8} {check(config)}")
        except MoodcastError as exc:
            failures += 1
            print(f"FAIL  {name:<8} {exc}")
    print("all parts ok" if not failures else f"{failures} part(s) need attention")
    return failures
