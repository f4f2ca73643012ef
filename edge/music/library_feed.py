"""Reading the library for the decision thread without making it wait.

A read of 100,000 tracks takes seconds and a library another process holds write-locked makes
a read wait; neither may hold up the music. :class:`BackgroundFeed` reads on a thread of its
own, through a connection of its own (WAL: a reader never waits for the daemon's writes), and
keeps the newest result for the decision thread to take at its next tick: nothing is lost to
a full event queue. :class:`DirectFeed` reads at once, for tools and tests that have no loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from moodcast.player.track import Track, TrackStore, TrackStoreError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loaded:
    """One read of the library: its tracks, or why it could not be read."""

    tracks: list[Track] | None
    error: str = ""
    asked: int = 0  # the newest request this read answers (what was written before it shows)


class LibraryFeed(Protocol):
    def request(self) -> int:
        """Ask for a fresh read (several asks before it is done make one read); the ask's
        number, which the read that answers it carries as ``asked``."""
        ...

    def take(self) -> Loaded | None:
        """The newest read not taken yet, or None."""
        ...


class DirectFeed:
    """Reads at once, on the caller's thread."""

    def __init__(self, store: TrackStore) -> None:
        self._store = store
        self._result: Loaded | None = None
        self._asked = 0

    def request(self) -> int:
        self._asked += 1
        self._result = _read(self._store.tracks, self._asked)
        return self._asked

    def take(self) -> Loaded | None:
        result, self._result = self._result, None
        return result


class BackgroundFeed:
    """Reads on its own thread through ``open_store()``'s connection, opened on that thread."""

    def __init__(self, open_store: Callable[[], TrackStore]) -> None:
        self._open_store = open_store
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._result: Loaded | None = None
        self._asked = 0
        self._thread = threading.Thread(target=self._run, name="library-feed", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wanted.set()
        self._thread.join(timeout=2.0)  # a read in progress is abandoned with its thread

    def request(self) -> int:
        with self._lock:
            self._asked += 1
            asked = self._asked
        self._wanted.set()
        return asked

    def take(self) -> Loaded | None:
        with self._lock:
            result, self._result = self._result, None
        return result

    def _run(self) -> None:
        store: TrackStore | None = None
        while not self._stop.is_set():
            self._wanted.wait()
            self._wanted.clear()
            if self._stop.is_set():
                break
            with self._lock:
                asked = self._asked
            if store is None:
                try:
                    store = self._open_store()
                except Exception as exc:  # a library that cannot be opened: said, asked again
                    self._keep(Loaded(None, f"{type(exc).__name__}: {exc}", asked))
                    continue
            self._keep(_read(store.tracks, asked))
        if store is not None and hasattr(store, "close"):
            store.close()

    def _keep(self, result: Loaded) -> None:
        with self._lock:
            self._result = result


def _read(tracks: Callable[[], list[Track]], asked: int) -> Loaded:
    try:
        return Loaded(tracks(), asked=asked)
    except TrackStoreError as exc:
        return Loaded(None, str(exc), asked)
