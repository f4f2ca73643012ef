"""``moodcast fleet``: the composition root of the fleet service (store, broker, page)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from contextlib import ExitStack
from types import FrameType

from moodcast.config.errors import MoodcastError
from moodcast.config.fleet import load_fleet_config
from moodcast.config.text import whole_number
from moodcast.edge.fleet.service import FleetService
from moodcast.edge.fleet.store import FleetStore
from moodcast.edge.fleet.web import FleetWeb

logger = logging.getLogger(__name__)


def broker_override(text: str) -> dict[str, object]:
    """--broker HOST[:PORT] as config overrides; a clear error for anything else."""
    host, _, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
    number = whole_number(port) if port else None
    if not host or (port and number is None):
        raise MoodcastError(f"--broker {text!r} is not HOST or HOST:PORT", "e.g. 10.0.0.5:1883")
    return {"broker.host": host, **({"broker.port": number} if port else {})}


def cmd_fleet(args: argparse.Namespace) -> int:
    overrides: dict[str, object] = {}
    if args.broker:
        overrides.update(broker_override(args.broker))
    if args.port:
        overrides["web.port"] = args.port
    config = load_fleet_config(args.config, overrides)
    stop = threading.Event()

    def on_signal(_sig: int, _frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    with ExitStack() as stack:
        store = FleetStore(config.database)
        stack.callback(store.close)
        service = FleetService(config, store)
        web = FleetWeb(config, config.database, lambda: service.broker)
        from moodcast.edge.web.app import WebServer

        server = WebServer(web)
        server.start()
        if server.problem:
            raise MoodcastError(server.problem, "set web.port (or --port) to a free port")
        stack.callback(server.stop)
        service.start()
        stack.callback(service.stop)
        worker = threading.Thread(target=service.run, name="fleet", daemon=True)
        worker.start()
        logger.info("fleet: page on http://%s:%d/, broker %s:%d", config.web.host,
                    config.web.port, config.broker.host, config.broker.port)  # fmt: skip
        stop.wait()
        service.stop()
        worker.join(timeout=5)
    return 0
