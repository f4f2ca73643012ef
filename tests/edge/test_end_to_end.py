"""`moodcast run` as a real process on a real video, watched over a real broker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from moodcast.models.mood import load_taxonomy
from moodcast.player.library import Library
from moodcast.player.scan import scan
from tests.edge.scene_video import write_scene_change
from tests.edge.test_daemon import Listener

ROOT = Path(__file__).resolve().parents[2]
BASE = "moodcast/e2e"
MOODS = ["Sad", "Gloomy", "Melancholy", "Lonely", "Happy", "Energetic", "Cheerful", "Uplifting"]


@pytest.fixture
def scene(tmp_path: Path, make_tone, broker, vlc_available, photos: Path) -> Path:
    return write_scene(tmp_path, make_tone, broker.port, photos)


def write_scene(tmp_path: Path, make_tone, port: int, photos: Path) -> Path:
    """Music, a video whose scene turns bright and busy after 10 s, and a config using them."""
    music = tmp_path / "music"
    for i, mood in enumerate(MOODS * 2):
        make_tone(music / f"{i:02d}.ogg", seconds=3.0, freq=300 + 15 * i,
                  artist=f"artist{i}", title=f"{mood} {i}", mood=mood)  # fmt: skip
    with Library(tmp_path / "lib.db") as lib:
        scan(lib, [music], load_taxonomy("cowen13"))
    video = write_scene_change(tmp_path / "scene.avi", photos, seconds_each=10.0)
    config = tmp_path / "moodcast.yaml"
    config.write_text(
        f"""
