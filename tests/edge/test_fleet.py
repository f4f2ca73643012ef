"""The fleet service on real parts: Mosquitto carrying devices' retained states, SQLite, a real
HTTP server as the webhook, and the page's API over HTTP."""

from __future__ import annotations

import functools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from moodcast.config.errors import MoodcastError
from moodcast.config.fleet import load_fleet_config
from moodcast.edge.fleet.service import FleetService
from moodcast.edge.fleet.store import FleetStore
from moodcast.edge.fleet.watch import Alerting, Seen, conditions, should_play
from moodcast.edge.fleet.web import FleetWeb
from moodcast.edge.web.app import WebServer
from moodcast.edge.web.auth import hash_password
from tests.conftest import free_port, wait_until

NOW = 1_800_000_000.0


def state(open_: bool, playing: bool = True, paused: bool = False,
          next_change: float | None = NOW + 3600,
          problems: list[dict[str, Any]] | None = None) -> dict[str, Any]:  # fmt: skip
    track = {"id": 1, "title": "t", "artist": "a"} if playing else None
    return {"schema": 1, "open": open_, "paused": paused, "now_playing": track,
            "now_playing_text": "a – t" if playing else "nothing", "mood": "calm",
            "volume": 40, "schedule": {"next_change": next_change},
            "problems": problems or []}  # fmt: skip


@pytest.mark.parametrize(("seen", "expected"), [
    (Seen("a", True, NOW, state(True), NOW), []),
    (Seen("b", False, NOW - 10, state(True), NOW - 10), ["offline"]),
    (Seen("c", False, NOW - 10, state(False), NOW - 10), []),  # closed: never news
    (Seen("d", True, NOW, state(True, playing=False), NOW), ["silent"]),
    (Seen("e", True, NOW, state(True, paused=True), NOW), ["paused"]),
    (Seen("f", True, NOW, state(True, problems=[{"text": "camera lost", "since": NOW}]), NOW),
     ["problem"]),
    # offline since before its opening time came: it should be playing now
    (Seen("g", False, NOW - 7200, state(False, next_change=NOW - 60), NOW - 7200), ["offline"]),
    # offline since before its closing came: not known, not alerted
    (Seen("h", False, NOW - 7200, state(True, next_change=NOW - 60), NOW - 7200), []),
    (Seen("i", False, NOW, {}, 0.0), []),  # never said anything
])  # fmt: skip
def test_what_needs_a_person(seen: Seen, expected: list[str]) -> None:
    assert [c.kind for c in conditions(seen, NOW)] == expected


def test_an_alert_waits_for_after_s_and_clears_when_it_heals() -> None:
    alerting = Alerting(after_s=300)
    down = {"b": Seen("b", False, NOW, state(True), NOW)}
    assert alerting.step(down, NOW + 10) == ([], [])
    raised, _ = alerting.step(down, NOW + 301)
    assert [(d, k) for d, k, _ in raised] == [("b", "offline")]
    assert alerting.step(down, NOW + 400) == ([], [])  # raised once
    up = {"b": Seen("b", True, NOW + 500, state(True), NOW + 500)}
    assert alerting.step(up, NOW + 500) == ([], [("b", "offline")])
    assert should_play(up["b"], NOW + 500) is True


