"""The composition root: builds every part, starts them in order, stops them in reverse.

config → library → player → reader → camera → conductor → MQTT → scheduler. The daemon's
own thread owns all decisions: it takes events off one bounded queue (from VLC, paho and
the scheduler), hands them to the conductor, and ticks fades and time rules in between.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from moodcast.config.errors import MoodcastError
from moodcast.config.settings import MoodcastConfig
from moodcast.config.text import is_loopback
from moodcast.edge import fds
from moodcast.edge.camera.sources import describe, make_source
from moodcast.edge.camera.watchdog import CameraWatchdog
from moodcast.edge.car.vehicle_events import vehicle_handlers
from moodcast.edge.central import with_saved_central
from moodcast.edge.commands.command_gate import CommandAccepted, CommandGate, CommandRejected
from moodcast.edge.commands.remote_commands import Announce, Command, CommandTable, Rescan
from moodcast.edge.events import (
    AnnounceDue,
    CameraStatusChanged,
    EventQueue,
    FleetCommand,
    MoodRead,
    PlaysAcked,
    RescanDone,
    RescanDue,
)
from moodcast.edge.fleet_side import FleetSide
from moodcast.edge.mqtt.link import MqttLink
from moodcast.edge.music.announcer import ANNOUNCE_DECK, Announcer
from moodcast.edge.music.conductor import Conductor, NullPublisher, Publisher
from moodcast.edge.music.library_feed import BackgroundFeed, DirectFeed, LibraryFeed
from moodcast.edge.presence import BrokerPresence
from moodcast.edge.rescan import Rescanner
from moodcast.edge.schedule import JobScheduler
from moodcast.edge.status.health import Health
from moodcast.edge.status.problems import ProblemKind
from moodcast.edge.status.state import StateStore
from moodcast.edge.timing import Clocks, Timings
from moodcast.edge.web.board import Fanout, StateBoard
from moodcast.models.heap import release_freed_heap
from moodcast.models.readers import MoodReader, active_taxonomy, build_reader_or_scene
from moodcast.player.decks import (
    UNHEARD_FIX,
    Deck,
    DeckEnded,
    DeckFailed,
    DeckStarted,
    DeckUnheard,
    EventSink,
    VlcDeck,
)
from moodcast.player.gain import track_gain_db
from moodcast.player.library import Library, open_or_set_aside
from moodcast.player.playback import Player

logger = logging.getLogger(__name__)

START_SAMPLE = 500  # tracks read at start to play from while the whole library is read
# How long the decision thread's writes wait for another program's lock on the library before
# they are kept in memory and tried again (the play log, flags): the music never waits on it.
DECISION_BUSY_S = 0.25

DeckFactory = Callable[[int, str, EventSink], Deck]


@dataclass(frozen=True)
class Parts:
    """What the daemon built, handed as one record to the loop that drives it."""

    library: Library
    reader: MoodReader
    watchdog: CameraWatchdog
    conductor: Conductor
    health: Health  # problems and the parts' status, for the state
    commands: CommandGate
    mqtt: MqttLink | None
    board: StateBoard | None  # what the page shows, when it is on


class Daemon:
    def __init__(
        self,
        config: MoodcastConfig,
        deck_factory: DeckFactory = VlcDeck,
        clocks: Clocks | None = None,
        timings: Timings | None = None,
    ) -> None:
        self.config = config
        self.events = EventQueue()
        self.clocks = clocks or Clocks()
        self.timings = timings or Timings()
        self._deck_factory = deck_factory
        self._stop = threading.Event()
        self._fd_limit = 1024  # set at start (fds.raise_soft_limit)

    def stop(self) -> None:
        self._stop.set()

    def run(self, duration: float | None = None) -> None:
        """Run until stop() (or SIGINT/SIGTERM via cmd_run) or for ``duration`` seconds."""
        deadline = None if duration is None else self.clocks.mono() + duration
        with ExitStack() as stack:
            parts = self._build(stack)  # first: it may take the fleet's kept settings
            loop = EventLoop(self.config, parts, self.events, self.clocks, self.timings)
            self._start(stack, loop)
            while not self._stop.is_set():
                if deadline is not None and self.clocks.mono() >= deadline:
                    break
                event = self.events.get(timeout=self.timings.tick_s)
                if event is not None:
                    loop.handle(event)
                loop.tick()
            logger.info("stopping")
        logger.info("stopped")

    def _build(self, stack: ExitStack) -> Parts:
        """Every part, in dependency order; each one's stop is pushed as it is made."""
        config = self.config = with_saved_central(self.config)
        self._fd_limit = fds.raise_soft_limit()  # the page's share is sized from it
        taxonomy = active_taxonomy(config)
        stamp = datetime.fromtimestamp(self.clocks.wall()).strftime("%Y%m%d-%H%M%S")
        opened, set_aside = open_or_set_aside(config.library.path, stamp, DECISION_BUSY_S)
        library = stack.enter_context(opened)
        decks = [self._deck_factory(i, config.player.audio_output, self.events) for i in (0, 1)]
        pc = config.player
        player = Player(decks, pc.crossfade_s, pc.fade_s, pc.volume,
                        lambda track: track_gain_db(track, pc.loudness))  # fmt: skip
        stack.callback(player.release)
        stack.callback(player.fade_out, config.player.stop_fade_s)  # power may be going
        reader, reader_problem = build_reader_or_scene(config, taxonomy)
        if reader_problem:
            logger.error("%s", reader_problem)
        cam = config.camera
        live = describe(cam.source) in {"device", "stream"}  # files may hold still scenes
        watchdog = CameraWatchdog(lambda: make_source(cam.source, cam.loop), cam, live)
        stack.callback(watchdog.close)
        commands = CommandTable(taxonomy.names, config.smoothing.override_minutes)
        gate = CommandGate(commands)
        mqtt = MqttLink(config.mqtt, self.events, gate) if config.mqtt.enabled else None
        board = StateBoard() if config.web.enabled else None
        publisher: Publisher = mqtt if mqtt is not None else NullPublisher()
        if board is not None:
            publisher = Fanout(publisher, board)
        store = StateStore(config.state_file)
        health = Health(publisher, self.clocks.wall, reader_problem, self.clocks.mono)
        deck = self._deck_factory(ANNOUNCE_DECK, config.player.audio_output, self.events)
        announcer = Announcer(config.announcements, deck, player)
        stack.callback(announcer.release)
        feed = self._library_feed(stack, library)
        conductor = Conductor(config, taxonomy, library, player, publisher, store, self.clocks,
                              health=health, announcer=announcer,
                              timings=self.timings, feed=feed)  # fmt: skip
        stack.callback(conductor.close)
        # A sample to start playing at once; the whole library is read on the feed's thread.
        conductor.start(library.sample(START_SAMPLE))
        if set_aside:
            health.report(ProblemKind.LIBRARY_REBUILT, set_aside)
            self.events.put(RescanDue())
        return Parts(library, reader, watchdog, conductor, health, gate, mqtt, board)

    @staticmethod
    def _library_feed(stack: ExitStack, library: Library) -> LibraryFeed:
        """Reads of the library on a thread and a connection of their own (a database in
        memory has no second connection: read at once)."""
        if library.path == ":memory:":
            return DirectFeed(library)
        feed = BackgroundFeed(lambda: Library(library.path))
        feed.start()
        stack.callback(feed.stop)
        return feed

    def _start(self, stack: ExitStack, loop: EventLoop) -> None:
        """Start what talks to the outside: the broker link, then the scheduled jobs."""
        parts = loop.parts
        if parts.mqtt is not None:
            _warn_if_exposed(self.config)
            parts.mqtt.start()
            stack.callback(parts.mqtt.stop)
        if parts.board is not None:
            self._start_web(stack, parts)
        self._start_vehicle(stack)
        scheduler = JobScheduler(
            self.config.schedule,
            self.config.library.rescan_time,
            self.events,
            loop.capture,
            self.config.announcements.items,
        )
        scheduler.start()
        loop.scheduler = scheduler
        stack.callback(scheduler.stop)
        stack.callback(loop.rescans.join)
        logger.info("moodcast running: %d playable tracks so far (the library is read on its"
                    " own thread)", len(parts.conductor.selector.tracks))  # fmt: skip

    def _start_vehicle(self, stack: ExitStack) -> None:
        """The car's sources, each on a thread of its own that only enqueues."""
        v = self.config.vehicle
        if v.gpsd is not None:
            from moodcast.edge.car.gnss import GpsdClient

            gnss = GpsdClient(v.gpsd, self.events.put)
            gnss.start()
            stack.callback(gnss.stop)
        if v.power_line is not None:
            from moodcast.edge.car.power import PowerLine

            line = PowerLine(v.power_line, v.power_failing_value, self.events.put)
            line.start()
            stack.callback(line.stop)
        if v.obd is not None:
            from moodcast.edge.car.obd_link import ObdPoller

            obd = ObdPoller(v.obd, v.obd_poll_s, self.events.put)
            obd.start()
            stack.callback(obd.stop)

    def _start_web(self, stack: ExitStack, parts: Parts) -> None:
        """The page; one that cannot listen (port in use) is an error in the state."""
        from moodcast.edge.web.app import WebApp, WebServer, library_map, recent_plays

        assert parts.board is not None
        path = self.config.library.path
        try:
            names = [a.name for a in self.config.announcements.items]
            app = WebApp(self.config.web, parts.board, parts.commands, self.events,
                         lambda: library_map(path), parts.conductor.taxonomy.names,
                         announcements=names,
                         plays=lambda limit: recent_plays(path, limit),
                         max_volume=self.config.player.max_volume)  # fmt: skip
        except MoodcastError as exc:
            parts.health.report(ProblemKind.WEB, f"the page is off: {exc}")
            return
        server = WebServer(app, {"total": fds.page_share(self._fd_limit)})
        server.start()
        stack.callback(server.stop)
        if server.problem:
            parts.health.report(
                ProblemKind.WEB, f"{server.problem}: set web.port, or web.enabled: false"
            )


