"""CLI verbs for the daemon: ``run`` and ``doctor``, and the flags they share."""

from __future__ import annotations

import argparse
import logging
import signal
from typing import Any

from moodcast.config.settings import MoodcastConfig, config_warnings, load_config
from moodcast.edge.music.announcer import unplayable_files

logger = logging.getLogger(__name__)

FLAG_OF = {"library.path": "--library", "camera.source": "--camera", "mqtt.host": "--broker",
           "mqtt.port": "--broker", "mqtt.enabled": "--no-mqtt", "mqtt.device_id": "--device-id",
           "player.audio_output": "--audio-output",
           "schedule.capture_interval_s": "--interval"}  # fmt: skip


def flag_sources(overrides: dict[str, Any]) -> dict[str, str]:
    """Where each overridden value came from, for errors that name it."""
    return {key: f"flag {FLAG_OF.get(key, key)}" for key in overrides}


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


def load_with_flags(args: argparse.Namespace) -> tuple[MoodcastConfig, list[str]]:
    """The config file with the flags on top, and its warnings; errors and warnings name
    the flag or the file's line a value came from."""
    overrides = overrides_from_flags(args)
    sources = flag_sources(overrides)
    config = load_config(args.config, overrides, sources)
    return config, config_warnings(config, args.config, sources,
                                   unplayable_files(config.announcements))  # fmt: skip


def cmd_run(args: argparse.Namespace) -> int:
    from moodcast.edge.daemon import Daemon

    config, warnings = load_with_flags(args)
    logging.getLogger().setLevel(config.log_level if not args.verbose else "DEBUG")
    for warning in warnings:
        logger.warning("config: %s", warning)
    daemon = Daemon(config)
    previous = {
        sig: signal.signal(sig, lambda *_: daemon.stop())
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # HUP: clean stop (README)
    }
    try:
        daemon.run(duration=args.duration)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from moodcast.edge.doctor import run_checks

    config, warnings = load_with_flags(args)
    return 0 if run_checks(config, warnings) == 0 else 1