library: {{path: {tmp_path / "lib.db"}}}
camera: {{source: {video}, loop: false}}
schedule: {{capture_interval_s: 0.5}}
smoothing: {{half_life_s: 1.0, min_dwell_s: 1.0, switch_margin: 0.1}}
reader: {{people_detection: false}}
player: {{audio_output: "file:{tmp_path / "out.wav"}", crossfade_s: 0.5, fade_s: 0.2}}
mqtt: {{port: {port}, device_id: e2e}}
state_file: {tmp_path / "state.json"}
"""
    )
    return config


def launch(config: Path) -> subprocess.Popen[str]:
    """`moodcast --config FILE run` as a real process, its log beside the config."""
    log = (config.parent / "daemon.log").open("a")
    argv = [sys.executable, "-m", "moodcast.edge.cli", "--config", str(config), "run"]
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, text=True)


def events(mq: Listener, name: str) -> list[dict]:
    with mq.lock:
        return [json.loads(p) for t, p, _ in mq.messages if t == f"{BASE}/event/{name}"]


def test_mood_follows_the_scene_and_commands_work(scene: Path, broker) -> None:
    mq = Listener(broker.port, [f"{BASE}/#"])
    proc = launch(scene)
    try:
        mq.wait(lambda: mq.last(f"{BASE}/availability") == b"online")
        mq.wait(lambda: mq.state(BASE).get("mood_source") == "camera", timeout=20)
        dim = mq.state(BASE)
        assert dim["valence"] < 0 and dim["camera"] == "ok"
        # The scene turns bright and busy after 10 s: the named mood follows, to one of the
        # lively, pleasant moods (which of them is what the reader's description is nearest).
        lively = {m.name for m in load_taxonomy("cowen13").moods if m.valence > 0 < m.arousal}
        mq.wait(lambda: any(e["mood"] in lively for e in events(mq, "mood_changed")),
                timeout=30)  # fmt: skip
        changed_at = len(events(mq, "track_started"))
        # ...and the next track follows the new mood.
        mq.wait(lambda: len(events(mq, "track_started")) > changed_at, timeout=20)
        assert load_taxonomy("cowen13").get(events(mq, "track_started")[-1]["mood"]).valence > 0
        assert mq.state(BASE)["valence"] > 0.3

        before = len(events(mq, "track_started"))
        mq.send(f"{BASE}/cmd/skip", "")
        mq.wait(lambda: len(events(mq, "track_started")) > before)

        mq.send(f"{BASE}/cmd/mood", "spooky")
        mq.wait(lambda: b"unknown mood" in (mq.last(f"{BASE}/error") or b""))
        assert mq.state(BASE)["override"] is None
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    # A hard kill: the broker delivers the retained last will.
    mq.wait(lambda: mq.last(f"{BASE}/availability") == b"offline", timeout=90)
    mq.close()


@pytest.mark.reliability
def test_broker_absent_at_start_then_restarted(scene: Path, broker) -> None:
    broker.kill()
    proc = launch(scene)
    try:
        time.sleep(3)
        assert proc.poll() is None  # no broker: still running (and playing)
        broker.start()
        mq = Listener(broker.port, [f"{BASE}/#"])
        mq.wait(lambda: mq.last(f"{BASE}/availability") == b"online", timeout=60)
        mq.wait(lambda: mq.state(BASE).get("now_playing") is not None, timeout=20)
        mq.close()
        broker.kill()  # a broker restart loses retained messages (persistence false)...
        broker.start()
        mq = Listener(broker.port, [f"{BASE}/#"])
        # ...and the daemon republishes availability and state on reconnect.
        mq.wait(lambda: mq.last(f"{BASE}/availability") == b"online", timeout=60)
        mq.wait(lambda: "volume" in mq.state(BASE), timeout=20)
        mq.send(f"{BASE}/cmd/volume", "12")
        mq.wait(lambda: mq.state(BASE).get("volume") == 12)
        mq.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0, (scene.parent / "daemon.log").read_text()


@pytest.mark.reliability
def test_missing_camera_keeps_the_music_playing(scene: Path, broker, tmp_path: Path) -> None:
    text = "\n".join(
        "camera: {source: /nonexistent/cam.avi, retry_interval_s: 1}" if line.startswith("camera")
        else line for line in scene.read_text().splitlines()
    )  # fmt: skip
    scene.write_text(text)
    mq = Listener(broker.port, [f"{BASE}/#"])
    proc = launch(scene)
    try:
        mq.wait(lambda: mq.state(BASE).get("camera") == "error", timeout=20)
        assert "does not exist" in mq.state(BASE)["camera_detail"]
        mq.wait(lambda: len(events(mq, "track_started")) >= 2, timeout=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        mq.close()
    assert proc.returncode == 0


def test_the_daemon_works_the_same_on_rabbitmqs_mqtt_plugin(
    tmp_path: Path, make_tone, vlc_available, rabbitmq, photos: Path
) -> None:
    """A fleet's clustered broker: state, commands, discovery and the last will over
    RabbitMQ's MQTT plugin (MQTT 3.1.1). RabbitMQ keeps retained messages but hands them
    only to subscriptions without wildcards: checked here the way Home Assistant and a
    dashboard subscribe (exact topics), and why discovery is resent on HA's birth message."""
    config = write_scene(tmp_path, make_tone, rabbitmq.port, photos)
    mq = Listener(rabbitmq.port, [f"{BASE}/#", "homeassistant/device/e2e/config"])
    proc = launch(config)
    try:
        mq.wait(lambda: mq.last(f"{BASE}/availability") == b"online", timeout=30)
        mq.wait(lambda: mq.state(BASE).get("mood_source") == "camera", timeout=30)
        mq.wait(lambda: mq.state(BASE).get("now_playing") is not None)
        mq.send(f"{BASE}/cmd/volume", "41")
        mq.wait(lambda: mq.state(BASE).get("volume") == 41)
        before = len(events(mq, "track_started"))
        mq.send(f"{BASE}/cmd/skip", "")
        mq.wait(lambda: len(events(mq, "track_started")) > before)
        mq.wait(lambda: mq.last("homeassistant/device/e2e/config") is not None)

        late = Listener(rabbitmq.port, [f"{BASE}/state", "homeassistant/device/e2e/config"])
        late.wait(lambda: late.state(BASE).get("volume") == 41)  # retained, to a late comer
        assert json.loads(late.last("homeassistant/device/e2e/config") or b"{}")["cmps"]
        late.close()
        resent = len([m for m in mq.messages if m[0] == "homeassistant/device/e2e/config"])
        mq.send("homeassistant/status", "online")  # Home Assistant's birth message
        mq.wait(lambda: len([m for m in mq.messages
                             if m[0] == "homeassistant/device/e2e/config"]) > resent)  # fmt: skip
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    mq.wait(lambda: mq.last(f"{BASE}/availability") == b"offline", timeout=90)  # the last will
    mq.close()
    will = Listener(rabbitmq.port, [f"{BASE}/availability"])
    will.wait(lambda: will.last(f"{BASE}/availability") == b"offline")  # and it is retained
    will.close()
