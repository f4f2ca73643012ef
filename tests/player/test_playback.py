from __future__ import annotations

import math
from pathlib import Path

import pytest

from moodcast.edge.events import EventQueue
from moodcast.player.decks import DeckEnded, DeckFailed
from moodcast.player.playback import FADE_FLOOR_DB, Player
from moodcast.player.track import Track
from tests.fakes import FakeDeck


def track(track_id: int, path: str) -> Track:
    return Track(track_id, path, "a", f"t{track_id}", "", 60.0, "ok", "", None)


@pytest.fixture
def setup(tmp_path: Path):
    events = EventQueue()
    decks = [FakeDeck(0, "dummy", events), FakeDeck(1, "dummy", events)]
    good = []
    for i in range(3):
        path = tmp_path / f"{i}.ogg"
        path.write_bytes(b"\0" * 4096)
        good.append(track(i, str(path)))
    return Player(decks, crossfade_s=4.0, fade_s=2.0, volume=80), decks, good, events


def test_fade_in_reaches_the_set_volume(setup) -> None:
    """Fades are in the deck's gain (every output hears them); the volume stays as set."""
    player, decks, good, _ = setup
    player.play(good[0], now=0.0, fade_in=2.0)
    assert decks[0].gains[-1] == FADE_FLOOR_DB and decks[0].volumes == [80]
    player.tick(1.0)
    assert decks[0].gains[-1] == pytest.approx(20 * math.log10(0.5))
    player.tick(2.0)
    assert decks[0].gains[-1] == 0.0 and decks[0].volumes == [80]


def test_crossfade_overlaps_two_decks(setup) -> None:
    player, decks, good, _ = setup
    player.play(good[0], 0.0, fade_in=0.0)
    player.play(good[1], 10.0)
    player.tick(12.0)
    half = pytest.approx(20 * math.log10(0.5))
    assert decks[0].gains[-1] == half and decks[1].gains[-1] == half
    player.tick(14.0)
    assert decks[1].gains[-1] == 0.0 and decks[0].playing is None
    assert player.now_playing == good[1]


def test_volume_scales_both_decks(setup) -> None:
    player, decks, good, _ = setup
    player.play(good[0], 0.0, fade_in=0.0)
    player.set_volume(25)
    assert decks[0].volumes[-1] == 25


def test_pause_fades_then_pauses_and_resume_restores(setup) -> None:
    player, decks, good, _ = setup
    player.play(good[0], 0.0, fade_in=0.0)
    player.pause(5.0)
    player.tick(6.0)
    assert decks[0].paused and decks[0].gains[-1] == FADE_FLOOR_DB
    assert player.remaining_s() is None
    player.resume(7.0)
    player.tick(8.0)
    assert not decks[0].paused and decks[0].gains[-1] == 0.0


def test_an_end_is_an_end_and_an_instant_end_is_a_failure(setup, tmp_path: Path) -> None:
    player, decks, good, _ = setup
    player.play(good[0], 0.0)
    decks[0].finish()
    outcome = player.on_deck_event(DeckEnded(0, 1), now=60.0)
    assert outcome is not None and not outcome.failed and outcome.was_active
    corrupt = tmp_path / "c.ogg"
    corrupt.write_bytes(b"junk")
    player.play(track(9, str(corrupt)), 61.0)
    # The first deck is free again, so the next track plays on it.
    outcome = player.on_deck_event(DeckEnded(0, 2), now=61.05)
    assert outcome is not None and outcome.failed and "length 0" in outcome.reason


def test_a_measured_track_that_ends_late_with_no_length_is_a_failure(setup, tmp_path) -> None:
    """Under load libVLC may probe a corrupt file for seconds before it ends with length 0:
    a track the scan measured is flagged all the same; one of unknown duration only when it
    ended at once."""
    player, _, _, _ = setup
    corrupt = tmp_path / "late.ogg"
    corrupt.write_bytes(b"junk")
    player.play(track(7, str(corrupt)), 0.0)
    outcome = player.on_deck_event(DeckEnded(0, 1), now=5.0)
    assert outcome is not None and outcome.failed and "length 0" in outcome.reason
    unmeasured = Track(8, str(corrupt), "a", "t8", "", None, "ok", "", None)
    player.play(unmeasured, 10.0)
    outcome = player.on_deck_event(DeckEnded(0, 2), now=15.0)  # the first deck is free again
    assert outcome is not None and not outcome.failed


def test_stale_events_are_ignored(setup) -> None:
    player, _, good, _ = setup
    player.play(good[0], 0.0)
    player.play(good[1], 1.0)
    assert player.on_deck_event(DeckFailed(0, 99, "x"), 2.0) is None
