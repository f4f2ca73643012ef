"""Announcements as the conductor drives them: each request's, deck event's and tick's
problem goes to :class:`Health` under one kind, and the state is marked changed, so the
conductor only says when (it never reads the announcer's queue or deck)."""

from __future__ import annotations

from collections.abc import Callable

from moodcast.config.settings import AnnouncementSettings
from moodcast.edge.commands.remote_commands import Announce
from moodcast.edge.music.announcer import Announcer, Pending
from moodcast.edge.status.health import Health
from moodcast.edge.status.problems import ProblemKind
from moodcast.player.decks import DeckEvent


class AnnouncementChannel:
    def __init__(self, announcer: Announcer, health: Health, mono: Callable[[], float]) -> None:
        self._announcer, self._health, self._mono = announcer, health, mono

    @property
    def current(self) -> Pending | None:
        """The one playing now."""
        return self._announcer.current

    @property
    def waiting(self) -> int:
        return len(self._announcer.queue)

    @property
    def holding(self) -> bool:
        """Whether the next track must wait (one plays between tracks, or interrupts)."""
        return self._announcer.holding

    def use(self, settings: AnnouncementSettings) -> None:
        """Named announcements changed while running (central settings)."""
        self._announcer.settings = settings

    def request(self, command: Announce, open_now: bool, scheduled: bool) -> None:
        self._said(self._announcer.request(command, open_now, scheduled, self._mono()))

    def on_deck_event(self, event: DeckEvent) -> bool:
        """Whether the event was the announcement deck's (and so handled here)."""
        if not self._announcer.owns(event):
            return False
        self._said(self._announcer.on_deck_event(event, self._mono()))
        return True

    def between_tracks(self) -> None:
        """The music stopped between tracks: one waiting for a track's end plays now."""
        if self._announcer.busy and self._announcer.current is None:
            self._said(self._announcer.tick(self._mono(), track_ending=True))

    def tick(self, track_ending: bool) -> None:
        if not self._announcer.busy:
            return
        before = self._announcer.current
        problem = self._announcer.tick(self._mono(), track_ending=track_ending)
        if problem or before is not self._announcer.current:
            self._said(problem)

    def _said(self, problem: str) -> None:
        if problem:
            self._health.report(ProblemKind.ANNOUNCEMENT, problem)
        self._health.dirty = True