class EventLoop:
    """The running daemon's decisions: one event at a time, on the daemon's thread (but for
    :meth:`capture`, the scheduler's job, and the rescan worker, which only enqueue)."""

    def __init__(
        self,
        config: MoodcastConfig,
        parts: Parts,
        events: EventQueue,
        clocks: Clocks,
        timings: Timings | None = None,
    ) -> None:
        self.config, self.parts, self.events, self.clocks = config, parts, events, clocks
        self.timings = timings or Timings()
        c = parts.conductor
        self.rescans = Rescanner(lambda: self.config, parts.library, events)
        self._handlers: dict[type, Callable[[Any], None]] = {
            DeckStarted: c.on_deck_event,
            DeckEnded: self._on_deck_ended,
            DeckFailed: c.on_deck_event,
            DeckUnheard: self._on_deck_unheard,
            MoodRead: lambda e: c.on_mood(e.estimate, e.at),
            CameraStatusChanged: lambda e: parts.health.set_camera(e.status, e.detail),
            CommandAccepted: lambda e: self._on_command(e.command),
            CommandRejected: self._on_rejected,
            RescanDue: lambda _e: self._start_rescan(),
            AnnounceDue: lambda e: c.announce(Announce(name=e.name), scheduled=True),
            RescanDone: lambda e: c.on_rescan_done(e.summary, e.error),
            **vehicle_handlers(c.vehicle, parts.health),
        }
        self._previous_frame: Any = None
        self._last_state_at = 0.0
        self._last_trim_at = 0.0
        self._last_summary_at = 0.0
        self._last_failure = ""  # of a periodic duty, logged once until another
        self.scheduler: JobScheduler | None = None  # set once started (announcement times)
        self.fleet: FleetSide | None = None
        self.presence: BrokerPresence | None = None
        if parts.mqtt is not None:  # the events only the MQTT link sends
            self._with_broker(parts.mqtt)

    def _with_broker(self, link: MqttLink) -> None:
        fleet = FleetSide(link, self.parts.library, self.clocks.wall, self._on_command,
                          self._use_config)  # fmt: skip
        presence = BrokerPresence(
            lambda: self.config,
            link,
            self.parts.conductor,
            self.parts.health,
            self.timings,
            fleet.on_disconnected,
        )
        self.fleet, self.presence = fleet, presence
        self._handlers.update(presence.handlers())
        self._handlers[PlaysAcked] = lambda e: fleet.plays.on_ack(e.last_id)
        self._handlers[FleetCommand] = lambda e: fleet.on_command(e, self.config)

    # -- scheduler thread ------------------------------------------------------------------

    def capture(self) -> None:
        """Capture job (its own thread, never overlapping): read a frame, enqueue its mood."""
        watchdog = self.parts.watchdog
        before = (watchdog.status, watchdog.detail)
        frame = watchdog.read(self.clocks.mono())
        if (watchdog.status, watchdog.detail) != before:
            self.events.put(CameraStatusChanged(watchdog.status, watchdog.detail))
        if frame is None:
            self._previous_frame = None
            return
        try:
            estimate = self.parts.reader.read(frame, self._previous_frame)
        except Exception:  # a reader bug must not stop the capture job for good
            logger.exception("frame reader failed")
            return
        self._previous_frame = frame
        self.events.put(MoodRead(estimate, self.clocks.mono()))

    # -- daemon thread ---------------------------------------------------------------------

    def handle(self, event: object) -> None:
        """One handler per event type; an unknown one is a bug, logged, never fatal."""
        handler = self._handlers.get(type(event))
        if handler is None:
            logger.error("no handler for event %r", event)
            return
        try:
            handler(event)
        except Exception as exc:  # one event, whatever it held, never stops the music
            logger.exception("handling %s failed", type(event).__name__)
            self.parts.health.report(
                ProblemKind.INTERNAL,
                f"handling {type(event).__name__} failed ({type(exc).__name__}: {exc}); the"
                " music plays on: please report this with the log",
            )

    def _on_deck_unheard(self, event: DeckUnheard) -> None:
        """Said once while it stands (every track tries the output again and says it again)."""
        if self.parts.health.problems.get(ProblemKind.SOUND) is None:
            self.parts.health.report(ProblemKind.SOUND, f"{event.reason} — {UNHEARD_FIX}")

    def _on_deck_ended(self, event: DeckEnded) -> None:
        """A track (or an announcement) that played to its end with the output open says
        the sound is back: a USB card plugged in again, a device another program let go."""
        if event.heard:
            self.parts.health.clear(ProblemKind.SOUND)
        self.parts.conductor.on_deck_event(event)

    def _on_rejected(self, event: CommandRejected) -> None:
        logger.warning("rejected command %r: %s", event.verb, event.error)
        if self.parts.mqtt is not None:
            self.parts.mqtt.publish_error({"command": event.verb, "error": event.error})
        if self.parts.board is not None:
            self.parts.board.publish_error({"command": event.verb, "error": event.error})

    def _on_command(self, command: Command) -> None:
        logger.info("command %s", command)
        if isinstance(command, Rescan):
            self._start_rescan()
        self.parts.conductor.on_command(command)

    def _use_config(self, config: MoodcastConfig) -> None:
        """A config the fleet's central settings changed: in force from now."""
        self.config = config  # (the rescans and the broker's presence read it from here)
        self.parts.conductor.use_config(config)
        if self.scheduler is not None:
            self.scheduler.plan_announcements(config.announcements.items)

    def _start_rescan(self) -> None:
        problem = self.rescans.start()
        if problem:
            self.parts.health.report(ProblemKind.RESCAN, problem)

    def tick(self) -> None:
        """The periodic duties, each on its own: one that fails is said and the others still
        run (before, a fleet acknowledgement SQLite could not hold ended the daemon here)."""
        c = self.parts.conductor
        self._duty("playback", c.tick)
        now = self.clocks.mono()
        fleet, presence, t = self.fleet, self.presence, self.timings
        if fleet is not None:
            self._duty("sending the play log to the fleet", lambda: fleet.tick(now))
        if c.dirty and now - self._last_state_at >= t.state_min_interval_s:
            self._last_state_at = now
            self._duty("publishing the state", c.publish_state)
        if presence is not None:
            self._duty("the broker's presence", lambda: presence.tick(now))
        if now - self._last_summary_at >= t.summary_s:
            self._last_summary_at = now
            summary = self.parts.commands.take_summary()
            if summary is not None:
                logger.warning("dropped %d more bad commands in the last %.0f s (last: %s)",
                               summary.count, t.summary_s, summary.last)  # fmt: skip
        if now - self._last_trim_at >= t.trim_interval_s:
            self._last_trim_at = now
            release_freed_heap()

    def _duty(self, name: str, run: Callable[[], object]) -> None:
        try:
            run()
        except Exception as exc:  # the music plays on; said once in the log, always in the state
            said = f"{name} failed ({type(exc).__name__}: {exc})"
            if said != self._last_failure:
                self._last_failure = said
                logger.exception("%s", said)
            self.parts.health.report(ProblemKind.INTERNAL,
                                     f"{said}; the music plays on: please report this with"
                                     " the log")  # fmt: skip


def _warn_if_exposed(config: MoodcastConfig) -> None:
    m = config.mqtt
    if not is_loopback(m.host) and not m.tls and not m.username:
        logger.warning(
            "MQTT broker %s is not on this machine and the connection is anonymous and "
            "unencrypted: anyone on the network can control playback. Set mqtt.username, "
            "mqtt.password and mqtt.tls.",
            m.host,
        )
