from __future__ import annotations

import os
from pathlib import Path

import pytest

from moodcast.config.errors import MoodcastError
from moodcast.models.mood import load_taxonomy
from moodcast.player.library import Library
from moodcast.player.scan import scan

TAXONOMY = load_taxonomy("cowen13")


@pytest.fixture
def music(tmp_path: Path, make_tone) -> Path:
    root = tmp_path / "music"
    make_tone(root / "a.mp3", artist="Ann", title="Sunny", mood="Happy; Bright")
    make_tone(root / "b.ogg", artist="Bob", title="Rain", mood="Sad")
    make_tone(root / "sub" / "c.flac", artist="Cy", title="Still", mood="Calm")
    make_tone(root / "sub" / "d.wav", title="Untagged")
    make_tone(root / "e.ogg", artist="Eve", title="Riff", genre="Heavy Metal")
    (root / "notes.txt").write_text("not music")
    return root


def by_title(lib: Library) -> dict[str, dict]:
    return {t.title: t.to_dict() for t in lib.tracks()}


def test_scan_reads_tags_moods_and_durations(music: Path) -> None:
    with Library(":memory:") as lib:
        report = scan(lib, [music], TAXONOMY)
        tracks = by_title(lib)
    assert report.seen == 5 and report.unreadable == []
    assert tracks["Sunny"]["mood"] == "joyful" and tracks["Sunny"]["source"] == "file"
    assert tracks["Rain"]["mood"] == "sad"
    assert tracks["Still"]["mood"] == "calm"
    assert tracks["Untagged"]["source"] == "none" and tracks["Untagged"]["valence"] is None
    assert tracks["Riff"]["source"] == "genre" and tracks["Riff"]["mood"] == "defiant"
    assert tracks["Sunny"]["duration"] == pytest.approx(1.0, abs=0.1)


def test_rescan_is_incremental_and_drops_removed_files(music: Path, make_tone) -> None:
    with Library(":memory:") as lib:
        scan(lib, [music], TAXONOMY)
        again = scan(lib, [music], TAXONOMY)
        assert (again.unchanged, again.added_or_changed) == (5, 0)
        (music / "b.ogg").unlink()
        make_tone(music / "a.mp3", artist="Ann", title="Sunny", mood="Gloomy", seconds=1.5)
        os.utime(music / "a.mp3", (1, 1))
        third = scan(lib, [music], TAXONOMY)
        assert (third.removed, third.added_or_changed) == (1, 1)
        assert "Rain" not in by_title(lib)
        assert by_title(lib)["Sunny"]["mood"] == "sad"


def test_corrupt_files_are_flagged_and_skipped(music: Path) -> None:
    (music / "broken.mp3").write_bytes(os.urandom(4096))
    (music / "empty.ogg").write_bytes(b"")
    with Library(":memory:") as lib:
        report = scan(lib, [music], TAXONOMY)
        flagged = {Path(t.path).name: t for t in lib.tracks() if t.status != "ok"}
        playable = lib.tracks(playable_only=True)
    assert {Path(p).name for p, _ in report.unreadable} == {"broken.mp3", "empty.ogg"}
    assert set(flagged) == {"broken.mp3", "empty.ogg"}
    assert all(t.error for t in flagged.values())
    assert len(playable) == 5


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: p / "missing", "does not exist"),
        (lambda p: (p / "file.txt").write_text("x") and p / "file.txt", "is not a folder"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "no audio files found"),
    ],
)
def test_bad_folders_are_clear_errors_and_keep_the_library(tmp_path, music, setup, message):
    with Library(":memory:") as lib:
        scan(lib, [music], TAXONOMY)
        with pytest.raises(MoodcastError, match=message):
            scan(lib, [setup(tmp_path)], TAXONOMY)
        assert lib.count() == 5


def test_real_music_from_a_debian_package(real_music: Path, tmp_path: Path) -> None:
    with Library(tmp_path / "lib.db") as lib:
        report = scan(lib, [real_music], TAXONOMY)
        tracks = lib.tracks()
    assert report.seen == 16 and report.unreadable == []
    assert all(t.artist == "Maxstack" and t.duration and t.duration > 30 for t in tracks)


def test_links_are_followed_without_loops_or_doubles(tmp_path: Path, make_tone) -> None:
    from moodcast.player.scan import audio_files

    music = tmp_path / "music"
    make_tone(music / "a" / "one.ogg", seconds=1, artist="x", title="one", mood="Calm")
    (music / "a" / "loop").symlink_to(music)  # a link back up: an endless walk if followed
    (music / "again").symlink_to(music / "a")  # the same folder twice
    (music / "a" / "same.ogg").symlink_to(music / "a" / "one.ogg")  # the same file twice
    found = list(audio_files(music))
    assert len(found) == 1 and found[0].name in {"one.ogg", "same.ogg"}


def test_the_scan_opens_each_file_once(music: Path, monkeypatch) -> None:
    """Before, each file was opened twice by mutagen (2,000 calls for 1,000 files)."""
    import mutagen

    opened: list[str] = []
    real = mutagen.File

    def counting(path, *args, **kwargs):
        opened.append(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(mutagen, "File", counting)
    with Library(":memory:") as lib:
        report = scan(lib, [music], load_taxonomy("cowen13"))
        assert report.seen == len(opened) and len(set(opened)) == len(opened)
        tracks = {t.title: t for t in lib.tracks()}
    assert set(tracks) == {"Sunny", "Rain", "Still", "Untagged", "Riff"}  # tags read in one open
    assert tracks["Sunny"].artist == "Ann" and tracks["Riff"].genre == "Heavy Metal"
    assert tracks["Sunny"].mood is not None and tracks["Sunny"].mood.source == "file"


def test_a_file_whose_name_lies_is_still_read(tmp_path: Path, make_tone) -> None:
    """Files are read by the formats their names say first; an MP3 called .ogg, a FLAC called
    .mp3 and an Ogg Vorbis file called .opus are read by mutagen's full guess instead."""
    made = tmp_path / "made"
    make_tone(made / "x.mp3", artist="Ann", title="Really MP3", mood="Happy")
    make_tone(made / "y.flac", artist="Bob", title="Really FLAC", mood="Sad")
    make_tone(made / "z.ogg", artist="Cy", title="Really Vorbis", mood="Calm")
    music = tmp_path / "music"
    music.mkdir()
    for source, lie in (("x.mp3", "x.ogg"), ("y.flac", "y.mp3"), ("z.ogg", "z.opus")):
        (made / source).rename(music / lie)
    with Library(":memory:") as lib:
        report = scan(lib, [music], TAXONOMY)
        tracks = by_title(lib)
    assert report.unreadable == []
    assert tracks["Really MP3"]["mood"] == "joyful" and tracks["Really MP3"]["duration"] > 0
    assert tracks["Really FLAC"]["mood"] == "sad" and tracks["Really Vorbis"]["mood"] == "calm"


def test_a_rescan_drops_a_mood_tag_that_was_removed(music: Path) -> None:
    """Moods of a changed file are replaced: a tag removed from the file leaves no mood."""
    import mutagen

    with Library(":memory:") as lib:
        scan(lib, [music], TAXONOMY)
        audio = mutagen.File(music / "b.ogg")
        del audio["MOOD"]
        audio.save()
        os.utime(music / "b.ogg", (1, 1))
        scan(lib, [music], TAXONOMY)
        tracks = by_title(lib)
    assert tracks["Rain"]["source"] == "none"
