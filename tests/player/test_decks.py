"""One contract, run on the real libVLC deck and on the fake beside it."""

from __future__ import annotations

import os
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from moodcast.edge.events import EventQueue
from moodcast.player.decks import (
    DeckEnded,
    DeckFailed,
    DeckStarted,
    DeckUnheard,
    VlcDeck,
    vlc_options,
)
from tests.fakes import FakeDeck


def wait_for(events: EventQueue, kind: type, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = events.get(timeout=0.1)
        if isinstance(event, kind):
            return event
    raise AssertionError(f"no {kind.__name__} within {timeout} s")


@pytest.fixture(params=["vlc", "fake"])
def make_deck(request, tmp_path: Path):
    def make(events: EventQueue):
        if request.param == "vlc":
            request.getfixturevalue("vlc_available")
            return VlcDeck(0, f"file:{tmp_path / 'out.wav'}", events)
        return FakeDeck(0, "dummy", events)

    return make


def test_a_track_starts_and_ends(make_deck, make_tone, tmp_path: Path) -> None:
    tone = make_tone(tmp_path / "t.ogg", seconds=1.5)
    events = EventQueue()
    deck = make_deck(events)
    deck.load_and_play(str(tone), token=7, volume=80)
    assert wait_for(events, DeckStarted) == DeckStarted(0, 7)
    if isinstance(deck, FakeDeck):
        deck.finish()
    assert wait_for(events, DeckEnded) == DeckEnded(0, 7)
    assert deck.length_ms() > 1000
    deck.release()


def test_a_missing_file_fails(make_deck, tmp_path: Path) -> None:
    events = EventQueue()
    deck = make_deck(events)
    deck.load_and_play(str(tmp_path / "nope.ogg"), token=3, volume=80)
    event = wait_for(events, DeckFailed)
    assert event.token == 3
    deck.release()


def test_a_corrupt_file_ends_at_once_with_no_length(make_deck, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ogg"
    bad.write_bytes(os.urandom(400))
    events = EventQueue()
    deck = make_deck(events)
    deck.load_and_play(str(bad), token=1, volume=80)
    wait_for(events, DeckEnded, timeout=5)
    assert deck.length_ms() == 0
    deck.release()


def test_file_output_records_what_was_played(vlc_available, make_tone, tmp_path: Path) -> None:
    tone = make_tone(tmp_path / "t.ogg", seconds=2.0)
    out = tmp_path / "rec.wav"
    events = EventQueue()
    deck = VlcDeck(0, f"file:{out}", events)
    deck.load_and_play(str(tone), token=1, volume=100)
    wait_for(events, DeckEnded)
    time.sleep(0.5)
    deck.release()
    with wave.open(str(out)) as rec:
        seconds = rec.getnframes() / rec.getframerate()
        width = rec.getsampwidth()
        frames = rec.readframes(rec.getnframes())
    assert seconds == pytest.approx(2.0, abs=0.25)
    dtype = {2: np.int16, 4: np.float32}[width]
    samples = np.frombuffer(frames, dtype=dtype).astype(np.float64)
    scale = 32768.0 if width == 2 else 1.0
    rms = float(np.sqrt(np.mean((samples / scale) ** 2)))
    assert rms > 0.05  # the tone was written at 0.3 of full scale: real sound, not silence


def until_ended(events: EventQueue, timeout: float = 10.0) -> list[Any]:
    """Every event up to and with the first DeckEnded."""
    seen: list[Any] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = events.get(timeout=0.1)
        if event is not None:
            seen.append(event)
        if isinstance(event, DeckEnded):
            return seen
    raise AssertionError(f"no DeckEnded within {timeout} s: {seen}")


@pytest.mark.parametrize("output", ["alsa:hw:99", "file:{tmp}/gone/out.wav"])
def test_an_output_that_cannot_open_is_said_once_and_the_track_plays_on(
    vlc_available, make_tone, tmp_path: Path, output: str
) -> None:
    """No sound device there (a USB card unplugged, a card no box has) or a file output whose
    folder is gone: libVLC plays the track to its end to nobody, trying the output again
    and again. The deck says so once, and its end says the track was not heard."""
    tone = make_tone(tmp_path / "t.ogg", seconds=1.0)
    spec = output.format(tmp=tmp_path)
    events = EventQueue()
    deck = VlcDeck(0, spec, events)
    deck.load_and_play(str(tone), token=5, volume=80)
    seen = until_ended(events)
    deck.release()
    unheard = [e for e in seen if isinstance(e, DeckUnheard)]
    assert len(unheard) == 1 and unheard[0].token == 5 and repr(spec) in unheard[0].reason
    assert seen[-1] == DeckEnded(0, 5, heard=False)
    assert not any(isinstance(e, DeckFailed) for e in seen)


def test_an_output_that_opens_is_heard(vlc_available, make_tone, tmp_path: Path) -> None:
    tone = make_tone(tmp_path / "t.ogg", seconds=1.0)
    events = EventQueue()
    deck = VlcDeck(0, "dummy", events)
    deck.load_and_play(str(tone), token=2, volume=80)
    seen = until_ended(events)
    deck.release()
    assert seen[-1] == DeckEnded(0, 2, heard=True)
    assert not any(isinstance(e, DeckUnheard) for e in seen)


@pytest.mark.parametrize(
    ("spec", "deck", "expected"),
    [
        ("dummy", 0, "--aout=dummy"),
        ("file:/tmp/x.wav", 0, "--audiofile-file=/tmp/x.wav"),
        ("file:/tmp/x.wav", 1, "--audiofile-file=/tmp/x.deck1.wav"),
        ("alsa:hw:1", 0, "--alsa-audio-device=hw:1"),
        ("pulse", 0, "--aout=pulse"),
    ],
)
def test_output_options(spec: str, deck: int, expected: str) -> None:
    assert expected in vlc_options(spec, deck)
