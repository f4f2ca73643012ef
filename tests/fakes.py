"""Fakes that stand beside the real parts (never instead of them in the contract tests)."""

from __future__ import annotations

import os
from pathlib import Path

from moodcast.edge.events import EventQueue
from moodcast.player.decks import DeckEnded, DeckFailed, DeckStarted


class FakeDeck:
    """Behaves like a libVLC deck: a missing file errors, a tiny file 'ends at once'."""

    def __init__(self, index: int, audio_output: str, events: EventQueue) -> None:
        self.index = index
        self.events = events
        self.volumes: list[int] = []
        self.gains: list[float] = []
        self.paused = False
        self.playing: str | None = None
        self.token = 0
        self.position = 0
        self.length = 0

    def load_and_play(self, path: str, token: int, volume: int) -> None:
        self.token, self.playing, self.position = token, path, 0
        self.volumes.append(volume)
        if not Path(path).exists():
            self.events.put(DeckFailed(self.index, token, "libVLC could not play the file"))
            return
        self.events.put(DeckStarted(self.index, token))
        if os.path.getsize(path) < 512:
            self.length = 0
            self.events.put(DeckEnded(self.index, token))
        else:
            self.length = 60_000

    def finish(self) -> None:
        self.position = self.length
        self.events.put(DeckEnded(self.index, self.token))

    def stop(self) -> None:
        self.playing = None

    def set_paused(self, paused: bool) -> None:
        self.paused = paused

    def set_volume(self, volume: int) -> None:
        self.volumes.append(volume)

    def set_gain(self, db: float) -> None:
        self.gains.append(db)

    def position_ms(self) -> int:
        return self.position

    def length_ms(self) -> int:
        return self.length

    def release(self) -> None:
        self.playing = None
