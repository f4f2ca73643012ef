"""The play log: kept in the real library file, exported for licensing bodies, shown on the page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from moodcast.edge.cli.playlog import span, to_csv
from moodcast.edge.commands.remote_commands import SetPaused, Skip
from moodcast.edge.music.playlog import DAY_S, PlayLog
from moodcast.player.library import Library
from moodcast.player.track import Play, Track
from tests.edge.test_conductor import rig  # noqa: F401  (the conductor on fake decks)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def mono(self) -> float:
        return self.t

    def wall(self) -> float:
        return 1_800_000_000.0 + self.t


def _track(n: int, **kw: object) -> Track:
    return Track(id=n, path=f"/music/{n}.flac", artist=f"artist {n}", title=f"title {n}",
                 album="album", duration=200.0, status="ok", error="", mood=None,
                 **kw)  # fmt: skip


def test_seconds_heard_leave_pauses_out_and_every_kind_of_stop_ends_a_play(tmp_path) -> None:
    clock = Clock()
    with Library(tmp_path / "lib.db") as lib:
        log = PlayLog(lib, clock.wall, clock.mono, keep_days=30)
        one = _track(1, isrc="GBAYE0601498", label="Parlophone")
        log.started(one, "calm: nearest to the target", "calm")
        log.follow(one, paused=False, announcing=None)
        clock.t = 40
        log.follow(one, paused=True, announcing=None)  # paused for 100 s
        clock.t = 140
        log.follow(one, paused=False, announcing=None)
        clock.t = 150
        two = _track(2)
        log.started(two, "skip", "joyful")  # a skip: the first ends now
        clock.t = 160
        log.follow(None, paused=False, announcing=None)  # closing, a failure: nothing plays
        announcement = object()
        log.follow(None, paused=False, announcing=announcement, label="the shop closes soon")
        clock.t = 172
        log.follow(None, paused=False, announcing=None)
        plays = lib.plays(0, float("inf"))
    assert [(p.kind, p.title, p.seconds) for p in plays] == [
        ("track", "title 1", 50.0), ("track", "title 2", 10.0),
        ("announcement", "the shop closes soon", 12.0)]  # fmt: skip
    first = plays[0]
    assert (first.isrc, first.label, first.mood, first.why) == (
        "GBAYE0601498",
        "Parlophone",
        "calm",
        "calm: nearest to the target",
    )
    assert first.started_at == clock.wall() - 172


def test_a_locked_library_delays_the_log_and_loses_nothing(tmp_path) -> None:
    clock = Clock()
    path = tmp_path / "lib.db"
    with Library(path) as lib:
        lib._db.execute("PRAGMA busy_timeout = 50")  # the real one waits 30 s
        log = PlayLog(lib, clock.wall, clock.mono, keep_days=30, retry_s=10)
        holder = sqlite3.connect(path)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        for n in range(3):
            log.started(_track(n), "", "")
            clock.t += 30
        log.follow(None, paused=False, announcing=None)
        assert "play log not written" in log.problem and "3 kept" in log.problem
        holder.rollback()
        holder.close()
        clock.t += 11
        log.follow(None, paused=False, announcing=None)
        assert log.problem == ""
        plays = lib.plays(0, float("inf"))
    assert [(p.title, p.seconds) for p in plays] == [("title 0", 30.0), ("title 1", 30.0),
                                                    ("title 2", 30.0)]  # fmt: skip


def test_plays_older_than_the_kept_days_are_pruned(tmp_path) -> None:
    clock = Clock()
    with Library(tmp_path / "lib.db") as lib:
        old = Play(started_at=clock.wall() - 31 * DAY_S, kind="track", title="old")
        recent = Play(started_at=clock.wall() - 29 * DAY_S, kind="track", title="recent")
        lib.add_play(old)
        lib.add_play(recent)
        PlayLog(lib, clock.wall, clock.mono, keep_days=30).follow(None, False, None)
        assert [p.title for p in lib.plays(0, float("inf"))] == ["recent"]


def test_the_conductor_logs_what_it_plays(rig) -> None:  # noqa: F811
    c, clock, _, _ = rig
    clock.t = 61  # 09:00:01, the shop opens
    c.tick()
    first = c.player.now_playing
    clock.t = 71
    c.on_command(SetPaused(True))
    clock.t = 91
    c.tick()
    c.on_command(SetPaused(False))
    clock.t = 95
    c.tick()
    c.on_command(Skip())
    clock.t = 96
    c.tick()
    c.playlog.close()
    plays = c.repertoire.library.plays(0, float("inf"))
    assert first is not None and plays[0].title == first.title
    assert plays[0].seconds == pytest.approx(14.0)  # 61→95 less the 20 s paused
    assert plays[0].why and plays[1].seconds == pytest.approx(1.0)


def test_export_is_csv_or_json_by_local_dates_and_quotes_formulas(tmp_path) -> None:
    db = tmp_path / "lib.db"
    noon = dt.datetime(2026, 12, 1, 12, 0).astimezone().timestamp()
    with Library(db) as lib:
        lib.add_play(Play(noon, "track", "=HYPERLINK(\"http://x\")", "Beyoncé", seconds=181.5,
                          isrc="USSM10000001", path="/m/a.flac"))  # fmt: skip
        lib.add_play(Play(noon + DAY_S, "announcement", "closing soon", seconds=9.0))
        lib.add_play(Play(noon + 3 * DAY_S, "track", "later", seconds=3.0))

    def export(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "moodcast.edge.cli", "playlog", "export",
                               "--library", str(db), *args], capture_output=True, text=True,
                              check=False)  # fmt: skip

    done = export("--from", "2026-12-01", "--to", "2026-12-02")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["title"] for r in rows] == ['\'=HYPERLINK("http://x")', "closing soon"]
    assert rows[0]["artist"] == "Beyoncé" and rows[0]["seconds"] == "181.5"
    assert rows[0]["isrc"] == "USSM10000001" and rows[0]["started"].startswith("2026-12-01T12:00")
    as_json = json.loads(export("--from", "2026-12-04", "--format", "json", "--to",
                                "2026-12-04").stdout)  # fmt: skip
    assert [p["title"] for p in as_json] == ["later"]
    empty = export("--from", "2027-01-01", "--to", "2027-01-02")
    assert empty.returncode == 0 and "no plays logged" in empty.stderr
    assert empty.stdout.strip() == ",".join(
        (
            "started",
            "seconds",
            "kind",
            "title",
            "artist",
            "album",
            "isrc",
            "label",
            "file",
            "mood",
            "why",
        )
    )
    bad = export("--from", "2026-02-31")
    assert bad.returncode == 2 and "'2026-02-31' is not a date" in bad.stderr
    backwards = export("--from", "2026-12-05", "--to", "2026-12-01")
    assert backwards.returncode == 2 and "after --to" in backwards.stderr
    missing = subprocess.run([sys.executable, "-m", "moodcast.edge.cli", "playlog", "export",
                              "--library", str(tmp_path / "none.db")], capture_output=True,
                             text=True, check=False)  # fmt: skip
    assert missing.returncode == 2 and "there is no library" in missing.stderr
    assert not (tmp_path / "none.db").exists()


def test_span_is_local_days_inclusive() -> None:
    low, high = span(dt.date(2026, 3, 28), dt.date(2026, 3, 29), dt.date(2026, 12, 1))
    assert dt.datetime.fromtimestamp(low) == dt.datetime(2026, 3, 28)
    assert dt.datetime.fromtimestamp(high) == dt.datetime(2026, 3, 30)
    assert to_csv([]).startswith("started,seconds,kind,title")


def test_days_past_either_end_of_the_calendar_mean_the_whole_log() -> None:
    """--from 0001-01-01 --to 9999-12-31 ended the export with 'year 0 is out of range'."""
    low, high = span(dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(2026, 12, 1))
    assert low <= 86_400 * 2 and dt.datetime.fromtimestamp(high).year == 9999


def test_isrc_and_label_are_read_from_each_container(tmp_path: Path, make_tone) -> None:
    import mutagen
    from mutagen.id3 import ID3, TPUB, TSRC

    from moodcast.player.tags import read_file_info

    flac = make_tone(tmp_path / "a.flac", title="a")
    audio = mutagen.File(flac)
    audio["ISRC"] = "gb-aye-06-01498"
    audio["LABEL"] = "Parlophone"
    audio.save()
    mp3 = make_tone(tmp_path / "b.mp3", title="b")
    id3 = ID3(mp3)
    id3.add(TSRC(encoding=3, text=["USSM19900001"]))
    id3.add(TPUB(encoding=3, text=["Columbia"]))
    id3.save(mp3)
    junk = make_tone(tmp_path / "c.ogg", title="c")
    audio = mutagen.File(junk)
    audio["ISRC"] = "not an isrc"
    audio.save()
    assert (read_file_info(flac).isrc, read_file_info(flac).label) == ("GBAYE0601498", "Parlophone")
    assert (read_file_info(mp3).isrc, read_file_info(mp3).label) == ("USSM19900001", "Columbia")
    assert read_file_info(junk).isrc == ""
