"""The MQTT link (paho-mqtt 2.x): availability, retained state, events, and commands.

paho's callbacks run on its network thread: they only turn messages into domain events on
the daemon's queue. "Connected" means the broker accepted the connection (reason code
success), not merely that a socket opened.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import ssl
import sys
from typing import Any

from moodcast.config.settings import MqttSettings
from moodcast.config.text import MAX_ROW_ID, parse_json, safe_text, whole_number
from moodcast.edge.commands.command_gate import CommandGate
from moodcast.edge.commands.remote_commands import CommandError
from moodcast.edge.events import (
    BrokerStatus,
    CentralSettings,
    EventQueue,
    FleetCommand,
    HomeAssistantOnline,
    OtherInstance,
    PlaysAcked,
)
from moodcast.edge.mqtt.client import build_client
from moodcast.player.tags import shown

logger = logging.getLogger(__name__)


class MqttLink:
    def __init__(self, settings: MqttSettings, events: EventQueue, gate: CommandGate) -> None:
        """``gate``: checks commands as they arrive, so only valid ones reach the queue."""
        self._gate = gate
        self.settings = settings
        self.base = f"{settings.topic_prefix}/{settings.device_id}"
        self._events = events
        self._client: Any = None
        self.connected = False
        # Each run announces a token of its own on {base}/instance: a token not ours means a
        # second daemon with this device id. The client id carries it too, so that the two
        # are not kicked off the broker by each other (same client id) forever.
        self.instance = secrets.token_hex(6)

    @property
    def instance_topic(self) -> str:
        return f"{self.base}/instance"

    def announce_instance(self) -> None:
        """Publish this run's token (retained); repeated now and then, so that a daemon that
        connected later hears of this one too."""
        if self._client is not None:
            self._client.publish(self.instance_topic, self.instance, qos=1, retain=True)

    @property
    def ha_status_topic(self) -> str:
        return f"{self.settings.discovery_prefix}/status"

    def start(self) -> None:
        s = self.settings
        client = build_client(s, f"moodcast-{s.device_id}-{self.instance}")
        client.will_set(f"{self.base}/availability", "offline", qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_connect_fail = self._on_connect_fail
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_queued_messages_set(100)
        client.connect_async(s.host, s.port, keepalive=s.keepalive_s)
        client.loop_start()
        self._client = client

    # paho's thread: translate and enqueue only.
    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason_code: Any, _p: Any) -> None:
        failed = bool(reason_code.is_failure)
        detail = refused_in_words(reason_code, self.settings) if failed else str(reason_code)
        self._events.put(BrokerStatus(not failed, detail))

    def _on_connect_fail(self, _c: Any, _u: Any) -> None:
        """paho calls this inside its ``except OSError``: the exception says what failed."""
        self._events.put(BrokerStatus(False, connect_error_in_words(sys.exc_info()[1],
                                                                    self.settings)))  # fmt: skip

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason_code: Any, _p: Any) -> None:
        self._events.put(BrokerStatus(False, f"disconnected: {reason_code}"))

    def _on_message(self, _c: Any, _u: Any, message: Any) -> None:
        """paho's network thread: an exception here would end it, and the device would hear
        no command and say nothing more while still looking connected. Whatever a message
        holds, it is dropped with a log line instead."""
        try:
            self._route(message)
        except Exception:
            logger.exception("MQTT message on %s dropped", safe_text(str(message.topic))[:200])

    def _route(self, message: Any) -> None:
        topic: str = message.topic
        prefix = f"{self.base}/cmd/"
        if topic.startswith(prefix):
            verb, payload = topic[len(prefix) :], bytes(message.payload)
            event = self._gate.admit(verb, payload, retained=bool(message.retain))
            if event is not None:
                self._events.put(event)
        elif topic == self.instance_topic:
            token = bytes(message.payload).decode("utf-8", "replace")[:40]
            if token and token != self.instance:
                self._events.put(OtherInstance(token))
        elif topic == f"{self.base}/fleet/cmd":
            order = fleet_command(bytes(message.payload), self._gate)
            if order is not None:
                self._events.put(order)
        elif topic == f"{self.base}/plays/ack":
            last_id = plays_ack(bytes(message.payload))
            if last_id is not None:  # anything else is not the fleet's: ignored
                self._events.put(PlaysAcked(last_id))
        elif topic == self.ha_status_topic and bytes(message.payload) == b"online":
            self._events.put(HomeAssistantOnline())

    # The daemon's thread.
    def on_disconnected(self) -> None:
        """The daemon's thread heard the link is down: nothing is sent until it is back."""
        self.connected = False

    def on_connected(self) -> None:
        """Subscribe and announce availability; called once the broker accepted us."""
        self.connected = True
        self.announce_instance()  # before subscribing: the retained token we get back is ours
        self._client.subscribe([(f"{self.base}/cmd/+", 1), (self.ha_status_topic, 0),
                                (self.instance_topic, 1),
                                (f"{self.base}/plays/ack", 1),
                                (f"{self.base}/fleet/cmd", 1)])  # fmt: skip
        self._client.publish(f"{self.base}/availability", "online", qos=1, retain=True)

    def publish_state(self, state: dict[str, Any]) -> None:
        self._publish(f"{self.base}/state", state, retain=True, qos=1)

    def publish_event(self, name: str, data: dict[str, Any]) -> None:
        self._publish(f"{self.base}/event/{name}", data, retain=False, qos=0)

    def publish_plays(self, batch: dict[str, Any]) -> None:
        """Plays for the fleet: QoS 1, not retained (the fleet acknowledges what it keeps)."""
        self._publish(f"{self.base}/plays", batch, retain=False, qos=1)

    def publish_fleet_ack(self, data: dict[str, Any]) -> None:
        """A fleet command's outcome, by its id (QoS 1: the fleet shows it on its page)."""
        self._publish(f"{self.base}/fleet/ack", data, retain=False, qos=1)

    def publish_error(self, data: dict[str, Any]) -> None:
        self._publish(f"{self.base}/error", data, retain=False, qos=1)

    def publish_discovery(self, payload: dict[str, Any]) -> None:
        topic = f"{self.settings.discovery_prefix}/device/{self.settings.device_id}/config"
        self._publish(topic, payload, retain=True, qos=1)

    def _publish(self, topic: str, data: dict[str, Any], retain: bool, qos: int) -> None:
        if self._client is None or not self.connected:
            return
        payload = shown(json.dumps(data, ensure_ascii=False))  # file names need not be UTF-8
        self._client.publish(topic, payload, qos=qos, retain=retain)

    def stop(self) -> None:
        client = self._client
        if client is None:
            return
        if self.connected:
            info = client.publish(f"{self.base}/availability", "offline", qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=2.0)
            except (RuntimeError, ValueError):
                logger.warning("could not publish offline availability before stopping")
        client.disconnect()
        client.loop_stop()
        self._client = None
        self.connected = False


