"""The box's side of a chain's fleet service: its play log sent (edge/play_sync.py), group
commands applied once and acknowledged by id, central settings checked as its own config,
taken or refused with the reason, and kept for the next start.

Runs on the daemon's thread; everything it sends goes through the MQTT link.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from moodcast.config.errors import MoodcastError
from moodcast.config.settings import MoodcastConfig, with_central
from moodcast.config.text import parse_json
from moodcast.edge.central import save_central
from moodcast.edge.commands.remote_commands import Command
from moodcast.edge.events import CentralSettings, FleetCommand
from moodcast.edge.mqtt.link import MqttLink
from moodcast.edge.play_sync import PlaySource, PlaySync

logger = logging.getLogger(__name__)

REMEMBERED = 256  # command ids whose outcome is kept (a resend is acknowledged, not re-applied)


class FleetSide:
    def __init__(self, link: MqttLink, plays: PlaySource, wall: Callable[[], float],
                 apply: Callable[[Command], None],
                 use_config: Callable[[MoodcastConfig], None]) -> None:  # fmt: skip
        """``apply``: a command, as any sender's; ``use_config``: a config the central
        settings changed, put in force by the daemon."""
        self.link, self._apply, self._use_config = link, apply, use_config
        self.plays = PlaySync(plays, link.publish_plays, wall)
        self._done: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def tick(self, mono: float) -> None:
        if self.link.connected:
            self.plays.tick(mono)

    def on_disconnected(self) -> None:
        self.plays.on_disconnected()

    def on_command(self, event: FleetCommand, config: MoodcastConfig) -> None:
        """Applied once (a resent one, whose acknowledgement was lost, is only acknowledged
        again), then acknowledged by its id."""
        done = self._done.get(event.command_id)
        if done is None:
            reason = event.error
            if isinstance(event.command, CentralSettings):
                reason = self._central(event.command.body, config)
            elif event.command is not None:
                self._apply(event.command)
            done = {"id": event.command_id, "ok": event.command is not None and not reason,
                    "reason": reason}  # fmt: skip
            self._done[event.command_id] = done
            while len(self._done) > REMEMBERED:
                self._done.popitem(last=False)
        self.link.publish_fleet_ack(done)

    def _central(self, body: str, config: MoodcastConfig) -> str:
        """Rules and named announcements from the fleet, in force at once and kept for the
        next start; '' when taken, else why not (the last good settings stay)."""
        try:
            merged = with_central(config, parse_json(body))
        except (ValueError, MoodcastError) as exc:
            reason = str(exc) if isinstance(exc, MoodcastError) else f"not JSON ({exc})"
            logger.warning("central settings refused: %s", reason)
            return reason
        self._use_config(merged)
        problem = save_central(merged.state_file, body)
        logger.info("central settings in force: %d rules, %d named announcements%s",
                    len(merged.rules.rules), len(merged.announcements.items),
                    f" ({problem})" if problem else "")  # fmt: skip
        return ""
