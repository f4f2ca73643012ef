"""The one place a paho-mqtt client is made: protocol version, login and TLS from the config.

The daemon's link and ``moodcast doctor`` connect the same way, so a broker that accepts the
doctor accepts the daemon.
"""

from __future__ import annotations

import ssl
from typing import Any

from moodcast.config.settings import MqttSettings


def build_client(settings: MqttSettings, client_id: str) -> Any:
    """A paho 2.x client (callback API version 2) logged in and with TLS as configured."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    if settings.username:
        password = settings.password.get_secret_value() if settings.password else None
        client.username_pw_set(settings.username, password)
    if settings.tls:
        ca = str(settings.ca_file) if settings.ca_file else None
        client.tls_set(ca_certs=ca, cert_reqs=ssl.CERT_REQUIRED)
    return client
