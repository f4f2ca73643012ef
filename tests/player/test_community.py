from __future__ import annotations

from pathlib import Path

import pytest

from moodcast.config.errors import MoodcastError
from moodcast.models.mood import load_taxonomy
from moodcast.player.community import import_tags
from moodcast.player.library import Library
from moodcast.player.scan import scan

TAXONOMY = load_taxonomy("cowen13")


def test_lastfm_tags_apply_to_tracks_by_normalised_name(tmp_path, make_tone, image2music):
    music = tmp_path / "m"
    # Rows from the real crawl: Bon Iver – Holocene is tagged Calm.
    make_tone(music / "1.ogg", artist="BON IVER", title="Holocene (Live)")
    make_tone(music / "2.ogg", artist="Nobody", title="Unknown Song")
    with Library(":memory:") as lib:
        scan(lib, [music], TAXONOMY)
        report = import_tags(lib, [image2music / "lastfm_moods" / "Calm.csv"], TAXONOMY)
        tracks = {t.title: t.to_dict() for t in lib.tracks()}
    assert report.imported > 100 and report.matched_tracks == 1
    assert tracks["Holocene (Live)"]["source"] == "imported"
    assert tracks["Holocene (Live)"]["mood"] == "calm"
    assert tracks["Unknown Song"]["source"] == "none"


def test_tags_imported_before_a_scan_apply_when_the_track_arrives(tmp_path, make_tone):
    csv_file = tmp_path / "tags.csv"
    csv_file.write_text("artist,title,mood,per\nZed,Fire,aggressive,0.9\n", encoding="utf-8")
    with Library(":memory:") as lib:
        import_tags(lib, [csv_file], load_taxonomy("moodsic5"))
        make_tone(tmp_path / "m" / "z.ogg", artist="Zed", title="Fire")
        scan(lib, [tmp_path / "m"], load_taxonomy("moodsic5"))
        (track,) = lib.tracks()
    assert track.mood is not None and track.mood.mood == "aggressive"


def test_whole_original_database_imports(image2music: Path) -> None:
    with Library(":memory:") as lib:
        report = import_tags(lib, [image2music / "moodsic_database.csv"], TAXONOMY)
    assert report.imported > 5000


def test_malformed_rows_are_skipped_and_counted(tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text(
        "artist,music_name,duration,lastfm_url,youtube_url,mood_EN,mood_KOR\n"
        "A,Song,1,u,y,Happy,x\n"
        "B,Bad, row, with, commas,u,y,Sad,x\n"
        ",NoArtist,1,u,y,Sad,x\n"
        "C,Ok,1,u,y,Calm,x\n",
        encoding="utf-8",
    )
    with Library(":memory:") as lib:
        report = import_tags(lib, [broken], TAXONOMY)
    assert report.imported == 2
    assert [line for line, _ in report.skipped] == [3, 4]


def test_unknown_columns_name_the_expected_formats(tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with Library(":memory:") as lib, pytest.raises(MoodcastError, match="music_name"):
        import_tags(lib, [other], TAXONOMY)


def test_names_match_whatever_their_accents() -> None:
    from moodcast.player.tags import match_key

    assert match_key("Beyoncé", "Déjà Vu") == match_key("Beyonce", "Deja vu")
    assert match_key("Sigur Rós", "Hoppípolla") == match_key("SIGUR ROS", "Hoppipolla")
    assert match_key("Motörhead", "Ace of Spades") == match_key("Motorhead", "Ace Of Spades")
    assert match_key("Ólafur Arnalds", "x") != match_key("Olafur Arnald", "x")
    assert match_key("坂本龍一", "戦場のメリークリスマス") != match_key("", "")  # kept, not dropped
