"""The runtime state (volume, pause, override, auto) and keeping it on disk.

A save that fails (full disk, read-only card) keeps the new state in memory, says so as a
problem, and is tried again every ``retry_s`` until the disk takes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from moodcast.edge.status.health import Health
from moodcast.edge.status.problems import ProblemKind
from moodcast.edge.status.state import RuntimeState, StateStore
from moodcast.models.mood import Taxonomy

logger = logging.getLogger(__name__)


class StateKeeper:
    def __init__(self, store: StateStore, default: RuntimeState, taxonomy: Taxonomy,
                 health: Health, mono: Callable[[], float], retry_s: float) -> None:  # fmt: skip
        self.store, self._health, self._mono, self._retry_s = store, health, mono, retry_s
        self.state = _allowed(store.load(default), taxonomy)
        self.unsaved = ""  # why the state is not on disk, '' when it is
        self._next_try = 0.0
        if store.from_spare:  # the disk missed the last change before the restart
            self.unsaved = f"restored from the copy in memory ({store.spare}); not on disk yet"
            health.report(ProblemKind.STATE_UNSAVED,
                          f"runtime state restored from the copy in memory: {store.path} did not"
                          " take the last change before the restart; written as soon as it"
                          " does")  # fmt: skip

    def change(self, **changes: Any) -> bool:
        """Apply and save a change; True when something changed."""
        new = self.state.with_(**changes)
        if new == self.state:
            return False
        self.state = new
        self._save()
        return True

    def retry(self, now: float) -> None:
        if self.unsaved and now >= self._next_try:
            self._save()

    def _save(self) -> None:
        try:
            self.store.save(self.state)
        except OSError as exc:
            self._next_try = self._mono() + self._retry_s
            spare = self.store.save_spare(self.state)
            kept = (f"kept in memory ({self.store.spare}) over a restart" if not spare
                    else f"not even in memory ({spare}): lost at a restart")  # fmt: skip
            if not self.unsaved:
                self._health.report(ProblemKind.STATE_UNSAVED,
                                    f"cannot save runtime state to {self.store.path}: {exc};"
                                    f" {kept}; tried again every {self._retry_s:.0f} s",
                                    )  # fmt: skip
            self.unsaved = f"cannot be saved to {self.store.path} ({exc.strerror or exc}); {kept}"
            return
        if self.unsaved:
            logger.info("runtime state saved to %s again", self.store.path)
            self._health.clear(ProblemKind.STATE_UNSAVED)
        self.unsaved = ""


def _allowed(state: RuntimeState, taxonomy: Taxonomy) -> RuntimeState:
    """A saved override of a mood this config no longer has (forbidden, another taxonomy) is
    dropped with a warning instead of failing on every reading."""
    if state.override_mood is None or state.override_mood in taxonomy.names:
        return state
    logger.warning("saved mood override %r is not a mood of %s here: dropped",
                   state.override_mood, taxonomy.name)  # fmt: skip
    return state.with_(override_mood=None, override_until=None)
