"""Reliability: faults injected into the real parts (marked ``reliability``; the fast part
runs in CI with the rest, `pytest -m reliability` runs it alone, scripts/soak.py is the long
soak). Figures are collected in docs/reliability.md."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion

from moodcast.config.errors import MoodcastError
from moodcast.config.settings import load_config
from moodcast.models.mood import load_taxonomy
from moodcast.player.community import import_tags
from moodcast.player.library import Library
from moodcast.player.scan import scan
from tests.conftest import Broker, require

pytestmark = pytest.mark.reliability
ROOT = Path(__file__).resolve().parents[1]
TAXONOMY = load_taxonomy("cowen13")


def test_kill_9_during_scan_never_corrupts_or_duplicates(tmp_path: Path, make_tone) -> None:
    music = tmp_path / "music"
    seed = make_tone(music / "seed.ogg", seconds=1.0, title="seed")
    for i in range(400):
        (music / f"{i:03d}.ogg").write_bytes(seed.read_bytes())
    db = tmp_path / "lib.db"
    kills = 0
    for delay in (0.3, 0.5, 0.7, 0.9, 1.1):
        proc = subprocess.Popen([sys.executable, "-m", "moodcast.edge.cli", "scan", str(music),
                                 "--library", str(db)], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(delay)
        if proc.poll() is None:
            proc.kill()
            kills += 1
        proc.wait()
        with sqlite3.connect(db) as con:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert kills >= 1
    with Library(db) as lib:
        scan(lib, [music], TAXONOMY)
        paths = [t.path for t in lib.tracks()]
    assert len(paths) == len(set(paths)) == 401


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=12), c, max_size=3),
    max_leaves=12,
)
SECTIONS = ["library", "mood", "reader", "camera", "schedule", "smoothing", "player", "mqtt"]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.dictionaries(st.sampled_from(SECTIONS) | st.text(max_size=10), yaml_values,
                            max_size=4))  # fmt: skip
def test_fuzzed_config_is_valid_or_a_clear_error(tmp_path: Path, data: dict) -> None:
    import yaml

    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(data))
    try:
        load_config(path)
    except MoodcastError as exc:
        assert str(exc).startswith(f"config file {path} is invalid") or "YAML" in str(exc)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.text(max_size=400))
def test_fuzzed_csv_never_crashes_the_importer(tmp_path: Path, body: str) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_text("artist,music_name,duration,lastfm_url,youtube_url,mood_EN,mood_KOR\n" + body)
    db = tmp_path / "fuzz.db"
    db.unlink(missing_ok=True)
    with Library(db) as lib:
        report = import_tags(lib, [path], TAXONOMY)
        assert report.imported + len(report.skipped) <= report.rows + 1
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _connect(port: int, user: str | None, password: str | None, tls_ca: Path | None) -> str:
    """'' when the broker accepted the connection, else the reason."""
    result: list[str] = []
    done = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    if user:
        client.username_pw_set(user, password)
    if tls_ca:
        client.tls_set(ca_certs=str(tls_ca), cert_reqs=ssl.CERT_REQUIRED)

    def on_connect(_c, _u, _f, rc, _p) -> None:
        result.append("" if not rc.is_failure else str(rc))
        done.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    client.loop_start()
    done.wait(5)
    client.loop_stop()
    client.disconnect()
    return result[0] if result else "no answer"


@pytest.fixture
def secure_broker():
    require(shutil.which("openssl") is not None, "openssl")
    require(shutil.which("mosquitto_passwd") is not None, "mosquitto_passwd")
    # mosquitto drops to its own user before reading these: a readable folder and files.
    folder = Path(tempfile.mkdtemp(prefix="moodcast-tls-"))
    folder.chmod(0o755)
    key, cert, passwd = folder / "key.pem", folder / "cert.pem", folder / "passwd"
    openssl = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
               "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
               "-keyout", str(key), "-out", str(cert)]  # fmt: skip
    subprocess.run(openssl, check=True, capture_output=True)
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "shop", "s3cret"], check=True)
    for f in (key, cert, passwd):
        f.chmod(0o644)
    broker = Broker(folder, f"password_file {passwd}\ncafile {cert}\ncertfile {cert}\n"
                            f"keyfile {key}\n", anonymous=False)  # fmt: skip
    broker.start()
    yield broker.port, cert
    broker.kill()
    shutil.rmtree(folder, ignore_errors=True)


def test_password_and_tls_broker_accepts_only_the_right_credentials(secure_broker) -> None:
    port, cert = secure_broker
    assert _connect(port, "shop", "s3cret", cert) == ""
    assert _connect(port, "shop", "wrong", cert) != ""
    assert _connect(port, None, None, cert) != ""


def test_daemon_runs_over_tls_with_a_password(secure_broker, tmp_path, make_tone, photos):
    port, cert = secure_broker
    db = _calm_library(tmp_path, make_tone)
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({
        "library": {"path": str(db)}, "camera": {"source": str(photos)},
        "schedule": {"capture_interval_s": 0.5}, "player": {"audio_output": "dummy"},
        "mqtt": {"port": port, "device_id": "tls", "username": "shop", "password": "s3cret",
                 "tls": True, "ca_file": str(cert)},
        "state_file": str(tmp_path / "s.json")}))  # fmt: skip
    seen: list[bytes] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.username_pw_set("shop", "s3cret")
    client.tls_set(ca_certs=str(cert))
    client.on_message = lambda _c, _u, m: seen.append(bytes(m.payload))
    client.connect("127.0.0.1", port)
    client.subscribe("moodcast/tls/state")
    client.loop_start()
    argv = [
        sys.executable,
        "-m",
        "moodcast.edge.cli",
        "--config",
        str(config),
        "run",
        "--duration",
        "6",
    ]
    proc = subprocess.Popen(argv, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    _, err = proc.communicate(timeout=60)
    client.loop_stop()
    client.disconnect()
    assert proc.returncode == 0, err
    assert seen and json.loads(seen[-1])["camera"] == "ok"
    assert "s3cret" not in err


def test_anonymous_plaintext_remote_broker_is_warned_about(tmp_path: Path, caplog) -> None:
    from moodcast.edge.daemon import _warn_if_exposed

    _warn_if_exposed(load_config(None, {"mqtt.host": "192.0.2.1"}))
    assert "anyone on the network can control playback" in caplog.text
    caplog.clear()
    _warn_if_exposed(load_config(None, {"mqtt.host": "127.0.0.1"}))
    assert caplog.text == ""


def test_no_image_data_leaves_the_process(broker, tmp_path, make_tone, photos) -> None:
    """Capture every byte published during a run: only small JSON and text, never pixels."""
    db = _calm_library(tmp_path, make_tone)
    payloads: list[tuple[str, bytes]] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.on_message = lambda _c, _u, m: payloads.append((m.topic, bytes(m.payload)))
    client.connect("127.0.0.1", broker.port)
    client.subscribe("#")
    client.loop_start()
    proc = subprocess.run([sys.executable, "-m", "moodcast.edge.cli", "run", "--library", str(db),
                           "--camera", str(photos), "--broker", f"127.0.0.1:{broker.port}",
                           "--audio-output", "dummy", "--interval", "0.5", "--duration", "5"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "HOME": str(tmp_path)})  # fmt: skip
    client.loop_stop()
    client.disconnect()
    assert proc.returncode == 0, proc.stderr
    assert len(payloads) > 3
    for topic, payload in payloads:
        assert len(payload) < 16_384, topic
        payload.decode("utf-8")  # text only
        for magic in (b"\x89PNG", b"\xff\xd8\xff", b"BM"):
            assert not payload.startswith(magic)


def test_odd_names_and_huge_tags_are_scanned_safely(tmp_path: Path, make_tone) -> None:
    import mutagen

    music = tmp_path / "music"
    odd = ["Ünïcødé – 音楽.ogg", "space and 'quotes' \"double\".ogg", "semi;colon&amp.ogg",
           "-leading-dash.ogg", "very" + "x" * 200 + ".ogg"]  # fmt: skip
    for name in odd:
        make_tone(music / name, seconds=1, title=name[:20], mood="Calm")
    huge = make_tone(music / "huge.ogg", seconds=1, title="huge")
    audio = mutagen.File(huge)
    audio["COMMENT"] = ["x" * 1_000_000]
    audio["MOOD"] = ["Calm; " * 2000]
    audio.save()
    with Library(tmp_path / "lib.db") as lib:
        report = scan(lib, [music], TAXONOMY)
        tracks = {Path(t.path).name: t for t in lib.tracks()}
    assert report.unreadable == [] and set(tracks) == {*odd, "huge.ogg"}
    assert all(t.mood is not None and t.mood.mood == "calm" for t in tracks.values())


def test_broker_killed_three_times_daemon_recovers_each_time(tmp_path, make_tone, photos):
    from tests.edge.test_daemon import Listener

    require(shutil.which("mosquitto") is not None, "mosquitto")
    db = _calm_library(tmp_path, make_tone)
    broker = Broker(tmp_path)
    broker.start()
    argv = [sys.executable, "-m", "moodcast.edge.cli", "run", "--library", str(db), "--camera",
            str(photos), "--broker", f"127.0.0.1:{broker.port}", "--device-id", "kill",
            "--audio-output", "dummy", "--interval", "0.5"]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "HOME": str(tmp_path)})  # fmt: skip
    try:
        for volume in (11, 22, 33):
            _set_volume_after_reconnect(Listener(broker.port, ["moodcast/kill/#"]), volume)
            broker.kill()  # SIGKILL: retained messages are gone with it
            time.sleep(1.0)
            assert proc.poll() is None  # the daemon plays on without a broker
            broker.start()
        mq = Listener(broker.port, ["moodcast/kill/#"])
        mq.wait(lambda: mq.state("moodcast/kill").get("volume") == 33, timeout=60)
        mq.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        broker.kill()
    assert proc.returncode == 0


def _set_volume_after_reconnect(mq, volume: int) -> None:
    mq.wait(lambda: mq.last("moodcast/kill/availability") == b"online", timeout=60)
    mq.send("moodcast/kill/cmd/volume", str(volume))
    mq.wait(lambda: mq.state("moodcast/kill").get("volume") == volume, timeout=20)
    mq.close()


def test_http_camera_stream_stopped_and_restarted_recovers_each_time() -> None:
    from moodcast.config.settings import CameraSettings
    from moodcast.edge.camera.sources import make_source
    from moodcast.edge.camera.watchdog import CameraWatchdog
    from tests.mjpeg_server import MjpegServer

    server = MjpegServer()
    server.start()
    policy = CameraSettings(stall_timeout_s=5, retry_interval_s=0.5, retry_max_s=2)
    dog = CameraWatchdog(lambda: make_source(server.url, loop=True), policy)

    def read_until(status: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dog.read(time.monotonic())
            if dog.status == status:
                return
            time.sleep(0.1)
        raise AssertionError(f"camera never {status}: {dog.status} {dog.detail}")

    try:
        for _outage in range(3):
            read_until("ok")
            server.stop()
            read_until("error")
            assert "retrying" in dog.detail
            server.start()
        read_until("ok")
        assert dog.reconnects == 3
    finally:
        dog.close()
        server.stop()


def test_daemon_with_wrong_broker_credentials_keeps_playing_and_says_why(
    secure_broker, tmp_path, make_tone, photos
) -> None:
    port, cert = secure_broker
    db = _calm_library(tmp_path, make_tone)
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({
        "library": {"path": str(db)}, "camera": {"source": str(photos)},
        "player": {"audio_output": "dummy"},
        "mqtt": {"port": port, "username": "shop", "password": "hunter2-wrong", "tls": True,
                 "ca_file": str(cert)},
        "state_file": str(tmp_path / "s.json")}))  # fmt: skip
    argv = [
        sys.executable,
        "-m",
        "moodcast.edge.cli",
        "--config",
        str(config),
        "run",
        "--duration",
        "5",
    ]
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert "playing" in out.stderr
    assert "MQTT not connected: Not authorized" in out.stderr
    assert "check mqtt.username and mqtt.password" in out.stderr  # what to fix, in words
    assert "hunter2-wrong" not in out.stderr  # the password is never logged


def _calm_library(tmp_path: Path, make_tone) -> Path:
    """A scanned library of one calm track, for runs that only need something to play."""
    music = tmp_path / "m"
    make_tone(music / "a.ogg", seconds=3, title="Calm", mood="Calm")
    db = tmp_path / "lib.db"
    with Library(db) as lib:
        scan(lib, [music], TAXONOMY)
    return db


def test_file_names_that_are_not_utf8_are_scanned_and_played(
    tmp_path: Path, make_tone, vlc_available
) -> None:
    from moodcast.edge.events import EventQueue
    from moodcast.player.decks import DeckEnded, DeckStarted, VlcDeck
    from tests.player.test_decks import wait_for

    music = tmp_path / "music"
    good = make_tone(music / "good.ogg", seconds=1, title="good", mood="Calm")
    raw_names = [b"caf\xe9 latin-1.ogg", b"\xff\xfe broken.ogg", b"half \xe2\x82.ogg"]
    for raw in raw_names:  # names as a Windows share or an old stick may hand them over
        tone = make_tone(tmp_path / "t.ogg", seconds=1, mood="Calm")
        os.rename(tone, os.path.join(os.fsencode(music), raw))
    with Library(tmp_path / "lib.db") as lib:
        report = scan(lib, [music], TAXONOMY)
        again = scan(lib, [music], TAXONOMY)
        tracks = lib.tracks(playable_only=True)
    assert report.unreadable == [] and report.seen == 4
    assert again.added_or_changed == 0 and again.unchanged == 4  # the same names read back
    names = {os.fsencode(Path(t.path).name) for t in tracks}
    assert names == {*raw_names, b"good.ogg"}
    assert good.exists()
    odd = next(t for t in tracks if os.fsencode(Path(t.path).name) == raw_names[1])
    events = EventQueue()
    deck = VlcDeck(0, f"file:{tmp_path / 'out.wav'}", events)
    try:
        deck.load_and_play(odd.path, token=5, volume=80)
        assert wait_for(events, DeckStarted) == DeckStarted(0, 5)
        assert wait_for(events, DeckEnded) == DeckEnded(0, 5)
    finally:
        deck.release()


@pytest.mark.parametrize("camera", ["silent-http", "silent-rtsp", "stalled-mjpeg", "no-device"])
def test_sigterm_ends_the_daemon_within_5_s_whatever_the_camera_does(
    tmp_path: Path, make_tone, camera: str
) -> None:
    from tests.mjpeg_server import MjpegServer, SilentServer

    make_tone(tmp_path / "music" / "a.ogg", seconds=30, mood="Calm")
    with Library(tmp_path / "lib.db") as lib:
        scan(lib, [tmp_path / "music"], TAXONOMY)
    silent, stalled = SilentServer(), MjpegServer(stall_after=5)
    stalled.start()
    source = {"silent-http": silent.url("http"), "silent-rtsp": silent.url("rtsp"),
              "stalled-mjpeg": stalled.url, "no-device": "7"}[camera]  # fmt: skip
    argv = [sys.executable, "-m", "moodcast.edge.cli", "run", "--library",
            str(tmp_path / "lib.db"), "--camera", source, "--no-mqtt", "--audio-output",
            "dummy", "--interval", "0.5"]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=ROOT, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "HOME": str(tmp_path)})  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any("moodcast running" in line for line in lines):
            assert proc.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.1)
        time.sleep(2.5)  # the camera is now hanging mid-connect or mid-read
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0, "".join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
        silent.close()
        stalled.stop()
    reader.join(timeout=5)
    assert any("stopped" in line for line in lines)


FAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")


def test_wall_clock_steps_never_stop_captures_or_playback(tmp_path, make_tone, photos, broker):
    """The daemon's wall clock (libfaketime) steps back an hour, then forward a day, as NTP
    does to a Pi that booted without a real-time clock: reading and playing go on."""
    from tests.edge.test_daemon import Listener

    lib = Path(os.environ.get("FAKETIME_LIB", FAKETIME))
    require(lib.is_file(), "libfaketime (Debian faketime)")
    db = _calm_library(tmp_path, make_tone)
    offset = tmp_path / "offset"
    offset.write_text("+0\n")
    argv = [sys.executable, "-m", "moodcast.edge.cli", "run", "--library", str(db), "--camera",
            str(photos), "--broker", f"127.0.0.1:{broker.port}", "--device-id", "clock",
            "--audio-output", "dummy", "--interval", "0.5"]  # fmt: skip
    env = {**os.environ, "HOME": str(tmp_path), "LD_PRELOAD": str(lib),
           "FAKETIME_TIMESTAMP_FILE": str(offset), "FAKETIME_NO_CACHE": "1",
           "FAKETIME_DONT_FAKE_MONOTONIC": "1"}  # fmt: skip
    mq = Listener(broker.port, ["moodcast/clock/#"])
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env)  # fmt: skip

    def readings() -> int:
        return int(mq.state("moodcast/clock").get("readings") or 0)

    def starts() -> int:
        return sum(t == "moodcast/clock/event/track_started" for t, _, _ in mq.messages)

    try:
        mq.wait(lambda: readings() >= 3, timeout=60)
        for step in ("-3600", "+86400", "-31536000"):  # back an hour, on a day, back a year
            offset.write_text(f"{step}\n")
            read_before, started_before = readings(), starts()

            def went_on(r: int = read_before, s: int = started_before) -> bool:
                return readings() >= r + 6 and starts() >= s + 1

            mq.wait(went_on, timeout=30)
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        mq.close()
    assert proc.returncode == 0
