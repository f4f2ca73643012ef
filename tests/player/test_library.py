from __future__ import annotations

import sqlite3
from pathlib import Path

from moodcast.player.library import MIGRATIONS, Library
from moodcast.player.track import TrackMood


def mood(source: str, name: str, valence: float) -> TrackMood:
    return TrackMood(source, "cowen13", name, valence, 0.0, {name: 1.0}, (name,))


def test_schema_migrations_are_recorded_and_not_reapplied(tmp_path: Path) -> None:
    path = tmp_path / "lib.db"
    with Library(path) as lib:
        lib.upsert_track("/a.ogg", 1, 1.0, title="A")
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == len(
            MIGRATIONS
        )
    with Library(path) as lib:
        assert lib.count() == 1
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = con.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0]
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
        assert next(t for t in lib.tracks() if t.id == bad).error == "ended at once"


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    import pytest

    from moodcast.config.errors import MoodcastError

    bogus = tmp_path / "x.db"
    bogus.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(MoodcastError, match="cannot be opened"):
        Library(bogus)


def test_a_failed_transaction_writes_nothing_and_an_inner_one_joins_the_outer() -> None:
    import pytest

    with Library(":memory:") as lib:
        with pytest.raises(RuntimeError), lib.transaction():
            lib.upsert_track("/a.ogg", 1, 1.0)
            with lib.transaction():  # joins: nothing is committed here
                lib.upsert_track("/b.ogg", 1, 1.0)
            raise RuntimeError("stop")
        assert lib.count() == 0
        with lib.transaction():
            lib.upsert_track("/c.ogg", 1, 1.0)
        assert [t.path for t in lib.tracks()] == ["/c.ogg"]


def test_one_writer_at_a_time_a_second_thread_waits_for_the_first(tmp_path: Path) -> None:
    import threading

    order: list[str] = []
    inside, release = threading.Event(), threading.Event()
    with Library(tmp_path / "lib.db") as lib:
        track = lib.upsert_track("/a.ogg", 1, 1.0)

        def first() -> None:
            with lib.transaction():
                lib.upsert_track("/b.ogg", 1, 1.0)
                inside.set()
                release.wait(10)
                order.append("first done")

        def second() -> None:
            inside.wait(10)
            lib.flag(track, "failed", "x")  # must wait for the first writer to commit
            order.append("second done")

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        inside.wait(10)
        threads[1].join(timeout=0.5)
        assert threads[1].is_alive() and order == []  # the second writer is still waiting
        release.set()
        for t in threads:
            t.join(timeout=10)
        assert order == ["first done", "second done"]
        assert {t.path: t.status for t in lib.tracks()} == {"/a.ogg": "failed", "/b.ogg": "ok"}


def test_match_keys_made_before_accents_were_ignored_are_folded_once(tmp_path) -> None:
    """A library from before: its keys kept accents. Opened now, they are folded like new
    ones, so 'Beyoncé' in the file and 'Beyonce' in a crawl meet; a duplicate tag goes."""
    path = tmp_path / "lib.db"
    Library(path).close()
    db = sqlite3.connect(path)
    db.executemany("INSERT INTO community_tags VALUES (?, ?, ?)",
                   [("beyoncé\tdéjà vu", "happy", "lastfm.csv"),
                    ("beyonce\tdeja vu", "happy", "lastfm.csv"),
                    ("sigur rós\thoppípolla", "dreamy", "lastfm.csv")])  # fmt: skip
    folding = next(i for i, script in enumerate(MIGRATIONS, 1) if "moodcast_unaccent" in script)
    db.execute("DELETE FROM schema_migrations WHERE version = ?", (folding,))
    db.commit()
    db.close()
    with Library(path) as lib:
        keys = dict(lib.community_tags())
    assert keys == {"beyonce\tdeja vu": ["happy"], "sigur ros\thoppipolla": ["dreamy"]}


def test_a_ban_outlives_rescans_and_restarts_and_can_be_taken_back(tmp_path, make_tone) -> None:
    from moodcast.models.mood import load_taxonomy
    from moodcast.player.scan import scan

    taxonomy = load_taxonomy("cowen13")
    music = tmp_path / "m"
    for i in range(3):
        make_tone(music / f"{i}.ogg", seconds=1, artist=f"a{i}", title=f"t{i}")
    with Library(tmp_path / "lib.db") as lib:
        scan(lib, [music], taxonomy)
        first = lib.tracks()[0]
        assert lib.ban(first.id) is not None and lib.ban(99_999) is None
        assert first.id not in {t.id for t in lib.tracks(playable_only=True)}
        scan(lib, [music], taxonomy)  # a rescan keeps it out
        assert first.path not in {t.path for t in lib.tracks(playable_only=True)}
    with Library(tmp_path / "lib.db") as lib:  # so does a restart
        bans = lib.bans()
        assert [(path, artist) for _, path, artist, _, _ in bans] == [(first.path, "a0")]
        assert first.path not in {t.path for t in lib.tracks(playable_only=True)}
        assert lib.unban(bans[0][0]) and not lib.unban(bans[0][0])
        assert first.path in {t.path for t in lib.tracks(playable_only=True)}
