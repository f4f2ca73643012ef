"""Reads of the library off the decision thread: the feed, the start's sample, dropped tracks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from moodcast.config.errors import MoodcastError
from moodcast.config.settings import load_config
from moodcast.edge.music.library_feed import BackgroundFeed, DirectFeed, Loaded
from moodcast.edge.music.repertoire import Repertoire
from moodcast.edge.status.health import Health
from moodcast.edge.status.problems import ProblemKind
from moodcast.edge.timing import Clocks, Timings
from moodcast.models.mood import MoodEstimate, load_taxonomy
from moodcast.player.library import Library, LibraryLockedError, open_or_set_aside
from moodcast.player.scan import scan
from moodcast.player.selection import PlayHistory
from moodcast.player.track import Track
from tests.conftest import wait_until

TAXONOMY = load_taxonomy("cowen13")


class Quiet:
    def publish_state(self, state: object) -> None:
        pass

    def publish_event(self, name: str, data: object) -> None:
        pass


@pytest.fixture
def library(tmp_path: Path, make_tone) -> Path:
    music = tmp_path / "m"
    for i, mood in enumerate(["Sad", "Calm", "Happy", "Energetic", "Gloomy", "Cheerful"]):
        make_tone(music / f"{i}.ogg", seconds=1, artist=f"a{i}", title=mood, mood=mood)
    with Library(tmp_path / "lib.db") as lib:
        scan(lib, [music], TAXONOMY)
    return tmp_path / "lib.db"


def test_the_background_feed_reads_on_its_own_thread_and_connection(library: Path) -> None:
    feed = BackgroundFeed(lambda: Library(library))
    feed.start()
    try:
        assert feed.take() is None  # nothing asked, nothing read
        asked = feed.request()
        wait_until(lambda: feed._result is not None, what="a read")
        loaded = feed.take()
        assert loaded is not None and loaded.asked == asked and len(loaded.tracks or []) == 6
        assert feed.take() is None  # taken once
    finally:
        feed.stop()
    assert not feed._thread.is_alive()


def test_a_library_that_cannot_be_opened_is_said_by_the_feed(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    feed = BackgroundFeed(lambda: Library(junk))
    feed.start()
    try:
        feed.request()
        wait_until(lambda: feed._result is not None, what="a read")
        loaded = feed.take()
        assert loaded is not None and loaded.tracks is None and "cannot be opened" in loaded.error
    finally:
        feed.stop()


def test_a_sample_is_drawn_from_playable_tracks_only(library: Path) -> None:
    with Library(library) as lib:
        first = lib.tracks()[0]
        lib.flag(first.id, "failed", "would not play")
        lib.ban(lib.tracks()[1].id)
        drawn = lib.sample(100)
        assert len(drawn) == 4 and all(t.status == "ok" and not t.banned for t in drawn)
        assert all(t.mood is not None for t in drawn)  # with their moods
        assert len(lib.sample(2)) == 2


class SlowFeed:
    """A feed whose reads the test finishes by hand: a read may start before a flag."""

    def __init__(self, lib: Library) -> None:
        self.lib, self.asked = lib, 0
        self.pending: list[tuple[int, list[Track]]] = []
        self.ready: Loaded | None = None

    def request(self) -> int:
        self.asked += 1
        self.pending.append((self.asked, self.lib.tracks()))  # read now, delivered later
        return self.asked

    def deliver(self, which: int) -> None:
        asked, tracks = self.pending[which]
        self.ready = Loaded(tracks, asked=asked)

    def take(self) -> Loaded | None:
        ready, self.ready = self.ready, None
        return ready


def test_a_failed_track_is_never_picked_again_even_from_a_read_begun_before(
    library: Path,
) -> None:
    config = load_config(None, {})
    with Library(library) as lib:
        feed = SlowFeed(lib)
        health = Health(Quiet(), lambda: 0.0, "", lambda: 0.0)
        rep = Repertoire(config, TAXONOMY, lib, health, Clocks(), Timings(), feed)
        rep.load(lib.tracks(playable_only=True))
        feed.request()  # a read begun before the failure
        sad = next(t for t in rep.playable if t.title == "Sad")
        rep.failed(sad, "would not play")
        feed.deliver(0)  # the old read (the track still ok in it) arrives
        assert rep.take()
        assert sad.id not in {t.id for t in rep.selector.tracks}
        estimate = MoodEstimate(-0.6, -0.4, TAXONOMY.probabilities(-0.6, -0.4), 0.9)
        rng = np.random.default_rng(0)
        for _ in range(20):
            pick = rep.selector.pick(estimate, PlayHistory(config.selection), rng)
            assert pick is not None and pick.track.id != sad.id
        feed.deliver(1)  # the read asked by the failure: the library says it
        assert rep.take() and sad.id not in {t.id for t in rep.selector.tracks}


def playing_from(lib: Library) -> tuple[Repertoire, Health]:
    """A repertoire reading ``lib`` at once, loaded with its playable tracks."""
    health = Health(Quiet(), lambda: 0.0, "", lambda: 0.0)
    rep = Repertoire(load_config(None, {}), TAXONOMY, lib, health, Clocks(), Timings(),
                     DirectFeed(lib))  # fmt: skip
    rep.load(lib.tracks(playable_only=True))
    return rep, health


def test_a_dropped_track_leaves_the_selection_at_once(library: Path) -> None:
    config = load_config(None, {})
    with Library(library) as lib:
        rep, _ = playing_from(lib)
        selector = rep.selector
        for track in list(selector.tracks):
            selector.drop(track.id)
        estimate = MoodEstimate(0.0, 0.0, TAXONOMY.probabilities(0.0, 0.0), 0.9)
        rng = np.random.default_rng(0)
        assert selector.pick(estimate, PlayHistory(config.selection), rng) is None


def test_an_unreadable_library_keeps_what_is_loaded_and_says_so(library: Path) -> None:
    with Library(library) as lib:
        rep, health = playing_from(lib)

        class Broken:
            def request(self) -> int:
                return 1

            def take(self) -> Loaded:
                return Loaded(None, "disk I/O error", 1)

        rep.feed = Broken()
        rep.reload()
        assert len(rep.playable) == 6
        assert health.problems.get(ProblemKind.LIBRARY_UNREADABLE) is not None


def test_a_library_locked_at_start_is_said_and_never_set_aside(library: Path, monkeypatch) -> None:
    """A whole library that another program holds past the wait is not 'damaged'."""
    holder = sqlite3.connect(library)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        monkeypatch.setattr(sqlite3, "connect", _short(sqlite3.connect))
        with pytest.raises(LibraryLockedError, match="locked by another program"):
            open_or_set_aside(library, "stamp")
    finally:
        holder.rollback()
        holder.close()
    assert library.is_file() and not list(library.parent.glob("*.damaged-*"))
    assert issubclass(LibraryLockedError, MoodcastError)  # the CLI says it in words


def _short(connect):
    def connect_soon(path, *args, **kwargs):
        kwargs["timeout"] = 0.2  # the real open waits 30 s
        return connect(path, *args, **kwargs)

    return connect_soon
