"""JSON nested deeper than the parser goes, at every door it comes in by.

Python's json raises RecursionError for it, which is not a ValueError. A few kilobytes of
brackets on a box's fleet command topic ended paho's network thread: the box heard no command
more and said nothing more while still looking connected. The same bytes in the state file
or the kept central settings stopped the daemon from starting, and from one device they
ended the fleet's worker. Each door now refuses them as it refuses any other bad JSON.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from moodcast.config.settings import MqttSettings, load_config
from moodcast.config.text import parse_json
from moodcast.edge.commands.command_gate import CommandAccepted, CommandGate
from moodcast.edge.commands.remote_commands import CommandError, CommandTable, SetVolume
from moodcast.edge.events import BrokerStatus, CentralSettings, EventQueue, FleetCommand
from moodcast.edge.mqtt.link import MqttLink, fleet_command
from tests.conftest import Broker, free_port

DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 5000 + "1" + "}" * 5000


def test_parse_json_says_what_is_wrong_with_json_nested_too_deep() -> None:
    assert parse_json('{"a": [1, 2]}') == {"a": [1, 2]}
    for text in (DEEP, DEEP_OBJECT, DEEP.encode()):
        with pytest.raises(ValueError, match="nested too deep"):
            parse_json(text)
    with pytest.raises(ValueError):
        parse_json("{not json")


def test_the_command_doors_refuse_it() -> None:
    gate = CommandGate(CommandTable(["calm"], 60.0))
    assert fleet_command(DEEP_OBJECT.encode(), gate) is None
    with pytest.raises(CommandError):  # longer than a command may be, before any parsing
        CommandTable(["calm"], 60.0).parse("mood", DEEP_OBJECT.encode())


def test_central_settings_nested_too_deep_are_refused_and_the_last_good_ones_kept(
    tmp_path: Path,
) -> None:
    from moodcast.edge.central import central_path, with_saved_central
    from moodcast.edge.fleet_side import FleetSide
    from tests.edge.test_central import Link

    config = load_config(None, {"state_file": str(tmp_path / "state.json")})
    link, configs = Link(), list[object]()
    side = FleetSide(link, None, lambda: 0.0, lambda _c: None, configs.append)
    side.on_command(FleetCommand("1", CentralSettings(DEEP)), config)
    assert link.acks[-1]["ok"] is False and "nested too deep" in link.acks[-1]["reason"]
    assert configs == []
    central_path(config.state_file).write_text(DEEP_OBJECT)  # kept by an earlier release
    assert with_saved_central(config) is config  # the config's own rules, and it starts


def test_a_state_file_nested_too_deep_starts_from_the_defaults(tmp_path: Path) -> None:
    from moodcast.edge.status.state import RuntimeState, StateStore

    path = tmp_path / "state.json"
    path.write_text(DEEP_OBJECT)
    assert StateStore(path).load(RuntimeState(volume=40)) == RuntimeState(volume=40)


def test_a_saved_time_no_float_holds_never_stops_the_start(tmp_path: Path) -> None:
    """A 400-digit saved_at beside a spare copy raised OverflowError out of load()."""
    from moodcast.edge.status.state import RuntimeState, StateStore

    path, spare = tmp_path / "state.json", tmp_path / "spare.json"
    huge = "1" + "0" * 400
    path.write_text(f'{{"saved_at": {huge}, "volume": 20}}')
    spare.write_text('{"saved_at": 5, "volume": 30}')
    assert StateStore(path, spare).load(RuntimeState()).volume == 30  # the one with a time
    path.write_text('{"saved_at": 5, "volume": 20}')
    spare.write_text(f'{{"saved_at": {huge}, "volume": 30}}')
    assert StateStore(path, spare).load(RuntimeState()).volume == 20


def test_gpsd_and_the_page_refuse_it() -> None:
    from moodcast.edge.car.gnss import parse_report
    from moodcast.edge.web.forms import form_value

    said = parse_report(DEEP_OBJECT.encode(), 0.0)
    assert isinstance(said, str) and "not JSON" in said
    assert form_value(DEEP_OBJECT.encode(), "volume") is None


def test_the_fleet_drops_it_from_a_device_and_refuses_it_from_the_page(tmp_path: Path) -> None:
    from moodcast.config.fleet import load_fleet_config
    from moodcast.edge.fleet.service import FleetService, parse_plays
    from moodcast.edge.fleet.store import FleetStore
    from moodcast.edge.fleet.web import FleetWeb
    from moodcast.edge.web.app import WebServer

    port = free_port()
    config = load_fleet_config(None, {"web.port": port, "database": str(tmp_path / "f.db")})
    store = FleetStore(config.database)
    service = FleetService(config, store)
    for kind in ("state", "plays", "fleet/ack"):
        service.handle(f"moodcast/shop1/{kind}", DEEP_OBJECT.encode())  # dropped, no raise
    huge = 10**30  # an id SQLite cannot hold: dropped as not an acknowledgement, no raise
    service.handle("moodcast/shop1/fleet/ack", json.dumps({"id": huge, "ok": True}).encode())
    assert parse_plays(DEEP_OBJECT.encode()) is None
    assert "shop1" not in store.devices()
    server = WebServer(FleetWeb(config, config.database, lambda: "connected"))
    server.start()
    try:
        headers = {"X-Requested-By": "moodcast-fleet", "Content-Type": "application/json"}
        for path in ("/api/commands", "/api/settings"):
            answer = httpx.post(f"http://127.0.0.1:{port}{path}", headers=headers,
                                content=DEEP_OBJECT, timeout=10)  # fmt: skip
            assert answer.status_code == 400, (path, answer.text)
    finally:
        server.stop()
        store.close()


def test_a_box_hears_commands_after_a_nested_payload_on_a_real_broker(broker: Broker) -> None:
    """Before, paho's network thread ended on the fleet command below and the volume
    command after it never arrived."""
    events = EventQueue()
    settings = MqttSettings(port=broker.port, device_id="shop1")
    link = MqttLink(settings, events, CommandGate(CommandTable(["calm"], 60.0)))
    link.start()
    sender = mqtt.Client(CallbackAPIVersion.VERSION2)
    try:
        _wait_for(events, lambda e: isinstance(e, BrokerStatus) and e.connected)
        link.on_connected()  # the daemon's thread does this when it hears the link is up
        sender.connect("127.0.0.1", broker.port)
        sender.loop_start()
        time.sleep(0.3)  # the link's subscriptions in place
        for topic, payload in (("fleet/cmd", DEEP_OBJECT), ("cmd/mood", DEEP),
                               ("fleet/cmd", json.dumps({"id": "7", "verb": "settings",
                                                         "payload": DEEP})),
                               ("cmd/volume", "30")):  # fmt: skip
            sender.publish(f"moodcast/shop1/{topic}", payload, qos=1).wait_for_publish(5)
        heard = _wait_for(events, lambda e: isinstance(e, CommandAccepted))
        assert heard.command == SetVolume(30)
    finally:
        sender.loop_stop()
        sender.disconnect()
        link.stop()


def _wait_for(events: EventQueue, match: Callable[[Any], bool], seconds: float = 10.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        event = events.get(timeout=0.2)
        if event is not None and match(event):
            return event
    raise AssertionError("the event never came")


def test_a_config_or_taxonomy_nested_too_deep_is_a_clear_error(tmp_path: Path) -> None:
    """PyYAML reads nesting by recursion too."""
    from moodcast.config.errors import MoodcastError
    from moodcast.config.moods import taxonomy_names
    from moodcast.models.mood import load_taxonomy

    config = tmp_path / "moodcast.yaml"
    config.write_text(f"camera:\n  source: {DEEP}\n")
    with pytest.raises(MoodcastError, match="nested too deep to read"):
        load_config(config)
    taxonomy = tmp_path / "moods.yaml"
    taxonomy.write_text(f"name: x\nmoods: {DEEP}\n")
    with pytest.raises(MoodcastError, match=r"taxonomy file .* is malformed .RecursionError"):
        load_taxonomy(str(taxonomy))
    assert "cannot be read" in str(taxonomy_names(str(taxonomy)))


@pytest.mark.parametrize(
    ("payload", "last_id"),
    [(b"0", 0), (b" 123 ", 123), (b"9223372036854775807", 2**63 - 1),
     (b"9223372036854775808", None), (b"99999999999999999999999", None), (b"-1", None),
     (b"\xc2\xb2", None), (b"", None), (b"12a", None), (b"1e3", None)],
)  # fmt: skip
def test_a_plays_acknowledgement_is_a_play_id_sqlite_can_hold(
    payload: bytes, last_id: int | None
) -> None:
    from moodcast.edge.mqtt.link import plays_ack

    assert plays_ack(payload) == last_id
