"""``moodcast fleet``: one service for a chain's boxes, on a server (not the Pi).

It subscribes to every device's retained state and availability on the chain's broker, keeps
them in its database, raises an alert for a shop that should be playing but is offline,
paused, silent or in trouble for ``alerts.after_s`` (never for a closed one), POSTs each
alert and its clearing to a webhook (retried), and serves a page and ``GET /api/devices``.
paho's callbacks only enqueue; one thread decides, like the device's daemon.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from moodcast.config.fleet import FleetConfig
from moodcast.config.settings import MqttSettings
from moodcast.config.text import MAX_ROW_ID, finite_number, parse_json, safe_text, whole_number
from moodcast.edge.fleet.database import DatabaseError
from moodcast.edge.fleet.store import FleetStore
from moodcast.edge.fleet.watch import Alerting, Seen
from moodcast.edge.status.device_state import SCHEMA_VERSION

logger = logging.getLogger(__name__)

MAX_STATE_BYTES = 256 * 1024  # a device's state is a few KiB
MAX_PLAYS_BYTES = 1024 * 1024  # a batch of 100 plays is ~40 KiB
COMMAND_RESEND_S = 30.0  # a command not acknowledged by then is sent again
_DEVICE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")  # a device id; longer ones are no box's


class Webhook:
    """POSTs alerts as JSON on a thread of its own, retried with a doubling wait."""

    def __init__(self, url: str | None, retries: int, delivered: Callable[[int], None],
                 timeout_s: float = 10.0) -> None:  # fmt: skip
        """``timeout_s``: a webhook that does not answer by then counts as a failed try."""
        self.url, self.retries, self._delivered = url, retries, delivered
        self.timeout_s = timeout_s
        self._queue: queue.Queue[tuple[int, dict[str, Any]] | None] = queue.Queue(1000)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        if self.url is not None:
            self._thread = threading.Thread(target=self._run, name="webhook", daemon=True)
            self._thread.start()

    def send(self, alert_id: int, body: dict[str, Any]) -> None:
        if self.url is not None:
            try:
                self._queue.put_nowait((alert_id, body))
            except queue.Full:
                logger.error("webhook: 1,000 alerts wait; alert %d not sent", alert_id)

    def stop(self) -> None:
        self._stop.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            item = self._queue.get()
            if item is None:
                return
            alert_id, body = item
            wait = 1.0
            for attempt in range(self.retries + 1):
                problem = self._post(body)
                if not problem:
                    if body.get("state") == "raised":
                        self._delivered(alert_id)
                    break
                logger.warning("webhook %s: %s (try %d of %d)", self.url, problem, attempt + 1,
                               self.retries + 1)  # fmt: skip
                if self._stop.wait(wait):
                    return
                wait *= 2

    def _post(self, body: dict[str, Any]) -> str:
        assert self.url is not None
        request = urllib.request.Request(self.url, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"},
                                         method="POST")  # fmt: skip
        try:
            with urllib.request.urlopen(
                request, timeout=self.timeout_s
            ) as answer:  # http(s): checked in config
                return "" if 200 <= answer.status < 300 else f"answered {answer.status}"
        except urllib.error.HTTPError as exc:
            return f"answered {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            return f"unreachable ({exc})"


class FleetService:
    def __init__(self, config: FleetConfig, store: FleetStore,
                 clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.config, self.store, self.clock = config, store, clock
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue(10_000)
        self.dropped = 0
        self.alerting = Alerting(config.alerts.after_s, raised=store.open_alert_keys())
        self.webhook = Webhook(config.alerts.webhook, config.alerts.retries, store.delivered)
        self._stop = threading.Event()
        self._client: Any = None
        self.broker = "disconnected"
        self._acked: set[str] = set()  # devices told where their play log stands
        self.database_problem = ""  # why the database cannot be used now ('' when it can)
        self._said_schema: dict[str, Any] = {}  # a device's other schema, said once

    def start(self) -> None:
        from moodcast.edge.mqtt.client import build_client

        b = self.config.broker
        settings = MqttSettings(host=b.host, port=b.port, username=b.username,
                                password=b.password, tls=b.tls, ca_file=b.ca_file,
                                keepalive_s=b.keepalive_s)  # fmt: skip
        client = build_client(settings, f"moodcast-fleet-{int(self.clock())}")
        prefix = b.topic_prefix
        client.on_connect = lambda c, _u, _f, rc, _p: self._on_connect(c, rc, prefix)
        client.on_disconnect = lambda _c, _u, _f, rc, _p: self._set_broker(f"disconnected ({rc})")
        client.on_message = lambda _c, _u, msg: self._enqueue(msg.topic, bytes(msg.payload))
        client.reconnect_delay_set(1, 30)
        client.connect_async(b.host, b.port, keepalive=b.keepalive_s)
        client.loop_start()
        self._client = client
        self.webhook.start()

    def _on_connect(self, client: Any, rc: Any, prefix: str) -> None:
        if rc.is_failure:
            self._set_broker(f"refused: {rc}")
            return
        self._set_broker("connected")
        client.subscribe([(f"{prefix}/+/state", 1), (f"{prefix}/+/availability", 1),
                          (f"{prefix}/+/plays", 1), (f"{prefix}/+/fleet/ack", 1)])  # fmt: skip
        self._acked.clear()  # each device told its mark again (retained) in this session

    def _set_broker(self, status: str) -> None:
        self.broker = status
        logger.info("fleet: broker %s", status)

    def _enqueue(self, topic: str, payload: bytes) -> None:
        try:
            self.messages.put_nowait((topic, payload))
        except queue.Full:
            self.dropped += 1

    def stop(self) -> None:
        self._stop.set()
        if self._client is not None:
            self._client.loop_stop()
            self._client.disconnect()
        self.webhook.stop()

    def run(self) -> None:
        """Until :meth:`stop`: messages as they come, the alert rules once a second. A
        database that is gone keeps the message that met it, tried again every 2 s: nothing
        is lost, and the service comes back by itself."""
        next_check, held = 0.0, None
        while not self._stop.is_set():
            if held is None:
                with contextlib.suppress(queue.Empty):
                    held = self.messages.get(timeout=0.2)
            try:
                if held is not None:
                    self._handle_one(*held)
                    held = None
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + 1.0
                    self.check()
                self._database_back()
            except DatabaseError as exc:
                self._database_gone(str(exc))
                self._stop.wait(2.0)

    def _database_gone(self, detail: str) -> None:
        if not self.database_problem:
            logger.error("fleet: the database cannot be used (%s); messages are held and"
                         " tried again", detail)  # fmt: skip
        self.database_problem = detail

    def _database_back(self) -> None:
        if self.database_problem:
            logger.info("fleet: the database is back")
            self.database_problem = ""

    def _handle_one(self, topic: str, payload: bytes) -> None:
        """One message; a database error goes up (the message is held and tried again), any
        other failure drops the message with a log line: one device's bytes must not end the
        thread that listens to every device."""
        try:
            self.handle(topic, payload)
        except DatabaseError:
            raise
        except Exception:
            logger.exception("fleet: a message on %s dropped", safe_text(topic)[:200])

    def handle(self, topic: str, payload: bytes) -> None:
        """One device message; anything malformed is logged and dropped."""
        parts = topic.split("/")
        if len(parts) >= 4 and parts[-2:] == ["fleet", "ack"] and _DEVICE.match(parts[-3]):
            self._on_command_ack(parts[-3], payload)
            return
        if len(parts) < 3 or not _DEVICE.match(parts[-2]):
            return
        device, kind, now = parts[-2], parts[-1], self.clock()
        if device not in self._acked:
            self._ack_plays(device, self.store.last_play(device))
        if kind == "plays":
            self._on_plays(device, payload, now)
            return
        if kind == "availability":
            if payload in (b"online", b"offline"):
                self.store.seen_availability(device, payload == b"online", now)
            return
        if kind != "state" or not payload or len(payload) > MAX_STATE_BYTES:
            return
        try:
            state = parse_json(payload)
        except (ValueError, UnicodeDecodeError):
            logger.warning("fleet: %s sent a state that is not JSON; ignored", device)
            return
        schema = state.get("schema") if isinstance(state, dict) else None
        if schema != SCHEMA_VERSION:  # another version's fields may mean other things
            if self._said_schema.get(device) != schema:
                self._said_schema[device] = schema
                logger.warning("fleet: %s sent a state of schema %r, not %d (docs/state.md):"
                               " not stored; update the box or this service", device,
                               str(schema)[:20], SCHEMA_VERSION)  # fmt: skip
            return
        self.store.seen_state(device, state, now)

    def _on_plays(self, device: str, payload: bytes, now: float) -> None:
        """A batch of a device's play log: kept, then acknowledged (retained), so that the
        device sends on from there, now or after it was offline."""
        plays = parse_plays(payload)
        if plays is None:
            logger.warning("fleet: %s sent plays that are not a play batch; ignored", device)
            return
        self._ack_plays(device, self.store.add_plays(device, plays, now))

    def _ack_plays(self, device: str, last_id: int) -> None:
        if self._client is None:
            return
        prefix = self.config.broker.topic_prefix
        self._client.publish(f"{prefix}/{device}/plays/ack", str(last_id), qos=1, retain=True)
        self._acked.add(device)

    def _on_command_ack(self, device: str, payload: bytes) -> None:
        try:
            body = parse_json(payload[: 16 * 1024])
            raw = body["id"]  # the box echoes the id it was sent: digits as text
            command_id = _row_id(whole_number(raw) if isinstance(raw, str) else raw)
            if command_id is None:
                raise ValueError("not a command id")
            ok, reason = bool(body.get("ok")), safe_text(str(body.get("reason") or ""))[:300]
        except (ValueError, TypeError, KeyError, UnicodeDecodeError):
            logger.warning("fleet: %s sent an acknowledgement that is not one; ignored", device)
            return
        self.store.acked_command(device, command_id, ok, reason, self.clock())

    def send_commands(self, devices: dict[str, Seen], now: float) -> int:
        """Commands waiting for devices that are online now (an offline one gets its own when
        it is back), each sent again every ``COMMAND_RESEND_S`` until acknowledged."""
        if self._client is None:
            return 0
        online = {d for d, seen in devices.items() if seen.online}
        due = self.store.due_commands(online, now - COMMAND_RESEND_S)
        prefix = self.config.broker.topic_prefix
        for c in due:
            body = json.dumps({"id": str(c["id"]), "verb": c["verb"], "payload": c["payload"]})
            self._client.publish(f"{prefix}/{c['device']}/fleet/cmd", body, qos=1)
            self.store.sent_command(c["id"], now)
        return len(due)

    def check(self) -> None:
        """Raise and clear alerts; each one POSTed to the webhook. Send waiting commands."""
        now, devices = self.clock(), self.store.devices()  # read once a second, for both
        self.send_commands(devices, now)
        raised, cleared = self.alerting.step(devices, now)
        for device, kind, text in raised:
            alert_id = self.store.raise_alert(device, kind, text, now)
            logger.warning("fleet alert: %s", text)
            self.webhook.send(alert_id, {"state": "raised", "device": device, "kind": kind,
                                         "text": text, "at": now})  # fmt: skip
        for device, kind in cleared:
            self.store.clear_alert(device, kind, now)
            logger.info("fleet: %s %s cleared", device, kind)
            self.webhook.send(0, {"state": "cleared", "device": device, "kind": kind, "at": now})


_PLAY_TEXT = ("kind", "title", "artist", "album", "isrc", "label", "mood")


def parse_plays(payload: bytes) -> list[dict[str, Any]] | None:
    """A device's play batch, each play checked and its text made safe; None for anything
    that is not one (too big, not JSON, a play without an id or a start)."""
    if len(payload) > MAX_PLAYS_BYTES:
        return None
    try:
        body = parse_json(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    plays = body.get("plays") if isinstance(body, dict) else None
    if not isinstance(plays, list):
        return None
    out: list[dict[str, Any]] = []
    for play in plays:
        if not isinstance(play, dict):
            return None
        pid, started = _row_id(play.get("id")), finite_number(play.get("started_at"))
        seconds = play.get("seconds")
        if pid is None or started is None:
            return None
        if seconds is not None:
            seconds = finite_number(seconds)
            if seconds is None or seconds < 0:
                return None
        text = {k: safe_text(str(play.get(k) or ""))[:300] for k in _PLAY_TEXT}
        out.append({"id": pid, "started_at": started, "seconds": seconds, **text})
    return out


def _row_id(value: object) -> int | None:
    """A positive id SQLite can hold (a bigger one failed the insert of the whole batch)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ROW_ID:
        return None
    return value
