"""The device as the broker and Home Assistant see it.

Discovery and state answer a Home Assistant birth (at most once per ``discovery_min_s``);
the instance is announced now and then, so two boxes given one device id find each other;
a retained command is refused (said once per verb, with how to clear it); connection
changes go to the state. Runs on the daemon's thread, as handlers of the events the MQTT
link sends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from moodcast.config.settings import MoodcastConfig
from moodcast.edge.events import BrokerStatus, HomeAssistantOnline, OtherInstance, RetainedCommand
from moodcast.edge.mqtt.discovery import discovery_payload
from moodcast.edge.mqtt.link import MqttLink
from moodcast.edge.music.conductor import Conductor
from moodcast.edge.status.health import Health
from moodcast.edge.status.problems import ProblemKind
from moodcast.edge.timing import Timings

logger = logging.getLogger(__name__)


class BrokerPresence:
    def __init__(
        self,
        config: Callable[[], MoodcastConfig],
        link: MqttLink,
        conductor: Conductor,
        health: Health,
        timings: Timings,
        on_disconnected: Callable[[], None],
    ) -> None:
        """``config``: the config in force (central settings may replace it while running);
        ``on_disconnected``: what else must know the link is down (the fleet side)."""
        self._config, self._link, self._conductor, self._health = config, link, conductor, health
        self._timings, self._on_disconnected = timings, on_disconnected
        self._mono = conductor.clocks.mono
        self._retained_seen: set[str] = set()
        self._others_seen: set[str] = set()
        self._discovery_at = -float("inf")  # when discovery and state were last sent
        self._discovery_due = False  # a birth came within discovery_min_s of the last answer
        self._instance_at = 0.0

    def handlers(self) -> dict[type, Callable[[Any], None]]:
        return {
            BrokerStatus: self.on_broker,
            HomeAssistantOnline: lambda _e: self.on_home_assistant(),
            RetainedCommand: lambda e: self.ignore_retained(e.verb),
            OtherInstance: lambda e: self.on_other_instance(e.token),
        }

    def on_broker(self, event: BrokerStatus) -> None:
        link = self._link
        if event.connected:
            mqtt = self._config().mqtt
            logger.info("MQTT connected to %s:%d", mqtt.host, mqtt.port)
            link.on_connected()
            self.send_discovery()
            self._health.set_broker("connected")
            return
        if link.connected or self._health.broker != event.detail:
            logger.warning("MQTT not connected: %s", event.detail)
        link.on_disconnected()
        self._on_disconnected()
        self._health.set_broker(event.detail)

    def on_home_assistant(self) -> None:
        """A birth is answered with discovery and state, at most once per
        ``discovery_min_s``; births within it are answered once when it is over (the queue
        only coalesces births that wait in it: spaced ones each drew ~30 retained messages)."""
        if self._mono() - self._discovery_at >= self._timings.discovery_min_s:
            self.send_discovery()
        else:
            self._discovery_due = True

    def send_discovery(self) -> None:
        link = self._link
        if not link.connected:
            return
        self._discovery_at, self._discovery_due = self._mono(), False
        config = self._config()
        if config.mqtt.discovery:
            link.publish_discovery(
                discovery_payload(
                    link.base,
                    link.settings.device_id,
                    self._conductor.taxonomy.names,
                    [a.name for a in config.announcements.items],
                    config.player.max_volume,
                    config.vehicle.enabled,
                )
            )
        self._conductor.publish_state()

    def on_other_instance(self, token: str) -> None:
        """Said once per other daemon: both keep running, but their states overwrite each
        other and both obey the same commands, which no operator wants."""
        if token in self._others_seen:
            return
        self._others_seen.add(token)
        device = self._config().mqtt.device_id
        self._health.report(
            ProblemKind.DUPLICATE_DEVICE,
            f"another moodcast is using device id {device!r} on this broker (instance {token}):"
            " give each device its own mqtt.device_id (or --device-id)",
        )

    def ignore_retained(self, verb: str) -> None:
        """A retained command is re-sent by the broker on every (re)connect: applying it would
        undo, at each reconnect, whatever the operator set since. It is ignored, and said once
        per verb with how to clear it."""
        verb = verb[:40]
        if verb in self._retained_seen:
            return
        self._retained_seen.add(verb)
        topic = f"{self._link.base}/cmd/{verb}"
        logger.warning("ignoring a retained command on %s (send commands without the retain "
                       "flag; clear it: mosquitto_pub -r -n -t '%s')", topic, topic)  # fmt: skip

    def tick(self, now: float) -> None:
        """A birth that waited is answered; the instance is announced every ``announce_s``."""
        t = self._timings
        if self._discovery_due and now - self._discovery_at >= t.discovery_min_s:
            self.send_discovery()
        if self._link.connected and now - self._instance_at >= t.announce_s:
            self._instance_at = now
            self._link.announce_instance()
