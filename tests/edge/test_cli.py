"""The CLI as a user runs it: a real process, real files, real photos."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from moodcast.player.library import Library

ROOT = Path(__file__).resolve().parents[2]


def moodcast(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moodcast.edge.cli", *map(str, args)],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


@pytest.fixture
def tagged_library(tmp_path: Path, make_tone) -> Path:
    music = tmp_path / "music"
    moods = ["Sad", "Gloomy", "Calm", "Dreamy", "Happy", "Energetic", "Cheerful", "Epic"]
    for i, mood in enumerate(moods * 2):
        make_tone(music / f"{i}.ogg", artist=f"artist{i}", title=f"{mood} {i}", mood=mood)
    db = tmp_path / "lib.db"
    result = moodcast("scan", music, "--library", db)
    assert result.returncode == 0, result.stderr
    assert "16 new or changed" in result.stdout
    return db


def test_library_list_json_has_the_documented_fields(tagged_library: Path) -> None:
    result = moodcast("library", "list", "--library", tagged_library, "--json")
    rows = json.loads(result.stdout)
    assert len(rows) == 16
    for row in rows:
        assert {"path", "artist", "title", "mood", "valence", "arousal", "source"} <= set(row)
        assert row["source"] == "file"


def test_recommend_gives_different_tracks_for_different_photos(tagged_library, photos):
    outputs = {}
    for name in ("hubble_deep_field.jpg", "coffee.png"):
        result = moodcast(
            "recommend", photos / name, "--library", tagged_library, "--json", "--count", "4",
            "--seed", "0",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        outputs[name] = json.loads(result.stdout)
    dim, bright = outputs["hubble_deep_field.jpg"], outputs["coffee.png"]
    for out in (dim, bright):
        assert {"mood", "valence", "arousal", "confidence", "moods", "tracks"} <= set(out)
        assert len(out["tracks"]) == 4
        assert {"path", "artist", "title", "mood", "score"} <= set(out["tracks"][0])
    assert bright["valence"] > dim["valence"]
    dim_paths = {t["path"] for t in dim["tracks"]}
    bright_paths = {t["path"] for t in bright["tracks"]}
    assert dim_paths.isdisjoint(bright_paths)
    assert all(t["valence"] < 0.5 for t in dim["tracks"])
    assert all(t["valence"] > 0 for t in bright["tracks"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["recommend", "{tmp}/nope.jpg"], "photo {tmp}/nope.jpg does not exist"),
        (["recommend", "{tmp}/fake.jpg"], "fake.jpg is not a PNG, JPEG, GIF, BMP or WebP image"),
        (["recommend", "{tmp}"], "photo {tmp} is a folder"),
        (["scan", "{tmp}/none"], "does not exist"),
        (["recommend", "x.jpg", "--count", "0"], "must be at least 1"),
        (["import-tags", "{tmp}/fake.jpg"], "unknown CSV columns"),
        (["config", "check", "{tmp}/typo.yaml"], "did you mean 'camera'"),
        (["frobnicate"], "invalid choice"),
        # numbers too large for SQLite or a C int, and files that never end
        (["library", "bans", "--undo", "99999999999999999999999"], "must be at most"),
        (["tag", "--workers", "99999999999"], "--workers: must be at most 64"),
        (["import-tags", "/dev/zero"], "/dev/zero is not a regular file"),
        # a photograph that is no photograph: read whole into memory before, or "not there"
        (["recommend", "/dev/zero"], "photo /dev/zero is not a regular file (a character"),
        (["recommend", "{tmp}/pipe.jpg"], "photo {tmp}/pipe.jpg is not a regular file (a FIFO)"),
        (["recommend", "{tmp}/video.jpg"], "video.jpg is 132096 KiB, over the 131072 KiB a photo"),
        # a phone's clip given for a photograph, small and over the size a photograph may have
        (["recommend", "{tmp}/clip.mp4"], "clip.mp4 is a video (MP4 or QuickTime), not a photo"),
        (["recommend", "{tmp}/long.mp4"], "long.mp4 is a video (MP4 or QuickTime), not a photo"),
        (["recommend", "{tmp}/" + "x" * 300], "File name too long — check the path given"),
        (["scan", "{tmp}/" + "x" * 300], "File name too long — check the path given"),
        (
            ["models", "evaluate-images", "{tmp}", "--labels", "/dev/zero"],
            "not a regular file (a character device)",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "fake.jpg").write_text("hello")
    os.mkfifo(tmp_path / "pipe.jpg")
    with open(tmp_path / "video.jpg", "wb") as big:  # sparse: no disk used
        big.truncate(129 << 20)
    (tmp_path / "typo.yaml").write_text("camra:\n  source: 0\n")
    mp4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
    (tmp_path / "clip.mp4").write_bytes(mp4 + bytes(4096))
    with open(tmp_path / "long.mp4", "wb") as long:  # sparse, over MAX_PHOTO_BYTES
        long.write(mp4)
        long.truncate(129 << 20)
    argv = [a.format(tmp=tmp_path) for a in args]
    db = tmp_path / "lib.db"
    result = moodcast(*argv, *(["--library", db] if argv[0] in {"scan", "recommend"} else []))
    assert result.returncode == 2
    assert message.format(tmp=tmp_path) in result.stderr
    assert "Traceback" not in result.stderr


def test_config_check_accepts_the_shipped_files() -> None:
    for name in ("default.yaml", "examples/store.yaml", "examples/car.yaml"):
        result = moodcast("config", "check", ROOT / "config" / name)
        assert result.returncode == 0, result.stderr


def test_recommend_without_a_library_still_reads_the_photo_and_says_to_scan(
    tmp_path: Path, photos: Path
) -> None:
    # No library yet (a new user's first try): the reading is shown, the library not created.
    missing = tmp_path / "not-yet" / "x.db"
    result = moodcast("recommend", photos / "coffee.png", "--library", missing, "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["mood"] and out["tracks"] == []
    assert "no library" in out["no_tracks"] and "moodcast scan" in result.stderr
    assert not missing.parent.exists()
    # A library with no playable tracks: the same, and the text output names the mood.
    empty = tmp_path / "empty.db"
    Library(empty).close()
    result = moodcast("recommend", photos / "coffee.png", "--library", empty)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("mood: ")
    assert "has no playable tracks" in result.stderr and "moodcast scan" in result.stderr


def test_recommend_with_the_fused_reader_includes_the_caption(tagged_library, photos, tiny_models):
    result = moodcast("recommend", photos / "coffee.png", "--library", tagged_library,
                      "--reader", "fused", "--models", tiny_models, "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert "caption" in out and isinstance(out["caption"], str)
    assert out["evidence"]["reader"] == "caption" and "brightness" in out["evidence"]


def test_recommend_caption_reader_without_models_says_how_to_get_them(tagged_library, photos):
    result = moodcast("recommend", photos / "coffee.png", "--library", tagged_library,
                      "--reader", "caption")  # fmt: skip
    assert result.returncode == 2
    assert "moodcast models export" in result.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_is_taken_before_or_after_the_command(tmp_path: Path, where: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("player:\n  volum: 50\n")
    args = ["--config", config, "library", "stats", "--library", tmp_path / "lib.db"]
    if where == "after":
        args = [*args[2:], *args[:2]]
    result = moodcast(*args)
    assert result.returncode == 2
    assert "player.volum (line 2): unknown key" in result.stderr


def test_config_after_the_command_overrides_the_one_before(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("player:\n  volume: 50\n")
    bad.write_text("player:\n  volum: 50\n")
    db = tmp_path / "lib.db"
    result = moodcast("--config", bad, "library", "stats", "--library", db, "--config", good)
    assert result.returncode == 0, result.stderr


def test_recommend_json_shows_what_the_detector_counted(tagged_library, photos) -> None:
    result = moodcast("recommend", photos / "coffee.png", "--library", tagged_library, "--json")
    assert result.returncode == 0, result.stderr
    evidence = json.loads(result.stdout)["evidence"]
    assert evidence["people"] == 0 and "cup" in evidence["objects"]
    assert evidence["place"] == "café or restaurant" and "cup" in evidence["seen"]


def test_library_list_json_is_json_whatever_the_file_names(tmp_path: Path, make_tone) -> None:
    """Before, a Latin-1 file name went out as raw bytes: the output was no JSON at all."""
    import os

    music = tmp_path / "music"
    make_tone(music / "plain.ogg", artist="a", title="t", mood="Calm")
    os.rename(music / "plain.ogg", os.fsencode(music) + b"/caf\xe9.ogg")
    db = tmp_path / "lib.db"
    assert moodcast("scan", music, "--library", db).returncode == 0
    done = subprocess.run([sys.executable, "-m", "moodcast.edge.cli", "library", "list",
                           "--library", str(db), "--json"], capture_output=True, cwd=ROOT,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout.decode("utf-8"))  # strict UTF-8
    assert rows[0]["path"].endswith("caf\ufffd.ogg")


def test_library_bans_lists_and_takes_back(tagged_library: Path) -> None:
    from moodcast.player.library import Library

    with Library(tagged_library) as lib:
        track = lib.tracks()[0]
        lib.ban(track.id)
    listed = json.loads(moodcast("library", "bans", "--library", tagged_library, "--json").stdout)
    assert [(b["ban"], b["path"]) for b in listed] == [(1, track.path)]
    text = moodcast("library", "list", "--library", tagged_library).stdout
    assert "[banned]" in text
    missing = moodcast("library", "bans", "--library", tagged_library, "--undo", "9")
    assert missing.returncode == 2 and "there is no ban 9" in missing.stderr
    assert moodcast("library", "bans", "--library", tagged_library, "--undo", "1").returncode == 0
    after = json.loads(moodcast("library", "bans", "--library", tagged_library, "--json").stdout)
    assert after == []
