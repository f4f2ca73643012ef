"""Home Assistant MQTT device discovery (HA's device-based form: ``dev``, ``o``, ``cmps``).

HA has no MQTT media_player platform, so the device shows as sensors (mood, now playing,
camera), a select (mood override), a number (volume), switches (pause, auto) and buttons.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any


def moodcast_version() -> str:
    try:
        return version("moodcast")
    except PackageNotFoundError:
        return "0+unknown"


def discovery_payload(
    base: str,
    device_id: str,
    moods: Sequence[str],
    announcements: Sequence[str] = (),
    max_volume: int = 100,
    vehicle: bool = False,
) -> dict[str, Any]:
    uid = f"moodcast_{device_id}"

    def cmd(verb: str) -> str:
        return f"{base}/cmd/{verb}"

    components: dict[str, dict[str, Any]] = {
        "mood": {
            "p": "sensor",
            "name": "Mood",
            "value_template": _short("value_json.mood_label | default(value_json.mood)"),
            "json_attributes_topic": f"{base}/state",
            "json_attributes_template": (
                "{{ {'mood': value_json.mood, 'valence': value_json.valence,"
                " 'arousal': value_json.arousal, 'confidence': value_json.confidence,"
                " 'source': value_json.mood_source, 'target': value_json.target} | tojson }}"
            ),
        },
        "now_playing": {
            "p": "sensor",
            "name": "Now playing",
            "value_template": _short("value_json.now_playing_text | default('nothing')"),
            "json_attributes_topic": f"{base}/state",
            "json_attributes_template": "{{ (value_json.now_playing or {}) | tojson }}",
        },
        "camera": {
            "p": "sensor",
            "name": "Camera",
            "value_template": _short("value_json.camera"),
            "json_attributes_topic": f"{base}/state",
            "json_attributes_template": "{{ {'detail': value_json.camera_detail} | tojson }}",
        },
        "last_error": {
            "p": "sensor",
            "name": "Last error",
            "entity_category": "diagnostic",
            "icon": "mdi:alert-circle-outline",
            "value_template": _short("value_json.last_error or 'none'"),
            "json_attributes_topic": f"{base}/state",
            "json_attributes_template": (
                "{{ {'error': value_json.last_error, 'storage': value_json.storage} | tojson }}"
            ),
        },
        "reader": {
            "p": "sensor",
            "name": "Reader",
            "entity_category": "diagnostic",
            "icon": "mdi:eye-outline",
            "value_template": _short("value_json.reader"),
            "json_attributes_topic": f"{base}/state",
            "json_attributes_template": "{{ {'detail': value_json.reader_detail} | tojson }}",
        },
        "mood_override": {
            "p": "select",
            "name": "Mood override",
            "command_topic": cmd("mood"),
            "options": ["auto", *moods],
            "value_template": "{{ value_json.override or 'auto' }}",
        },
        "volume": {
            "p": "number",
            "name": "Volume",
            "command_topic": cmd("volume"),
            "min": 0,
            "max": max_volume,
            "step": 1,
            "value_template": "{{ value_json.volume }}",
        },
        "paused": _switch("Paused", cmd("pause"), "paused"),
        "auto": _switch("Follow the camera", cmd("auto"), "auto"),
        "skip": {"p": "button", "name": "Skip", "command_topic": cmd("skip")},
        "ban": {"p": "button", "name": "Not this track", "command_topic": cmd("ban")},
        "rescan": {"p": "button", "name": "Rescan library", "command_topic": cmd("rescan")},
    }
    for name in announcements:  # a button per configured announcement
        components[f"announce_{name}"] = {
            "p": "button",
            "name": f"Announce {name}",
            "command_topic": cmd("announce"),
            "payload_press": name,
        }
    if vehicle:  # in a car: its speed and what kind of drive it is
        components["speed"] = {
            "p": "sensor",
            "name": "Speed",
            "device_class": "speed",
            "unit_of_measurement": "km/h",
            "value_template": "{{ (value_json.vehicle or {}).speed_kmh }}",
            "json_attributes_topic": f"{base}/state",
            "json_attributes_template": "{{ (value_json.vehicle or {}) | tojson }}",
        }
        components["situation"] = {
            "p": "sensor",
            "name": "Driving situation",
            "value_template": "{{ (value_json.vehicle or {}).situation | default('unknown') }}",
        }
    for key, component in components.items():
        component["unique_id"] = f"{uid}_{key}"
    return {
        "dev": {
            "ids": [uid],
            "name": f"moodcast {device_id}",
            "mf": "moodcast",
            "mdl": "moodcast edge player",
            "sw": moodcast_version(),
        },
        "o": {"name": "moodcast", "sw": moodcast_version()},
        "availability": [
            {
                "topic": f"{base}/availability",
                "payload_available": "online",
                "payload_not_available": "offline",
            }
        ],
        "state_topic": f"{base}/state",
        "qos": 1,
        "cmps": components,
    }


def _short(expression: str) -> str:
    """A template whose text fits HA's 255-character state limit (longer text is rejected
    and the entity shows 'unknown'); the whole text stays in the entity's attributes."""
    return f"{{{{ (({expression}) | string)[:255] }}}}"


def _switch(name: str, command_topic: str, field: str) -> dict[str, Any]:
    return {
        "p": "switch",
        "name": name,
        "command_topic": command_topic,
        "payload_on": "ON",
        "payload_off": "OFF",
        "state_on": "ON",
        "state_off": "OFF",
        "value_template": f"{{{{ 'ON' if value_json.{field} else 'OFF' }}}}",
    }
