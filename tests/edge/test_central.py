"""Central settings from a fleet: checked as the config is, kept for the next start."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moodcast.config.errors import MoodcastError
from moodcast.config.settings import load_config, with_central
from moodcast.edge.central import central_path, save_central, with_saved_central

GOOD = {"rules": {"rules": [{"name": "calm mornings", "start": "08:00", "end": "11:00",
                             "valence_max": 0.2}]},
        "announcements": [{"name": "close", "text": "We close soon", "at": ["19:50"]}]}  # fmt: skip


def test_central_settings_replace_rules_and_announcements_and_nothing_else() -> None:
    config = load_config(None, {"player.volume": 55, "mqtt.device_id": "shop7"})
    merged = with_central(config, GOOD)
    assert [r.name for r in merged.rules.rules] == ["calm mornings"]
    assert [a.name for a in merged.announcements.items] == ["close"]
    assert merged.player.volume == 55 and merged.mqtt.device_id == "shop7"
    assert merged.announcements.duck_db == config.announcements.duck_db


@pytest.mark.parametrize(("body", "message"), [
    ({"rules": {"rules": [{"name": "x", "start": "9:00"}]}}, "not a time of day"),
    ({"rules": {"rules": [{"name": "x", "include": {"moods": ["spooky"]}}]}}, "not moods"),
    ({"announcements": [{"name": "a b", "text": "x"}]}, "announcements.items.0.name"),
    ({"player": {"volume": 0}}, "an object of 'rules'"),
    ([1, 2], "an object of 'rules'"),
    ({}, "an object of 'rules'"),
])  # fmt: skip
def test_bad_central_settings_are_refused_naming_what_is_wrong(body, message) -> None:
    with pytest.raises(MoodcastError, match=message):
        with_central(load_config(None), body)


def test_kept_settings_apply_at_the_next_start_and_bad_ones_are_left_aside(tmp_path) -> None:
    config = load_config(None, {"state_file": str(tmp_path / "state.json")})
    assert with_saved_central(config) is config  # nothing kept
    assert save_central(config.state_file, json.dumps(GOOD)) == ""
    assert [r.name for r in with_saved_central(config).rules.rules] == ["calm mornings"]
    central_path(config.state_file).write_text('{"rules": {"rules": [{"name": ""}]}}')
    assert with_saved_central(config).rules.rules == []  # the config's own


def test_settings_that_cannot_be_kept_say_why(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    central_path(state).mkdir()  # a folder where the file goes: refused even for root
    assert save_central(state, "{}").startswith("not kept for the next start")


class Link:
    """What FleetSide needs of the MQTT link (the real one is in tests/edge/test_fleet.py)."""

    connected = True

    def __init__(self) -> None:
        self.acks: list[dict] = []

    def publish_fleet_ack(self, data: dict) -> None:
        self.acks.append(data)

    def publish_plays(self, batch: dict) -> None:
        pass


def test_a_resent_fleet_command_is_acknowledged_again_but_applied_once(tmp_path) -> None:
    from moodcast.edge.commands.remote_commands import Skip
    from moodcast.edge.events import CentralSettings, FleetCommand
    from moodcast.edge.fleet_side import FleetSide

    applied: list[object] = []
    configs: list[object] = []
    link = Link()
    side = FleetSide(link, None, lambda: 0.0, applied.append, configs.append)
    config = load_config(None, {"state_file": str(tmp_path / "state.json")})
    for _ in range(3):  # the acknowledgement was lost twice: the fleet sent it again
        side.on_command(FleetCommand("7", Skip()), config)
    assert applied == [Skip()] and len(link.acks) == 3 and all(a["ok"] for a in link.acks)
    side.on_command(FleetCommand("8", CentralSettings(json.dumps(GOOD))), config)
    assert link.acks[-1] == {"id": "8", "ok": True, "reason": ""} and len(configs) == 1
    side.on_command(FleetCommand("9", CentralSettings("{not json")), config)
    assert link.acks[-1]["ok"] is False and "not JSON" in link.acks[-1]["reason"]
    side.on_command(FleetCommand("10", None, "expected a volume"), config)
    assert link.acks[-1] == {"id": "10", "ok": False, "reason": "expected a volume"}
