"""Broker problems in words: each cause of a failed connection named, with what to check.

Before, an unresolvable name, a closed port and TLS against a plaintext port all read
"disconnected", and a wrong password "Unspecified error".
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from moodcast.config.settings import MqttSettings
from moodcast.edge.command_gate import CommandGate
from moodcast.edge.events import BrokerStatus, EventQueue
from moodcast.edge.mqtt import MqttLink
from moodcast.edge.remote_commands import CommandTable
from tests.conftest import Broker, free_port, require


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


def test_a_wrong_password_names_the_credentials(tmp_path: Path) -> None:
    require(shutil.which("mosquitto_passwd") is not None, "mosquitto_passwd (mosquitto)")
    passwords = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwords), "shop", "right"],
                   check=True, capture_output=True)  # fmt: skip
    passwords.chmod(0o600)
    b = Broker(tmp_path, f"password_file {passwords}\n", anonymous=False)
    b.start()
    try:
        detail = _first_failure(MqttSettings(port=b.port, username="shop", password="wrong"))
    finally:
        b.kill()
    assert "mqtt.username and mqtt.password" in detail
    assert detail != "Unspecified error"


def test_the_right_password_still_connects(tmp_path: Path) -> None:
    require(shutil.which("mosquitto_passwd") is not None, "mosquitto_passwd (mosquitto)")
    passwords = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwords), "shop", "right"],
                   check=True, capture_output=True)  # fmt: skip
    passwords.chmod(0o600)
    b = Broker(tmp_path, f"password_file {passwords}\n", anonymous=False)
    b.start()
    events = EventQueue()
    settings = MqttSettings(port=b.port, username="shop", password="right")
    link = MqttLink(settings, events, CommandGate(CommandTable(["calm"], 60.0)))
    link.start()
    try:
        seen = [events.get(timeout=0.1) for _ in range(50)]
    finally:
        link.stop()
        b.kill()
    assert any(isinstance(e, BrokerStatus) and e.connected for e in seen)
