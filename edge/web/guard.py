"""Connections the page can never take from the music: caps and a header deadline.

uvicorn's h11 protocol waits for a request's headers as long as a client likes and counts
idle connections against ``limit_concurrency``: seventy idle sockets made every page request
answer 503 for as long as they were held, and ~1,100 used up the daemon's file descriptors so
that tracks failed to open. This protocol closes a connection that has not sent a whole request
head within ``header_timeout_s``, refuses one more than ``per_client`` from one address and one
more than ``total`` in all (closed at once: a file descriptor for a moment, never a slot).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

logger = logging.getLogger(__name__)

PER_CLIENT = 16  # a browser opens ~6; a phone, a laptop and the live streams fit
TOTAL = 128  # far below the unit's LimitNOFILE (8,192): playback and the library keep theirs
HEADER_TIMEOUT_S = 10.0


def guarded_protocol(per_client: int = PER_CLIENT, total: int = TOTAL,
                     header_timeout_s: float = HEADER_TIMEOUT_S) -> type[H11Protocol]:  # fmt: skip
    """An h11 protocol class for uvicorn's ``http=`` with the caps and deadline above; the
    counts are the server's own (one class per server)."""
    open_by: Counter[str] = Counter()
    refused: Counter[str] = Counter()

    class GuardedH11Protocol(H11Protocol):
        _peer = ""
        _deadline: asyncio.TimerHandle | None = None
        _counted = False

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            peer = transport.get_extra_info("peername")
            self._peer = str(peer[0]) if peer else "?"
            if open_by[self._peer] >= per_client or sum(open_by.values()) >= total:
                refused[self._peer] += 1
                if refused[self._peer] in (1, 100, 10_000):  # said, not once per socket
                    logger.warning("page: refused connection %d from %s (at most %d per"
                                   " client, %d in all)", refused[self._peer], self._peer,
                                   per_client, total)  # fmt: skip
                transport.close()
                return
            open_by[self._peer] += 1
            self._counted = True
            self._deadline = self.loop.call_later(header_timeout_s, self._too_slow)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._deadline is not None and self.cycle is not None:  # a whole request head
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            if self.cycle is None and self.transport is not None:
                self.transport.close()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            if self._counted:
                self._counted = False
                open_by[self._peer] -= 1
                if open_by[self._peer] <= 0:
                    del open_by[self._peer]
            super().connection_lost(exc)

    return GuardedH11Protocol
