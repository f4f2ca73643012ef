"""Shared fixtures: real media, real audio files made with sox and tagged with mutagen."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / ".cache" / "media"
SHARED_DATA = ROOT.parent / "shared" / "data"


def require(condition: bool, what: str) -> None:
    """Skip locally when a real part is missing; in CI a missing part is a failure."""
    if condition:
        return
    message = f"{what} is missing (run scripts/setup.sh --dev)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


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
def shared_data() -> Path:
    require((SHARED_DATA / "lastfm_moods").is_dir(), "../shared/data")
    return SHARED_DATA


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
