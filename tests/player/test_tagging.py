from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import mutagen
import numpy as np
import pytest

from moodcast.models.mood import load_taxonomy
from moodcast.player.library import Library
from moodcast.player.scan import scan
from moodcast.player.tagging import tag_library

ROOT = Path(__file__).resolve().parents[2]
TAXONOMY = load_taxonomy("cowen13")


@pytest.fixture
def library(tmp_path: Path, make_tone):
    music = tmp_path / "music"
    for i, ext in enumerate(["ogg", "mp3", "flac", "wav", "ogg", "ogg"]):
        make_tone(music / f"{i}.{ext}", seconds=4.0, freq=200 + 150 * i, title=f"t{i}")
    import soundfile as sf

    sf.write(music / "silent.wav", np.zeros(16000 * 3, np.float32), 16000)
    (music / "empty.ogg").write_bytes(b"")
    lib = Library(tmp_path / "lib.db")
    scan(lib, [music], TAXONOMY)
    yield lib, music
    lib.close()


def test_tag_analyses_every_playable_track_and_reports_failures(library) -> None:
    lib, _ = library
    report = tag_library(lib, TAXONOMY, workers=2)
    assert report.analysed == 6
    assert [(Path(p).name, why) for p, why in report.failed] == [("silent.wav", "audio is silent")]
    tracks = {Path(t.path).name: t for t in lib.tracks()}
    assert all(tracks[f"{i}.{e}"].mood.source == "analysed"
               for i, e in enumerate(["ogg", "mp3", "flac", "wav", "ogg", "ogg"]))  # fmt: skip
    assert tracks["empty.ogg"].status == "unreadable"
    # Resumable: a second run has nothing left to do; --force redoes everything.
    assert tag_library(lib, TAXONOMY).analysed == 0
    assert tag_library(lib, TAXONOMY, force=True).analysed == 6


def test_a_changed_file_is_analysed_again(library, make_tone) -> None:
    lib, music = library
    tag_library(lib, TAXONOMY)
    make_tone(music / "0.ogg", seconds=5.0, freq=900, title="t0")
    scan(lib, [music], TAXONOMY)
    assert tag_library(lib, TAXONOMY).analysed == 1


def test_a_file_whose_name_is_not_utf8_is_tagged_and_measured(tmp_path: Path, make_tone) -> None:
    """libsndfile takes paths as UTF-8: a name with bytes that are not (a copy from an old
    Windows share) ended the whole 'moodcast tag' run with UnicodeEncodeError."""
    music = tmp_path / "music"
    made = make_tone(music / "plain.ogg", seconds=4.0, freq=440, title="odd name")
    odd = music / os.fsdecode(b"caf\xe9 \xff.ogg")
    made.rename(odd)
    with Library(tmp_path / "lib.db") as lib:
        scan(lib, [music], TAXONOMY)
        report = tag_library(lib, TAXONOMY)
        assert report.analysed == 1 and report.failed == [] and report.measured == 1
        assert [t.mood.source for t in lib.tracks()] == ["analysed"]


@pytest.mark.reliability
def test_a_file_damaged_after_the_scan_is_reported_not_fatal(library) -> None:
    lib, music = library
    (music / "1.mp3").write_bytes(os.urandom(5000))
    report = tag_library(lib, TAXONOMY)
    assert "1.mp3" in {Path(p).name for p, _ in report.failed}
    assert report.analysed == 5


def test_write_tags_puts_the_mood_into_the_files(library) -> None:
    lib, music = library
    (music / "5.ogg").chmod(0o444)
    before = (music / "5.ogg").read_bytes()
    report = tag_library(lib, TAXONOMY, write_tags=True)
    assert report.written == 5
    assert [Path(p).name for p, _ in report.write_failed] == ["5.ogg"]
    assert (music / "5.ogg").read_bytes() == before
    moods = {t.path: t.mood.mood for t in lib.tracks() if t.mood}
    assert mutagen.File(music / "0.ogg")["MOOD"] == [moods[str(music / "0.ogg")]]
    assert str(mutagen.File(music / "1.mp3")["TMOO"]) == moods[str(music / "1.mp3")]
    assert mutagen.File(music / "2.flac").info.length == pytest.approx(4.0, abs=0.1)
    # moodcast restamps what it wrote: the next scan and tag runs see nothing changed.
    assert scan(lib, [music], TAXONOMY).added_or_changed == 0
    assert tag_library(lib, TAXONOMY).analysed == 0


@pytest.mark.reliability
def test_kill_9_during_tag_leaves_a_consistent_resumable_library(tmp_path, make_tone) -> None:
    music = tmp_path / "music"
    for i in range(24):
        make_tone(music / f"{i:02d}.ogg", seconds=6.0, freq=150 + 40 * i, title=f"t{i}")
    db = tmp_path / "lib.db"
    with Library(db) as lib:
        scan(lib, [music], TAXONOMY)
    for _round in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-m", "moodcast.edge.cli", "tag", "--library", str(db)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        start = _analysed(db)
        while _analysed(db) <= start and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        proc.kill()
        proc.wait()
        with sqlite3.connect(db) as con:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Library(db) as lib:
        tag_library(lib, TAXONOMY)
        assert lib.count() == 24
        assert _analysed(db) == 24
        assert all(t.mood is not None and t.mood.source == "analysed" for t in lib.tracks())


def _analysed(db: Path) -> int:
    with sqlite3.connect(db) as con:
        try:
            return int(con.execute("SELECT COUNT(*) FROM analyses").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def test_battle_themes_rank_above_calm_pieces_in_arousal(wesnoth: Path, tmp_path: Path) -> None:
    energetic = {"battle", "battle-epic", "frantic", "casualties_of_war"}
    with Library(tmp_path / "lib.db") as lib:
        scan(lib, [wesnoth], TAXONOMY)
        tag_library(lib, TAXONOMY, workers=2)
        arousal = {Path(t.path).stem: t.mood.arousal for t in lib.tracks()}
    ranked = sorted(arousal, key=lambda k: -arousal[k])
    mean_energetic = np.mean([arousal[k] for k in energetic])
    mean_calm = np.mean([v for k, v in arousal.items() if k not in energetic])
    assert mean_energetic - mean_calm > 0.5
    assert set(ranked[:3]) <= energetic
    assert set(ranked[-3:]).isdisjoint(energetic)


def test_aac_and_alac_files_are_tagged_by_listening_and_measured(tmp_path: Path) -> None:
    """Before: .m4a was scanned and played but never heard (libsndfile has no MP4 decoder):
    no mood from the audio, the default gain. Now FFmpeg decodes it for both."""
    import importlib.util

    from tests.conftest import require
    from tests.models.test_decode import _signal, encode

    require(importlib.util.find_spec("av") is not None, "PyAV (the tagging extra)")
    music = tmp_path / "music"
    music.mkdir()
    encode(music / "aac.m4a", "aac", _signal())
    encode(music / "alac.m4a", "alac", _signal())
    with Library(tmp_path / "lib.db") as lib:
        scan(lib, [music], TAXONOMY)
        report = tag_library(lib, TAXONOMY)
        tracks = {Path(t.path).name: t for t in lib.tracks()}
    assert report.analysed == 2 and not report.failed and report.measured == 2
    for name in ("aac.m4a", "alac.m4a"):
        track = tracks[name]
        assert track.mood is not None and track.mood.source == "analysed"
        assert track.loudness_lufs is not None and -30 < track.loudness_lufs < -10
