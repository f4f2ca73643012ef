"""The fleet service's config (``moodcast fleet``): a server's, not a device's.

Strict like the device's config: an unknown key, a bad value, a webhook that is not http(s)
is an error naming the key and its line, before anything starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator

from moodcast.config.settings import FsPath, Strict, read_yaml_mapping, validated


class FleetBroker(Strict):
    host: str = Field("127.0.0.1", min_length=1, description="the chain's broker")
    port: int = Field(1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    tls: bool = False
    ca_file: FsPath | None = None
    topic_prefix: str = Field("moodcast", pattern=r"^[A-Za-z0-9_\-/]+$",
                              description="the devices' mqtt.topic_prefix")  # fmt: skip
    keepalive_s: int = Field(30, ge=5, le=3600)


class FleetWeb(Strict):
    host: str = Field("127.0.0.1", min_length=1, description="address the page listens on")
    port: int = Field(8480, ge=1, le=65535)
    password_hash: SecretStr | None = Field(
        None, description="from 'moodcast web hash-password'; needed off 127.0.0.1"
    )
    session_minutes: float = Field(720, gt=0, le=43200)


class FleetAlerts(Strict):
    after_s: float = Field(300, ge=0, le=86400, description="a condition lasting this long alerts")
    webhook: str | None = Field(None, description="an http(s) URL each alert is POSTed to")
    retries: int = Field(5, ge=0, le=20, description="tries after the first, doubling the wait")

    @field_validator("webhook")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("give an http:// or https:// URL")
        return value


class FleetConfig(Strict):
    broker: FleetBroker = FleetBroker()
    database: str = Field(
        "fleet.db", min_length=1,
        description="an SQLite file, or a PostgreSQL server as postgresql://user:pass@host/db",
    )  # fmt: skip
    groups: dict[str, list[str]] = Field(
        default_factory=dict, description="group name → device ids (every device is in 'all')"
    )
    web: FleetWeb = FleetWeb()
    alerts: FleetAlerts = FleetAlerts()

    @field_validator("database")
    @classmethod
    def _database(cls, value: str) -> str:
        if "://" in value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError(f"{value.split('://', 1)[0]}:// is not a database the fleet can use:"
                             " give an SQLite file path or a postgresql:// URL")  # fmt: skip
        return value


def load_fleet_config(path: Path | None, overrides: dict[str, Any] | None = None) -> FleetConfig:
    raw, text = read_yaml_mapping(path)
    for dotted, value in (overrides or {}).items():
        node = raw
        *parents, last = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return validated(
        FleetConfig, raw, text, f"fleet config file {path}" if path else "fleet config"
    )
