from __future__ import annotations

from pathlib import Path

from player.library import MIGRATIONS, Library, TrackMood


def mood(source: str, name: str, valence: float) -> TrackMood:
    return TrackMood(source, "cowen13", name, valence, 0.0, {name: 1.0}, (name,))


def test_schema_migrations_are_recorded_and_not_reapplied(tmp_path: Path) -> None:
    path = tmp_path / "lib.db"
    with Library(path) as lib:
        assert lib.schema_version == len(MIGRATIONS)
        lib.upsert_track("/a.ogg", 1, 1.0, title="A")
        lib.transaction().commit()
    with Library(path) as lib:
        assert lib.count() == 1
        assert lib.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = lib.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0]
        assert rows == len(MIGRATIONS)


def test_file_tag_beats_imported_beats_analysed() -> None:
    with Library(":memory:") as lib:
        track_id = lib.upsert_track("/a.ogg", 1, 1.0)
        lib.set_mood(track_id, mood("analysed", "calm", 0.4))
        assert lib.tracks()[0].mood.source == "analysed"
        lib.set_mood(track_id, mood("imported", "sad", -0.7))
        assert lib.tracks()[0].mood.source == "imported"
        lib.set_mood(track_id, mood("file", "joyful", 0.8))
        assert lib.tracks()[0].to_dict()["mood"] == "joyful"
        lib.clear_mood(track_id, "file")
        assert lib.tracks()[0].mood.mood == "sad"


def test_flagged_tracks_are_not_playable() -> None:
    with Library(":memory:") as lib:
        good = lib.upsert_track("/good.ogg", 1, 1.0)
        bad = lib.upsert_track("/bad.ogg", 1, 1.0)
        lib.flag(bad, "failed", "ended at once")
        assert [t.id for t in lib.tracks(playable_only=True)] == [good]
        assert lib.track(bad).error == "ended at once"


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    import pytest

    from edge.errors import MoodcastError

    bogus = tmp_path / "x.db"
    bogus.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(MoodcastError, match="cannot be opened"):
        Library(bogus)
