"""The play log sent to the chain's fleet service, so that a chain's play reports need no SD
card: plays after the last one the fleet acknowledged, in batches over MQTT (QoS 1).

The fleet keeps a retained acknowledgement per device (``{base}/plays/ack``: the highest play
id it holds), so a box learns where to go on from at every connection, and a box that was
offline, or whose batch was lost, sends what the fleet lacks. No fleet, no acknowledgement:
nothing is sent. Clock-injected; runs on the daemon's thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from moodcast.player.track import Play, TrackStoreError

logger = logging.getLogger(__name__)

BATCH = 100  # plays a message
RESEND_S = 30.0  # a batch not acknowledged by then is sent again
SETTLED_S = 6 * 3600.0  # a play with no end after this long ended with the power


class PlaySource(Protocol):
    def plays_after(self, after_id: int, settled_before: float, limit: int) -> list[Play]: ...


class PlaySync:
    def __init__(self, source: PlaySource, send: Callable[[dict[str, Any]], None],
                 wall: Callable[[], float], resend_s: float = RESEND_S) -> None:  # fmt: skip
        self.source, self.send, self.wall, self.resend_s = source, send, wall, resend_s
        self.acked: int | None = None  # the fleet's mark; None until it has said one
        self._sent_up_to = 0
        self._sent_at = -float("inf")

    def on_ack(self, last_id: int) -> None:
        """The fleet holds every play up to ``last_id`` (it may go back: a new database)."""
        if self.acked is None or last_id != self.acked:
            self._sent_up_to = last_id  # what follows is sent at the next tick
        self.acked = last_id

    def on_disconnected(self) -> None:
        self.acked = None  # heard again, retained, at the next connection

    def tick(self, mono: float) -> int:
        """Send the next batch when due; how many plays went."""
        if self.acked is None:
            return 0
        waiting = self._sent_up_to > self.acked
        if waiting and mono - self._sent_at < self.resend_s:
            return 0
        try:
            plays = self.source.plays_after(self.acked, self.wall() - SETTLED_S, BATCH)
        except TrackStoreError as exc:
            logger.warning("play log not sent to the fleet now (%s); tried again", exc)
            self._sent_at = mono
            return 0
        if not plays:
            return 0
        self.send({"plays": [_wire(p) for p in plays]})
        self._sent_up_to, self._sent_at = int(plays[-1].id or 0), mono
        return len(plays)


def _wire(play: Play) -> dict[str, Any]:
    data = play.to_dict()
    data["id"] = play.id
    data.pop("file", None)  # the box's paths stay on the box
    return data
