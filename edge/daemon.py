"""The composition root: builds every part, starts them in order, stops them in reverse.

config → library → player → reader → camera → conductor → MQTT → scheduler. The daemon's
own thread owns all decisions: it takes events off one bounded queue (from VLC, paho and
the scheduler), hands them to the conductor, and ticks fades and time rules in between.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from edge.camera import describe, make_source
from edge.conductor import Clocks, Conductor
from edge.control import CommandError, CommandTable, Rescan
from edge.discovery import discovery_payload
from edge.events import (
    BrokerStatus,
    CameraStatusChanged,
    CommandReceived,
    DeckEnded,
    DeckFailed,
    DeckStarted,
    EventQueue,
    HomeAssistantOnline,
    MoodRead,
    RescanDone,
    RescanDue,
)
from edge.heap import release_freed_heap
from edge.mqtt import MqttLink
from edge.schedule import JobScheduler
from edge.settings import MoodcastConfig, load_config
from edge.state import StateStore
from edge.watchdog import CameraWatchdog, WatchdogPolicy
from models.readers import MoodReader, active_taxonomy, build_reader_or_scene
from player.decks import Deck, VlcDeck
from player.library import Library
from player.playback import Player
from player.scan import scan

logger = logging.getLogger(__name__)

_TICK_S = 0.2
_STATE_MIN_INTERVAL_S = 0.5
_TRIM_INTERVAL_S = 60.0  # edge/heap.py: stops the resident-memory creep (docs/reliability.md)

DeckFactory = Callable[[int, str, EventQueue], Deck]


class _NoPublisher:
    def publish_state(self, state: dict[str, Any]) -> None:
        pass

    def publish_event(self, name: str, data: dict[str, Any]) -> None:
        pass


class Daemon:
    def __init__(
        self,
        config: MoodcastConfig,
        deck_factory: DeckFactory = VlcDeck,
        clocks: Clocks | None = None,
    ) -> None:
        self.config = config
        self.events = EventQueue()
        self.clocks = clocks or Clocks()
        self._deck_factory = deck_factory
        self._stop = threading.Event()
        self._previous_frame: Any = None
        self._rescan: threading.Thread | None = None
        self.conductor: Conductor | None = None
        self.mqtt: MqttLink | None = None
        self._reader: MoodReader | None = None
        self._watchdog: CameraWatchdog | None = None
        self._commands: CommandTable | None = None
        self._last_state_at = 0.0
        self._last_trim_at = 0.0

    def stop(self) -> None:
        self._stop.set()

    def run(self, duration: float | None = None) -> None:
        """Run until stop() (or SIGINT/SIGTERM via cmd_run) or for ``duration`` seconds."""
        deadline = None if duration is None else self.clocks.mono() + duration
        with ExitStack() as stack:
            self._start(stack)
            while not self._stop.is_set():
                if deadline is not None and self.clocks.mono() >= deadline:
                    break
                event = self.events.get(timeout=_TICK_S)
                if event is not None:
                    self._handle(event)
                self._tick()
            logger.info("stopping")
        logger.info("stopped")

    # -- lifecycle -------------------------------------------------------------------------

    def _start(self, stack: ExitStack) -> None:
        config = self.config
        taxonomy = active_taxonomy(config)
        library = stack.enter_context(Library(config.library.path))
        decks = [self._deck_factory(i, config.player.audio_output, self.events) for i in (0, 1)]
        pc = config.player
        player = Player(decks, pc.crossfade_s, pc.fade_s, pc.volume)
        stack.callback(player.release)
        stack.callback(player.stop, 0.0, False)
        self._reader, reader_problem = build_reader_or_scene(config, taxonomy)
        if reader_problem:
            logger.error("%s", reader_problem)
        cam = config.camera
        live = describe(cam.source) in {"device", "stream"}  # files may hold still scenes
        policy = WatchdogPolicy(
            cam.stall_timeout_s, cam.retry_interval_s, cam.retry_max_s, detect_frozen=live
        )
        self._watchdog = CameraWatchdog(lambda: make_source(cam.source, cam.loop), policy)
        stack.callback(self._watchdog.close)
        publisher: Any = _NoPublisher()
        if config.mqtt.enabled:
            self.mqtt = MqttLink(config.mqtt, self.events)
            publisher = self.mqtt
        store = StateStore(config.state_file)
        self.conductor = Conductor(config, taxonomy, library, player, publisher, store, self.clocks)
        self.conductor.reader_detail = reader_problem
        self.conductor.reload_library()
        player.set_volume(self.conductor.state.volume)
        self._commands = CommandTable(taxonomy.names, config.smoothing.override_minutes)
        if self.mqtt is not None:
            _warn_if_exposed(config)
            self.mqtt.start()
            stack.callback(self.mqtt.stop)
        scheduler = JobScheduler(
            config.schedule, config.library.rescan_time, self.events, self._capture
        )
        scheduler.start()
        stack.callback(scheduler.stop)
        stack.callback(self._join_rescan)
        logger.info("moodcast running: %d playable tracks", len(self.conductor.selector.tracks))

    def _join_rescan(self) -> None:
        if self._rescan is not None:
            self._rescan.join(timeout=30)

    # -- scheduler thread ------------------------------------------------------------------

    def _capture(self) -> None:
        """Capture job (APScheduler thread, never overlapping): read a frame, enqueue its mood."""
        watchdog, reader = self._watchdog, self._reader
        if watchdog is None or reader is None:
            return
        before = (watchdog.status, watchdog.detail)
        frame = watchdog.read(self.clocks.mono())
        if (watchdog.status, watchdog.detail) != before:
            self.events.put(CameraStatusChanged(watchdog.status, watchdog.detail))
        if frame is None:
            self._previous_frame = None
            return
        try:
            estimate = reader.read(frame, self._previous_frame)
        except Exception:  # a reader bug must not stop the capture job for good
            logger.exception("frame reader failed")
            return
        self._previous_frame = frame
        self.events.put(MoodRead(estimate, self.clocks.mono()))

    # -- daemon thread ---------------------------------------------------------------------

    def _handle(self, event: object) -> None:
        c = self.conductor
        assert c is not None
        if isinstance(event, DeckStarted | DeckEnded | DeckFailed):
            outcome = c.player.on_deck_event(event, self.clocks.mono())
            if outcome is not None:
                c.on_playback(outcome)
        elif isinstance(event, MoodRead):
            c.on_mood(event.estimate, event.at)
        elif isinstance(event, CameraStatusChanged):
            c.camera, c.camera_detail, c.dirty = event.status, event.detail, True
        elif isinstance(event, CommandReceived):
            self._on_command(event)
        elif isinstance(event, BrokerStatus):
            self._on_broker(event)
        elif isinstance(event, HomeAssistantOnline):
            self._announce()
        elif isinstance(event, RescanDue):
            self._start_rescan()
        elif isinstance(event, RescanDone):
            if event.error:
                c.error(f"rescan failed: {event.error}")
            else:
                logger.info("rescan: %s", event.summary)
                c.publisher.publish_event("rescan_done", {"summary": event.summary})
            c.reload_library()

    def _on_command(self, event: CommandReceived) -> None:
        c, table = self.conductor, self._commands
        assert c is not None and table is not None
        try:
            command = table.parse(event.verb, event.payload)
        except CommandError as exc:
            logger.warning("rejected command %r: %s", event.verb[:40], exc)
            if self.mqtt is not None:
                self.mqtt.publish_error({"command": event.verb[:40], "error": str(exc)})
            return
        logger.info("command %s", command)
        if isinstance(command, Rescan):
            self._start_rescan()
        c.on_command(command)

    def _on_broker(self, event: BrokerStatus) -> None:
        c = self.conductor
        assert c is not None and self.mqtt is not None
        if event.connected:
            logger.info("MQTT connected to %s:%d", self.config.mqtt.host, self.config.mqtt.port)
            self.mqtt.on_connected()
            self._announce()
            c.broker = "connected"
        else:
            if self.mqtt.connected or c.broker != event.detail:
                logger.warning("MQTT not connected: %s", event.detail)
            self.mqtt.connected = False
            c.broker = event.detail

    def _announce(self) -> None:
        c, link = self.conductor, self.mqtt
        if c is None or link is None or not link.connected:
            return
        if self.config.mqtt.discovery:
            link.publish_discovery(
                discovery_payload(link.base, link.settings.device_id, c.taxonomy.names)
            )
        link.publish_state(c.snapshot())
        c.dirty = False

    def _start_rescan(self) -> None:
        dirs = self.config.library.music_dirs
        if not dirs:
            if self.conductor is not None:
                self.conductor.error("rescan: no folders configured (set library.music_dirs)")
            return
        if self._rescan is not None and self._rescan.is_alive():
            return
        self._rescan = threading.Thread(target=self._rescan_worker, name="rescan", daemon=True)
        self._rescan.start()

    def _rescan_worker(self) -> None:
        try:
            with Library(self.config.library.path) as library:
                report = scan(library, self.config.library.music_dirs, active_taxonomy(self.config))
            summary = (
                f"{report.seen} files, {report.added_or_changed} new or changed, "
                f"{report.removed} removed"
            )
            self.events.put(RescanDone(summary, ""))
        except Exception as exc:  # reported to the daemon, which keeps playing
            self.events.put(RescanDone("", str(exc)))

    def _tick(self) -> None:
        c = self.conductor
        assert c is not None
        c.tick()
        now = self.clocks.mono()
        if c.dirty and now - self._last_state_at >= _STATE_MIN_INTERVAL_S:
            c.dirty = False
            self._last_state_at = now
            c.publisher.publish_state(c.snapshot())
        if now - self._last_trim_at >= _TRIM_INTERVAL_S:
            self._last_trim_at = now
            release_freed_heap()


def _warn_if_exposed(config: MoodcastConfig) -> None:
    m = config.mqtt
    loopback = m.host in {"localhost", "::1"} or m.host.startswith("127.")
    if not loopback and not m.tls and not m.username:
        logger.warning(
            "MQTT broker %s is not on this machine and the connection is anonymous and "
            "unencrypted: anyone on the network can control playback. Set mqtt.username, "
            "mqtt.password and mqtt.tls.",
            m.host,
        )


def overrides_from_flags(args: argparse.Namespace) -> dict[str, Any]:
    """Dotted config keys from the common command-line flags (flags win over the file)."""
    out: dict[str, Any] = {}
    if args.library:
        out["library.path"] = str(args.library)
    if args.camera is not None:
        out["camera.source"] = args.camera
    if args.broker:
        host, _, port = args.broker.rpartition(":") if ":" in args.broker else (args.broker, "", "")
        out["mqtt.host"] = host
        if port:
            out["mqtt.port"] = port
    if args.no_mqtt:
        out["mqtt.enabled"] = False
    if args.device_id:
        out["mqtt.device_id"] = args.device_id
    if args.audio_output:
        out["player.audio_output"] = args.audio_output
    if args.interval is not None:
        out["schedule.capture_interval_s"] = args.interval
    return out


def cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config, overrides_from_flags(args))
    logging.getLogger().setLevel(config.log_level if not args.verbose else "DEBUG")
    daemon = Daemon(config)
    previous = {
        sig: signal.signal(sig, lambda *_: daemon.stop()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        daemon.run(duration=args.duration)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