def plays_ack(payload: bytes) -> int | None:
    """The play id the fleet holds up to, or None for anything that cannot be one (a number
    SQLite cannot hold would fail every query of the play log after it)."""
    text = payload[:24].decode("ascii", "replace").strip()
    last_id = whole_number(text)
    return last_id if last_id is not None and last_id <= MAX_ROW_ID else None


def fleet_command(payload: bytes, gate: CommandGate) -> FleetCommand | None:
    """``{"id": "…", "verb": "volume", "payload": "30"}`` checked by the same table as every
    command; None for a message with no usable id (nothing to acknowledge it by)."""
    try:
        body = parse_json(payload[: 64 * 1024])
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict):
        return None
    command_id = body.get("id")
    if not isinstance(command_id, str) or not 0 < len(command_id) <= 64:
        return None
    verb, value = body.get("verb"), body.get("payload", "")
    if not isinstance(verb, str) or not isinstance(value, str):
        return FleetCommand(command_id, None, "a fleet command needs a verb and a text payload")
    if verb == "settings":  # checked on the daemon's thread against its config
        return FleetCommand(command_id, CentralSettings(value))
    try:
        return FleetCommand(command_id, gate.parse(verb, value.encode("utf-8", "replace")))
    except CommandError as exc:
        return FleetCommand(command_id, None, str(exc))


def connect_error_in_words(exc: BaseException | None, s: MqttSettings) -> str:
    """Why the broker could not be reached, and what to check."""
    where = f"{s.host}:{s.port}"
    if isinstance(exc, socket.gaierror):
        return f"broker name {s.host!r} cannot be resolved ({exc.strerror}): check mqtt.host"
    if isinstance(exc, ConnectionRefusedError):
        return (f"broker {where} refused the connection: is the broker running, and is"
                " mqtt.port right?")  # fmt: skip
    if isinstance(exc, ssl.SSLError) or (s.tls and isinstance(exc, ConnectionResetError)):
        why = getattr(exc, "reason", None) or exc
        return (f"TLS with broker {where} failed ({why}): is that a TLS port"
                " (mqtt.tls needs the broker's TLS listener, often 8883)?")  # fmt: skip
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"broker {where} did not answer: check the address and the network"
    if isinstance(exc, OSError):
        return f"cannot reach broker {where}: {exc.strerror or exc}"
    return f"cannot reach broker {where}"


def refused_in_words(reason_code: Any, s: MqttSettings) -> str:
    """A broker that answered but refused us: in words, credentials named where they are."""
    value, text = getattr(reason_code, "value", None), str(reason_code)
    if value in (134, 135, 4, 5) or "password" in text.lower() or "authori" in text.lower():
        return (f"{text}: broker {s.host}:{s.port} refused the login; check mqtt.username and"
                " mqtt.password")  # fmt: skip
    if s.username and value == 128:
        return (f"{text}: broker {s.host}:{s.port} refused the connection; with a username"
                " set this is most often a wrong password: check mqtt.username and"
                " mqtt.password")  # fmt: skip
    return f"{text}: broker {s.host}:{s.port} refused the connection"
