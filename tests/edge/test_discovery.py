"""Home Assistant discovery: every template rendered (Jinja, as HA does) against states with
very long texts: each state fits HA's 255 characters, the whole text is in the attributes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from moodcast.edge.mqtt.discovery import discovery_payload

LONG = "x" * 600


def _state(**changes: Any) -> dict[str, Any]:
    state = {"mood": "calm", "mood_label": "calm", "valence": 0.1, "arousal": -0.2,
             "confidence": 0.9, "mood_source": "camera", "target": {"mood": "calm"},
             "now_playing": {"artist": "A" * 300, "title": "T" * 300},
             "now_playing_text": ("A" * 300 + " – " + "T" * 300)[:254] + "…",
             "camera": "error", "camera_detail": LONG, "volume": 30, "paused": False,
             "auto": True, "override": None, "last_error": "E" * 1000,
             "storage": {"library": "ok", "state": "ok"}, "reader": "scene",
             "reader_detail": LONG}  # fmt: skip
    return {**state, **changes}


def _render(template: str, state: dict[str, Any]) -> str:
    env = ImmutableSandboxedEnvironment()
    return env.from_string(template).render(value_json=json.loads(json.dumps(state)))


@pytest.mark.parametrize(
    "state",
    [
        _state(),
        _state(
            now_playing=None,
            now_playing_text="nothing",
            last_error=None,
            reader_detail=None,
            camera="ok",
            camera_detail="",
        ),
    ],
)
def test_every_state_fits_home_assistants_255_characters(state: dict[str, Any]) -> None:
    payload = discovery_payload("moodcast/shop", "shop", ["calm", "joyful"])
    for key, component in payload["cmps"].items():
        if "value_template" in component:
            value = _render(component["value_template"], state)
            assert 0 < len(value) <= 255, (key, len(value))
        if "json_attributes_template" in component:
            json.loads(_render(component["json_attributes_template"], state))


def test_the_full_text_stays_in_the_attributes_and_diagnostics_are_there() -> None:
    payload = discovery_payload("moodcast/shop", "shop", ["calm"])
    cmps = payload["cmps"]
    assert cmps["last_error"]["entity_category"] == "diagnostic"
    assert cmps["reader"]["entity_category"] == "diagnostic"
    state = _state()
    error = json.loads(_render(cmps["last_error"]["json_attributes_template"], state))
    assert error["error"] == "E" * 1000
    playing = json.loads(_render(cmps["now_playing"]["json_attributes_template"], state))
    assert playing["title"] == "T" * 300
    assert _render(cmps["last_error"]["value_template"], _state(last_error=None)) == "none"
    assert _render(cmps["reader"]["value_template"], state) == "scene"