class Hook(BaseHTTPRequestHandler):
    """A webhook receiver that fails its first ``fail`` POSTs with 500."""

    received: ClassVar[list[dict[str, Any]]] = []
    fail: ClassVar[int] = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if Hook.fail > 0:
            Hook.fail -= 1
            self.send_response(500)
        else:
            Hook.received.append(json.loads(body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def test_the_fleet_watches_devices_alerts_a_silent_open_shop_and_serves_them(
    broker, fleet_db: str
) -> None:
    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    Hook.received, Hook.fail = [], 2  # the webhook fails twice first: retried
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    port = free_port()
    config = load_fleet_config(None, {
        "broker.port": broker.port, "database": fleet_db,
        "web.port": port, "alerts.after_s": 0.5,
        "alerts.webhook": f"http://127.0.0.1:{hook.server_address[1]}/alerts",
        "groups": {"north": ["shop1", "shop2"], "south": ["shop3"]},
    })  # fmt: skip
    now = time.time()
    devices = mqtt.Client(CallbackAPIVersion.VERSION2)
    devices.connect("127.0.0.1", broker.port)
    devices.loop_start()

    def say(device: str, body: dict[str, Any] | str, topic: str = "state") -> None:
        payload = body if isinstance(body, str) else json.dumps(body)
        devices.publish(f"moodcast/{device}/{topic}", payload, qos=1,
                        retain=True).wait_for_publish(5)  # fmt: skip

    say("shop1", state(True, next_change=now + 3600))
    say("shop1", "online", "availability")
    say("shop2", state(True, next_change=now + 3600))  # open, then gone: the one to alert
    say("shop2", "offline", "availability")
    say("shop3", state(False, next_change=now + 3600))  # closed and off: nothing
    say("shop3", "offline", "availability")
    say("bad/name", "online", "availability")
    say("shop4", "{not json")
    say("shop5", {**state(True), "schema": 2})  # another schema: not stored, said once
    store = FleetStore(config.database)
    service = FleetService(config, store)
    web = FleetWeb(config, config.database, lambda: service.broker)
    server = WebServer(web)
    server.start()
    service.start()
    worker = threading.Thread(target=service.run, daemon=True)
    worker.start()
    try:
        wait_until(lambda: any(a["state"] == "raised" for a in Hook.received))
        assert [(a["device"], a["kind"]) for a in Hook.received] == [("shop2", "offline")]
        _check_the_api(port)
        say("shop2", "online", "availability")  # it heals
        wait_until(lambda: any(a["state"] == "cleared" for a in Hook.received))
        assert store.alerts()[0].cleared_at is not None
    finally:
        service.stop()
        worker.join(timeout=5)
        server.stop()
        store.close()
        devices.loop_stop()
        devices.disconnect()
        hook.shutdown()


def _check_the_api(port: int) -> None:
    """Every device with its status, a group's, the alerts; a foreign Host refused."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        rows = {d["device"]: d for d in client.get("/api/devices").json()["devices"]}
        assert set(rows) == {"shop1", "shop2", "shop3"}
        assert rows["shop1"]["status"] == "playing" and rows["shop1"]["now_playing"] == "a – t"
        assert rows["shop2"]["status"] == "offline" and rows["shop2"]["should_play"] is True
        assert rows["shop3"]["should_play"] is False
        south = client.get("/api/devices", params={"group": "south"}).json()["devices"]
        assert [d["device"] for d in south] == ["shop3"]
        assert client.get("/api/devices", params={"group": "west"}).status_code == 404
        history = client.get("/api/devices/shop2/history").json()["history"]
        assert history[0]["status"] == "offline" and "silent" not in history[0]["status"]
        assert client.get("/api/devices/nobody/history").status_code == 404
        alerts = client.get("/api/alerts").json()["alerts"]
        assert [(a["device"], a["cleared_at"]) for a in alerts] == [("shop2", None)]
        assert client.get("/api/devices", headers={"Host": "evil.example"}).status_code == 421
        page = client.get("/")
        assert page.status_code == 200 and "moodcast fleet" in page.text


def test_the_fleet_page_needs_its_password(tmp_path: Path) -> None:
    port = free_port()
    config = load_fleet_config(None, {
        "database": str(tmp_path / "f.db"), "web.port": port,
        "web.password_hash": hash_password("pw", n=1024)})  # fmt: skip
    FleetStore(config.database).close()
    server = WebServer(FleetWeb(config, config.database, lambda: "off"))
    server.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            assert client.get("/api/devices").status_code == 401
            assert "Password" in client.get("/").text
            client.post("/login", data={"password": "wrong"})
            assert client.get("/api/devices").status_code == 401
            client.post("/login", data={"password": "pw"})
            assert client.get("/api/devices").json()["devices"] == []
            client.post("/logout")
            assert client.get("/api/devices").status_code == 401
    finally:
        server.stop()


@pytest.mark.parametrize(("overrides", "message"), [
    ({"alerts.webhook": "ftp://x"}, "http:// or https://"),
    ({"database": "mysql://fleet@db/fleet"}, "not a database the fleet can use"),
    ({"web.host": "0.0.0.0"}, "no password"),
    ({"alerts.after_s": -1}, "alerts.after_s"),
])  # fmt: skip
def test_bad_fleet_config_is_refused_by_name(tmp_path: Path, overrides, message) -> None:
    with pytest.raises(MoodcastError, match=message):
        config = load_fleet_config(None, {"database": str(tmp_path / "f.db"), **overrides})
        FleetWeb(config, config.database, lambda: "off")


def test_the_fleet_page_in_a_real_browser(tmp_path: Path) -> None:
    """Chromium shows every device, marks the open shop that plays nothing, shows a device's
    history, filters a group, and sends the group a command (queued: no broker here)."""
    import os

    from tests.conftest import require
    from tests.edge.test_dashboard import CHROMIUM, until

    require(CHROMIUM.is_file(), "chromium (apt install chromium)")
    from playwright.sync_api import sync_playwright

    port = free_port()
    config = load_fleet_config(None, {"database": str(tmp_path / "f.db"), "web.port": port,
                                      "groups": {"north": ["shop1", "shop2"]}})  # fmt: skip
    store = FleetStore(config.database)
    now = time.time()
    store.seen_state("shop1", state(True, next_change=now + 3600), now)
    store.seen_availability("shop1", True, now)
    store.seen_state("shop2", state(True, playing=False, next_change=now + 3600), now)
    store.seen_availability("shop2", True, now)
    store.seen_state("shop3", state(False, playing=False, next_change=now + 3600), now)
    store.raise_alert("shop2", "silent", "shop2 plays nothing during opening hours", now)
    store.close()
    server = WebServer(FleetWeb(config, config.database, lambda: "connected"))
    server.start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1100, "height": 600})
            page.goto(f"http://127.0.0.1:{port}/")
            until(page, "document.querySelectorAll('#devices tr').length === 3")
            assert page.locator("#devices tr:nth-child(2) td.bad").inner_text() == "silent"
            assert "plays nothing" in page.inner_text("#alerts")
            page.locator("#devices tr:nth-child(2)").click()  # shop2's history
            until(page, "!document.getElementById('history-box').hidden")
            assert "History of shop2" in page.inner_text("#history-title")
            assert "silent" in page.inner_text("#history")
            page.select_option("#group", "north")
            until(page, "document.querySelectorAll('#devices tr').length === 2")
            page.fill("#payload", "35")
            page.click("#send button")
            until(page, "document.getElementById('sent').textContent.includes('queued for 2')")
            until(page, "document.querySelectorAll('#commands tr').length === 2")
            assert "waiting for the device to be online" in page.inner_text("#commands")
            out = os.environ.get("MOODCAST_SCREENSHOTS")
            if out:
                page.screenshot(path=str(Path(out) / "fleet.png"), full_page=True)
            browser.close()
    finally:
        server.stop()


def box(tmp: Path, port: int, device_id: str, make_tone, photos: Path) -> Any:
    """A real daemon's config: its own short tracks (a title a spreadsheet would run), library,
    camera folder, the broker at ``port``, audio to libVLC's dummy output."""
    import shutil

    from moodcast.config.settings import load_config
    from moodcast.models.mood import load_taxonomy
    from moodcast.player.library import Library
    from moodcast.player.scan import scan

    home = tmp / device_id
    music = home / "music"
    for i, mood in enumerate(["Sad", "Calm", "Happy", "Energetic", "Dreamy", "Epic"]):
        make_tone(music / f"{i}.ogg", seconds=2.5, freq=300 + 40 * i, artist=f"artist{i}",
                  title=f"=title {i}", mood=mood)  # fmt: skip
    with Library(home / "lib.db") as lib:
        scan(lib, [music], load_taxonomy("cowen13"))
    (home / "camera").mkdir()
    shutil.copy(photos / "coffee.png", home / "camera" / "a.png")
    return load_config(None, {
        "library.path": str(home / "lib.db"), "camera.source": str(home / "camera"),
        "mqtt.port": port, "mqtt.device_id": device_id, "player.audio_output": "dummy",
        "player.crossfade_s": 0.3, "player.fade_s": 0.1, "state_file": str(home / "s.json"),
        "web.enabled": False,
    })  # fmt: skip


def running(config: Any) -> tuple[Any, threading.Thread]:
    from moodcast.edge.daemon import Daemon

    daemon = Daemon(config)
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    return daemon, thread


class Fleet:
    """A fleet service with its page, on a database that outlives it (a restart)."""

    def __init__(self, config: Any) -> None:
        self.store = FleetStore(config.database)
        self.service = FleetService(config, self.store)
        self.server = WebServer(FleetWeb(config, config.database, lambda: self.service.broker))
        self.server.start()
        self.service.start()
        self.worker = threading.Thread(target=self.service.run, daemon=True)
        self.worker.start()

    def stop(self) -> None:
        self.service.stop()
        self.worker.join(timeout=5)
        self.server.stop()
        self.store.close()


def test_play_logs_reach_the_fleet_and_what_it_missed_follows(
    broker, tmp_path: Path, make_tone, photos: Path, vlc_available
) -> None:
    """A real daemon sends its play log over Mosquitto; the fleet keeps each play once and
    acknowledges; while the fleet is down the box keeps playing, and what the fleet missed
    arrives when it is back; the report is a CSV across devices."""
    from moodcast.player.library import Library

    device = box(tmp_path, broker.port, "shop1", make_tone, photos)
    port = free_port()
    config = load_fleet_config(None, {"broker.port": broker.port, "web.port": port,
                                      "database": str(tmp_path / "fleet.db")})  # fmt: skip

    def box_plays() -> list[int]:
        with Library(device.library.path) as lib:
            return [p.id or 0 for p in lib.plays(0, float("inf")) if p.seconds is not None]

    def fleet_plays() -> list[int]:
        store = FleetStore(config.database)
        try:
            return [p["play_id"] for p in store.plays(0, float("inf"), None)]
        finally:
            store.close()

    fleet = Fleet(config)
    daemon, thread = running(device)
    try:
        wait_until(lambda: len(fleet_plays()) >= 2, 40, "two plays at the fleet")
        fleet.stop()  # the fleet goes away; the box plays on
        missed_from = max(fleet_plays())
        wait_until(lambda: len([i for i in box_plays() if i > missed_from]) >= 2, 40,
                   "two plays while the fleet was down")  # fmt: skip
        fleet = Fleet(config)  # back: the box is told where the fleet stands and sends on
        wait_until(lambda: set(box_plays()) <= set(fleet_plays()), 40, "the missed plays")
        held = fleet_plays()
        assert len(held) == len(set(held))  # each play once
        _check_the_report(port, held)
    finally:
        daemon.stop()
        thread.join(timeout=15)
        fleet.stop()


def _check_the_report(port: int, held: list[int]) -> None:
    """The CSV across devices: every play, formula-like text quoted, bad dates in words."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        report = client.get("/api/plays.csv")
        assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
        lines = report.text.splitlines()
        assert lines[0].startswith("device,started,seconds,kind,title")
        assert len(lines) - 1 >= len(held) and "shop1,20" in report.text  # more may come
        assert ",'=title " in report.text  # a formula-like title is quoted
        assert client.get("/api/plays.csv", params={"from": "2026-02-31"}).status_code == 400
        backwards = {"from": "2026-03-02", "to": "2026-03-01"}
        assert client.get("/api/plays.csv", params=backwards).status_code == 400
        assert client.get("/api/plays.csv", params={"group": "west"}).status_code == 404


def _check_central_settings(client: httpx.Client, fleet: Fleet, second: Any) -> None:
    """Rules sent to the group are in force on both boxes (their state says so) and kept for
    the next start; a bad set is refused by each box with the reason, the good one stays."""
    from moodcast.edge.central import central_path

    headers = {"X-Requested-By": "moodcast-fleet"}

    def in_force(device: str) -> list[str]:
        state = fleet.store.devices()[device].state
        return list((state.get("rules") or {}).get("in_force") or [])

    good = {"group": "north", "rules": {"rules": [{"name": "central calm", "valence_max": 0.5}]}}
    assert client.post("/api/settings", headers=headers, json=good).status_code == 202
    for device in ("shop1", "shop2"):
        wait_until(functools.partial(lambda d: in_force(d) == ["central calm"], device), 30,
                   f"{device}'s rules")  # fmt: skip
    assert central_path(second.state_file).is_file()  # kept for the next start
    bad = {"group": "north", "rules": {"rules": [{"name": "typo", "start": "9:00"}]}}
    assert client.post("/api/settings", headers=headers, json=bad).status_code == 202

    def refused() -> list[str]:
        rows = client.get("/api/commands").json()["commands"]
        return [r["status"] for r in rows if r["verb"] == "settings" and "typo" in r["payload"]]

    wait_until(lambda: len(refused()) == 2 and all(s.startswith("refused") for s in refused()),
               30, "the bad settings refused")  # fmt: skip
    assert all("not a time of day" in s for s in refused())
    time.sleep(1.0)
    assert in_force("shop1") == ["central calm"]  # the last good ones stay
    assert (
        client.post(
            "/api/settings", headers=headers, json={"group": "north", "volume": 3}
        ).status_code
        == 400
    )


@pytest.mark.parametrize("payload", [
    b"{not json", b"[]", b'{"plays": 3}', b'{"plays": [{"id": "x", "started_at": 1}]}',
    b'{"plays": [{"id": 1}]}', b'{"plays": [{"id": -1, "started_at": 1}]}',
    b'{"plays": [{"id": 1, "started_at": 1, "seconds": "long"}]}', b"x" * (2 * 1024 * 1024),
    # numbers SQLite or a float cannot hold: before, the insert failed the worker's message
    b'{"plays": [{"id": 1000000000000000000000000000000, "started_at": 1}]}',
    b'{"plays": [{"id": 1, "started_at": 1e999}]}', b'{"plays": [{"id": 1, "started_at": NaN}]}',
    b'{"plays": [{"id": 1, "started_at": 1' + b"0" * 400 + b'}]}',
    b'{"plays": [{"id": true, "started_at": 1}]}', b'{"plays": [{"id": 1, "started_at": true}]}',
    b'{"plays": [{"id": 1, "started_at": 1, "seconds": -5}]}',
    b'{"plays": [{"id": 1, "started_at": 1, "seconds": Infinity}]}',
])  # fmt: skip
def test_a_play_batch_that_is_not_one_is_refused(payload: bytes) -> None:
    from moodcast.edge.fleet.service import parse_plays

    assert parse_plays(payload) is None


def test_a_play_batch_text_is_made_safe() -> None:
    from moodcast.edge.fleet.service import parse_plays

    plays = parse_plays(
        json.dumps(
            {
                "plays": [
                    {
                        "id": 3,
                        "started_at": 1.5,
                        "seconds": 2,
                        "title": "a\x00b\ud800",
                        "artist": None,
                    }
                ]
            }
        ).encode()
    )
    assert plays == [{"id": 3, "started_at": 1.5, "seconds": 2, "kind": "", "title": "ab\ufffd",
                      "artist": "", "album": "", "isrc": "", "label": "", "mood": ""}]  # fmt: skip


def test_group_commands_reach_every_device_offline_ones_when_back(
    broker, tmp_path: Path, make_tone, photos: Path, vlc_available
) -> None:
    """A volume sent to a group is applied by the box online now and by the one that comes
    online later, each acknowledging it; a command the boxes refuse comes back refused with
    the reason; an empty group, a verb that is not for groups and a cross-site POST are not
    sent at all."""
    port = free_port()
    config = load_fleet_config(None, {
        "broker.port": broker.port, "web.port": port, "database": str(tmp_path / "fleet.db"),
        "groups": {"north": ["shop1", "shop2"], "empty": []},
    })  # fmt: skip
    first = box(tmp_path, broker.port, "shop1", make_tone, photos)
    second = box(tmp_path, broker.port, "shop2", make_tone, photos)
    fleet = Fleet(config)
    daemons = [running(first)]
    headers = {"X-Requested-By": "moodcast-fleet"}

    def outcome(client: httpx.Client) -> dict[tuple[str, str], str]:
        rows = client.get("/api/commands").json()["commands"]
        return {(r["device"], r["payload"]): r["status"] for r in rows}

    def volume(device: str) -> Any:
        return fleet.store.devices().get(device, Seen(device, False, 0, {}, 0)).state.get("volume")

    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            wait_until(lambda: "shop1" in fleet.store.devices(), 30, "shop1 seen")
            sent = client.post(
                "/api/commands",
                headers=headers,
                json={"group": "north", "verb": "volume", "payload": "33"},
            )
            assert sent.status_code == 202 and sent.json()["queued"] == 2
            client.post(
                "/api/commands",
                headers=headers,
                json={"group": "north", "verb": "volume", "payload": "loud"},
            )
            wait_until(lambda: volume("shop1") == 33, 30, "shop1 at volume 33")
            wait_until(lambda: outcome(client).get(("shop1", "33")) == "done", 30)
            wait_until(lambda: outcome(client)[("shop1", "loud")].startswith("refused"), 30)
            assert "volume" in outcome(client)[("shop1", "loud")]  # the device's reason
            assert outcome(client)[("shop2", "33")] == "waiting for the device to be online"
            daemons.append(running(second))  # back: its commands follow
            wait_until(lambda: outcome(client).get(("shop2", "33")) == "done", 40)
            wait_until(lambda: volume("shop2") == 33, 30, "shop2 at volume 33")
            assert outcome(client)[("shop2", "loud")].startswith("refused")
            _check_central_settings(client, fleet, second)
            empty = client.post(
                "/api/commands",
                headers=headers,
                json={"group": "empty", "verb": "skip", "payload": ""},
            )
            assert empty.status_code == 409 and "no devices" in empty.json()["error"]
            assert (
                client.post(
                    "/api/commands",
                    headers=headers,
                    json={"group": "north", "verb": "rescan", "payload": ""},
                ).status_code
                == 400
            )
            assert (
                client.post(
                    "/api/commands", json={"group": "north", "verb": "skip", "payload": ""}
                ).status_code
                == 403
            )
            assert (
                client.post("/api/commands", headers=headers, content=b"{not json").status_code
                == 400
            )
    finally:
        for daemon, thread in daemons:
            daemon.stop()
            thread.join(timeout=15)
        fleet.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def fleet_db(request, tmp_path: Path) -> str:
    """The fleet's database: an SQLite file, or a fresh database on a real PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "fleet.db")
    return str(request.getfixturevalue("postgres").new_database())


def test_the_store_keeps_the_same_on_sqlite_and_postgresql(fleet_db: str) -> None:
    store = FleetStore(fleet_db)
    try:
        now = 1_780_000_000.125  # a Unix time keeps its milliseconds (PostgreSQL's REAL would not)
        store.seen_state("shop1", {"schema": 1, "open": True}, now)
        store.seen_availability("shop1", False, now + 1)
        store.seen_availability("shop1", False, now + 2)  # no change: 'since' stays
        seen = store.devices()["shop1"]
        assert seen.online is False and seen.since == now + 1 and seen.state["open"] is True
        assert store.last_seen() == {"shop1": now + 2}
        assert [h["status"] for h in store.history("shop1")] == ["offline", "silent"]  # changes
        first = store.raise_alert("shop1", "offline", "shop1 is offline", now)
        assert store.open_alert_keys() == {("shop1", "offline"): "shop1 is offline"}
        store.delivered(first)
        store.clear_alert("shop1", "offline", now + 5)
        assert store.open_alert_keys() == {} and store.alerts()[0].cleared_at == now + 5
        play = {
            "id": 7,
            "started_at": now,
            "seconds": 3.5,
            "kind": "track",
            "title": "t",
            "artist": "a",
            "album": "",
            "isrc": "",
            "label": "",
            "mood": "calm",
        }
        assert store.add_plays("shop1", [play, {**play, "id": 8}], now) == 8
        assert store.add_plays("shop1", [play], now) == 8  # sent again: kept once
        assert [p["play_id"] for p in store.plays(now - 1, now + 1, None)] == [7, 8]
        assert store.plays(now - 1, now + 1, {"shop2"}) == []
        ids = store.add_commands(["shop1", "shop2"], "north", "volume", "30", now)
        assert len(ids) == 2
        assert [c["device"] for c in store.due_commands({"shop1"}, now)] == ["shop1"]
        store.sent_command(ids[0], now)
        assert store.due_commands({"shop1"}, now - 30) == []  # sent, not yet due again
        store.acked_command("shop1", ids[0], True, "", now + 1)
        store.acked_command("shop2", ids[0], False, "not its command", now + 1)  # ignored
        rows = {c["id"]: c for c in store.commands()}
        assert rows[ids[0]]["ok"] == 1 and rows[ids[1]]["acked_at"] is None
    finally:
        store.close()


def test_the_fleet_holds_messages_while_postgresql_is_down_and_loses_none(
    broker, postgres, tmp_path: Path
) -> None:
    """The database restarts under a running fleet service: a device's state that arrives
    meanwhile is kept in the service and stored once the database is back."""
    config = load_fleet_config(None, {"broker.port": broker.port, "web.port": free_port(),
                                      "database": postgres.new_database()})  # fmt: skip
    devices = mqtt.Client(CallbackAPIVersion.VERSION2)
    devices.connect("127.0.0.1", broker.port)
    devices.loop_start()
    fleet = Fleet(config)
    try:
        devices.publish(
            "moodcast/shop1/availability", "online", qos=1, retain=True
        ).wait_for_publish(5)
        wait_until(lambda: "shop1" in fleet.store.devices(), 20, "shop1 stored")
        postgres.stop()
        devices.publish(
            "moodcast/shop2/availability", "online", qos=1, retain=True
        ).wait_for_publish(5)
        wait_until(lambda: fleet.service.database_problem != "", 20, "the outage said")
        postgres.start_again()
        wait_until(lambda: fleet.service.database_problem == "", 30, "the database back")
        reader = FleetStore(config.database, create=False)
        try:
            wait_until(lambda: "shop2" in reader.devices(), 20, "shop2 stored after the outage")
        finally:
            reader.close()
    finally:
        if not postgres.running():
            postgres.start_again()
        fleet.stop()
        devices.loop_stop()
        devices.disconnect()


def _fleet_users(out: Path, *devices: str) -> dict[str, str]:
    """`moodcast fleet-users` run as a person would; the passwords it wrote."""
    import subprocess
    import sys

    made = subprocess.run([sys.executable, "-m", "moodcast.edge.cli", "fleet-users", *devices,
                           "--out", str(out)], capture_output=True, text=True, timeout=60,
                          check=False)  # fmt: skip
    assert made.returncode == 0, made.stderr
    return dict(line.split(",") for line in (out / "devices.csv").read_text().split()[1:])


def test_generated_broker_users_keep_each_box_to_its_own_topics(tmp_path: Path) -> None:
    """`moodcast fleet-users` on a real Mosquitto: each box's password works only as itself;
    a box holding shop2's password is shop2, and shop2 cannot write under shop1's topics;
    the fleet reads all and sends commands; a password is kept when run again."""
    import shutil
    import tempfile

    from tests.conftest import Broker, require

    require(shutil.which("mosquitto") is not None, "mosquitto")
    folder = Path(tempfile.mkdtemp(prefix="moodcast-users-"))
    folder.chmod(0o755)  # mosquitto reads these as its own user
    out = folder / "broker"
    passwords = _fleet_users(out, "shop1", "shop2")
    assert set(passwords) == {"shop1", "shop2", "fleet"}
    out.chmod(0o755)
    for name in ("passwd", "acl"):
        (out / name).chmod(0o644)  # for this test's broker, which runs as mosquitto
    broker = Broker(folder, f"password_file {out}/passwd\nacl_file {out}/acl\n", anonymous=False)
    broker.start()
    try:
        _check_the_acl(broker.port, passwords)
    finally:
        broker.kill()
    kept = _fleet_users(out, "shop1", "shop2", "shop3")
    assert kept["shop1"] == passwords["shop1"] and "shop3" in kept
    assert oct((out / "devices.csv").stat().st_mode & 0o777) == "0o600"
    shutil.rmtree(folder, ignore_errors=True)


def _check_the_acl(port: int, passwords: dict[str, str]) -> None:
    got: list[tuple[str, bytes]] = []
    shop1_got: list[str] = []
    clients: dict[str, mqtt.Client] = {}
    try:
        for user in ("shop1", "shop2", "fleet"):
            c = mqtt.Client(CallbackAPIVersion.VERSION2)
            c.username_pw_set(user, passwords[user])
            c.connect("127.0.0.1", port)
            c.loop_start()
            clients[user] = c
        clients["fleet"].on_message = lambda _c, _u, m: got.append((m.topic, bytes(m.payload)))
        clients["fleet"].subscribe("moodcast/#", qos=1)
        clients["shop1"].on_message = lambda _c, _u, m: shop1_got.append(m.topic)
        clients["shop1"].subscribe([("moodcast/shop1/fleet/cmd", 1), ("moodcast/shop2/#", 1)])
        time.sleep(0.5)
        for user, topic, payload in (("shop2", "moodcast/shop1/state", "forged"),
                                     ("shop2", "moodcast/shop2/state", "own"),
                                     ("shop1", "moodcast/shop1/state", "mine"),
                                     ("fleet", "moodcast/shop1/fleet/cmd", "{}")):  # fmt: skip
            clients[user].publish(topic, payload, qos=1).wait_for_publish(5)
        wait_until(lambda: ("moodcast/shop1/state", b"mine") in got, 10, got)
        wait_until(lambda: "moodcast/shop1/fleet/cmd" in shop1_got, 10, shop1_got)
        time.sleep(0.3)
        assert ("moodcast/shop1/state", b"forged") not in got
        assert ("moodcast/shop2/state", b"own") in got
        assert not [t for t in shop1_got if t.startswith("moodcast/shop2/")]  # not its to read
        refused: list[Any] = []
        wrong = mqtt.Client(CallbackAPIVersion.VERSION2)
        wrong.username_pw_set("shop1", passwords["shop2"])  # another box's password
        wrong.on_connect = lambda _c, _u, _f, rc, _p: refused.append(rc.is_failure)
        wrong.connect("127.0.0.1", port)
        wrong.loop_start()
        wait_until(lambda: bool(refused), 10, "an answer to the wrong password")
        wrong.loop_stop()
        assert refused == [True] and not wrong.is_connected()
    finally:
        for c in clients.values():
            c.loop_stop()
            c.disconnect()


def test_fleet_users_refuses_names_that_are_not_device_ids(tmp_path: Path) -> None:
    from moodcast.edge.fleet.broker_users import write_users

    with pytest.raises(MoodcastError, match="not device ids"):
        write_users(["shop1", "../etc", "a b"], tmp_path)
    with pytest.raises(MoodcastError, match="not device ids"):
        write_users(["fleet"], tmp_path)


def test_a_shops_bridge_carries_the_box_both_ways_and_holds_messages_while_the_line_is_down(
    tmp_path: Path,
) -> None:
    """config/examples/mosquitto-bridge.conf on two real Mosquittos (the shop's, bridged to a
    central one, TLS and the password left out): the box's state goes out, a fleet command
    comes in, and plays sent while the central broker is down arrive once it is back."""
    from tests.conftest import Broker

    central = Broker(tmp_path)
    central.start()
    conf = Path(__file__).resolve().parents[2] / "config/examples/mosquitto-bridge.conf"
    lines = [line for line in conf.read_text().splitlines()
             if not line.startswith(("listener", "allow_anonymous", "remote_username",
                                     "remote_password", "bridge_cafile"))]  # fmt: skip
    bridge = "\n".join(lines).replace("central.example.com:8883", f"127.0.0.1:{central.port}")
    shop = Broker(tmp_path, bridge.replace("restart_timeout 2 30", "restart_timeout 1 1") + "\n")
    shop.start()
    seen: list[tuple[str, bytes]] = []
    inbox: list[bytes] = []

    def client(port: int, topic: str, into: Any) -> mqtt.Client:
        c = mqtt.Client(CallbackAPIVersion.VERSION2)
        c.on_message = lambda _c, _u, m: into(m)
        c.on_connect = lambda cl, _u, _f, _rc, _p: cl.subscribe(topic, qos=1)
        c.connect("127.0.0.1", port)
        c.loop_start()
        return c

    fleet = client(central.port, "moodcast/#", lambda m: seen.append((m.topic, bytes(m.payload))))
    box = client(shop.port, "moodcast/shop1/fleet/cmd", lambda m: inbox.append(m.payload))
    try:
        time.sleep(1.0)  # the bridge connects
        box.publish("moodcast/shop1/state", '{"schema": 1}', qos=1, retain=True)
        wait_until(lambda: ("moodcast/shop1/state", b'{"schema": 1}') in seen, 15, seen)
        fleet.publish("moodcast/shop1/fleet/cmd", '{"id": "1"}', qos=1)
        wait_until(lambda: inbox == [b'{"id": "1"}'], 15, inbox)
        central.kill()  # the shop's line goes down
        for n in range(3):
            box.publish("moodcast/shop1/plays", f'{{"n": {n}}}', qos=1).wait_for_publish(5)
        central.start()  # and comes back
        wait_until(lambda: len([t for t, _ in seen if t.endswith("/plays")]) == 3, 30, seen)
    finally:
        for c in (fleet, box):
            c.loop_stop()
            c.disconnect()
        shop.kill()
        central.kill()


def test_a_broker_restart_in_a_burst_loses_no_device(broker, tmp_path: Path) -> None:
    """Fifty devices send their states while the broker is killed and started again: the
    fleet reconnects, subscribes again, and holds every device's last state."""
    config = load_fleet_config(None, {"broker.port": broker.port, "web.port": free_port(),
                                      "database": str(tmp_path / "fleet.db")})  # fmt: skip
    fleet = Fleet(config)
    devices = mqtt.Client(CallbackAPIVersion.VERSION2)
    devices.reconnect_delay_set(1, 2)
    devices.connect("127.0.0.1", broker.port)
    devices.loop_start()

    def burst(volume: int) -> None:
        for n in range(50):
            devices.publish(f"moodcast/shop{n:02d}/state", json.dumps({**state(True),
                            "volume": volume}), qos=1, retain=True)  # fmt: skip

    try:
        wait_until(lambda: fleet.service.broker == "connected", 15, "the fleet connected")
        burst(10)
        broker.kill()  # mid-burst: what the clients still hold waits for the broker
        burst(20)
        broker.start()
        wait_until(devices.is_connected, 20, "the devices back")
        burst(30)  # the last word of each device after the restart
        wait_until(lambda: len(fleet.store.devices()) == 50, 30, "every device at the fleet")
        wait_until(lambda: {s.state.get("volume") for s in fleet.store.devices().values()}
                   == {30}, 30, "every device's last state")  # fmt: skip
        assert fleet.service.broker == "connected"
    finally:
        fleet.stop()
        devices.loop_stop()
        devices.disconnect()


def test_the_fleet_over_tls_with_generated_users(tmp_path: Path) -> None:
    """The fleet service and a box on a Mosquitto with TLS and the users and ACL that
    `moodcast fleet-users` wrote: the fleet logs in as its own user, the box's state arrives."""
    import shutil
    import subprocess
    import tempfile

    from tests.conftest import Broker, require

    require(shutil.which("openssl") is not None, "openssl")
    folder = Path(tempfile.mkdtemp(prefix="moodcast-fleet-tls-"))
    folder.chmod(0o755)  # mosquitto reads these as its own user
    out = folder / "broker"
    passwords = _fleet_users(out, "shop1")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True,
                   capture_output=True)  # fmt: skip
    out.chmod(0o755)
    for f in (key, cert, out / "passwd", out / "acl"):
        f.chmod(0o644)
    broker = Broker(folder, f"password_file {out}/passwd\nacl_file {out}/acl\ncafile {cert}\n"
                            f"certfile {cert}\nkeyfile {key}\n", anonymous=False)  # fmt: skip
    broker.start()
    config = load_fleet_config(None, {
        "broker.port": broker.port, "broker.tls": True, "broker.ca_file": str(cert),
        "broker.username": "fleet", "broker.password": passwords["fleet"],
        "web.port": free_port(), "database": str(tmp_path / "fleet.db"),
    })  # fmt: skip
    fleet = Fleet(config)
    box = mqtt.Client(CallbackAPIVersion.VERSION2)
    box.username_pw_set("shop1", passwords["shop1"])
    box.tls_set(ca_certs=str(cert))
    box.connect("127.0.0.1", broker.port)
    box.loop_start()
    try:
        wait_until(lambda: fleet.service.broker == "connected", 15, fleet.service.broker)
        box.publish("moodcast/shop1/state", json.dumps(state(True)), qos=1,
                    retain=True).wait_for_publish(5)  # fmt: skip
        wait_until(lambda: "shop1" in fleet.store.devices(), 15, "shop1's state over TLS")
    finally:
        box.loop_stop()
        box.disconnect()
        fleet.stop()
        broker.kill()
        shutil.rmtree(folder, ignore_errors=True)


def test_a_webhook_that_hangs_is_a_failed_try_and_the_alert_is_sent_again() -> None:
    """The first POST is held without an answer: it times out, is tried again after the
    wait, and the second is taken; the service's own thread never waits on it."""
    from moodcast.edge.fleet.service import Webhook

    class Hanging(BaseHTTPRequestHandler):
        calls: ClassVar[list[float]] = []

        def do_POST(self) -> None:
            Hanging.calls.append(time.monotonic())
            self.rfile.read(int(self.headers["Content-Length"]))
            if len(Hanging.calls) == 1:
                time.sleep(3.0)  # hangs past the webhook's timeout
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hanging)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    delivered: list[int] = []
    hook = Webhook(f"http://127.0.0.1:{server.server_address[1]}/a", 2, delivered.append, 0.5)
    hook.start()
    try:
        sent = time.monotonic()
        hook.send(7, {"state": "raised", "device": "shop1"})
        assert time.monotonic() - sent < 0.1  # queued, not waited on
        wait_until(lambda: delivered == [7], 10, "the alert delivered on the second try")
        assert len(Hanging.calls) == 2
    finally:
        hook.stop()
        server.shutdown()


