"""Broker problems in words: each cause of a failed connection named, with what to check.

Before, an unresolvable name, a closed port and TLS against a plaintext port all read
"disconnected", and a wrong password "Unspecified error" (credentials: tests/test_reliability.py).
"""

from __future__ import annotations

from moodcast.config.settings import MqttSettings
from moodcast.edge.commands.command_gate import CommandGate
from moodcast.edge.commands.remote_commands import CommandTable
from moodcast.edge.events import BrokerStatus, EventQueue
from moodcast.edge.mqtt.link import MqttLink
from tests.conftest import Broker, free_port


def _first_failure(settings: MqttSettings) -> str:
    events = EventQueue()
    link = MqttLink(settings, events, CommandGate(CommandTable(["calm"], 60.0)))
    link.start()
    try:
        for _ in range(100):
            event = events.get(timeout=0.1)
            if isinstance(event, BrokerStatus) and not event.connected:
                return event.detail
    finally:
        link.stop()
    raise AssertionError("no failure reported")


def test_an_unresolvable_name_is_named() -> None:
    detail = _first_failure(MqttSettings(host="no-such-broker.invalid"))
    assert "cannot be resolved" in detail and "mqtt.host" in detail


def test_a_closed_port_is_said_to_refuse() -> None:
    detail = _first_failure(MqttSettings(port=free_port()))
    assert "refused the connection" in detail and "mqtt.port" in detail


def test_tls_against_a_plaintext_port_is_named(broker: Broker) -> None:
    detail = _first_failure(MqttSettings(port=broker.port, tls=True))
    assert "TLS" in detail and "8883" in detail
