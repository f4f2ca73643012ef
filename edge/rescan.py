"""Rescans of the music folders, on a thread of their own.

The thread writes through a connection of its own, which may wait for another program's
lock as long as SQLite's 30 s (the decision thread's never does), and reports back through
the event queue; one rescan at a time, and a stop is not held by a long one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import nullcontext

from moodcast.config.settings import MoodcastConfig
from moodcast.edge.events import EventQueue, RescanDone
from moodcast.models.readers import active_taxonomy
from moodcast.player.library import Library
from moodcast.player.scan import scan


class Rescanner:
    def __init__(self, config: Callable[[], MoodcastConfig], library: Library,
                 events: EventQueue) -> None:  # fmt: skip
        """``config``: the config in force (central settings may replace it while running)."""
        self._config, self._library, self._events = config, library, events
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Starts one unless one runs; '' or why none can (no folders configured)."""
        config = self._config()
        if not config.library.music_dirs:
            return "rescan: no folders configured (set library.music_dirs)"
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, args=(config,), name="rescan",
                                            daemon=True)  # fmt: skip
            self._thread.start()
        return ""

    def _work(self, config: MoodcastConfig) -> None:
        try:
            taxonomy = active_taxonomy(config)
            path = self._library.path
            own = nullcontext(self._library) if path == ":memory:" else Library(path)
            with own as library:
                report = scan(library, config.library.music_dirs, taxonomy)
            summary = (
                f"{report.seen} files, {report.added_or_changed} new or changed, "
                f"{report.removed} removed"
            )
            self._events.put(RescanDone(summary, ""))
        except Exception as exc:  # reported to the daemon, which keeps playing
            self._events.put(RescanDone("", str(exc)))

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=2.0)  # SQLite rolls back what a stopped scan left