def test_a_report_from_the_first_to_the_last_day_of_the_calendar_is_the_whole_log() -> None:
    """'from=0001-01-01&to=9999-12-31' answered 400 'year 0 is out of range'."""
    import datetime as dt

    from moodcast.edge.fleet.web import report_span

    low, high = report_span("0001-01-01", "9999-12-31", dt.date(2026, 12, 4))
    assert low <= 2 * 86_400 and dt.datetime.fromtimestamp(high).year == 9999
    with pytest.raises(ValueError, match="is not a date"):
        report_span("2026-02-31", None, dt.date(2026, 12, 4))


def test_a_device_id_longer_than_64_is_no_device(tmp_path: Path) -> None:
    """A device name thousands of characters long was a device at the fleet (and filled its
    log); a box may not be given one either."""
    from moodcast.config.settings import load_config
    from moodcast.edge.status.device_state import SCHEMA_VERSION

    long_id = "a" * 65
    with pytest.raises(MoodcastError, match="device_id"):
        load_config(None, {"mqtt.device_id": long_id})
    config = load_fleet_config(None, {"database": str(tmp_path / "f.db")})
    store = FleetStore(config.database)
    try:
        service = FleetService(config, store)
        state = json.dumps({"schema": SCHEMA_VERSION, "mood": "calm"}).encode()
        service.handle(f"moodcast/{long_id}/state", state)
        service.handle(f"moodcast/{'a' * 64}/state", state)
        assert set(store.devices()) == {"a" * 64}
    finally:
        store.close()


@pytest.mark.parametrize("text", ["hub:²", "hub:x", ":1883", "hub:-1"])
def test_a_broker_option_that_is_no_host_and_port_is_refused(text: str) -> None:
    """'²' passes str.isdigit() and fails int(): refused like any other bad port."""
    from moodcast.edge.fleet.run import broker_override

    with pytest.raises(MoodcastError, match="is not HOST or HOST:PORT"):
        broker_override(text)
    assert broker_override("hub:1883") == {"broker.host": "hub", "broker.port": 1883}
