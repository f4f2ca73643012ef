"""The ``moodcast`` command: a thin shell over the library, readers and daemon.

Usage errors and bad input exit with status 2 and one line that says what to fix.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from moodcast.config.errors import MoodcastError
from moodcast.config.text import MAX_ROW_ID

logger = logging.getLogger("moodcast")

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        print(f"moodcast: error: {message} — see 'moodcast --help'", file=sys.stderr)
        raise SystemExit(2)


def _global_options(parser: argparse.ArgumentParser, default: Any) -> argparse.ArgumentParser:
    parser.add_argument("--config", type=Path, default=default, help="YAML config file "
                        "(default: built-in); before or after the command")  # fmt: skip
    parser.add_argument("-v", "--verbose", action="store_true", default=default,
                        help="log debug messages")  # fmt: skip
    return parser


def _command(sub: Any, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    """A (sub)command that also takes the global options, so that ``moodcast run --config F``
    means ``moodcast --config F run``; SUPPRESS keeps a value given before the command."""
    common = _global_options(argparse.ArgumentParser(add_help=False), argparse.SUPPRESS)
    parser: argparse.ArgumentParser = sub.add_parser(name, parents=[common], **kwargs)
    return parser


def _library_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--library", type=Path, help="library database (default: from config)")


def build_parser() -> argparse.ArgumentParser:
    parser = _global_options(_Parser(prog="moodcast", description=__doc__), None)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = _command(sub, "scan", help="add music folders to the library")
    p.add_argument("dirs", nargs="+", type=Path, metavar="DIR")
    _library_arg(p)
    p.set_defaults(handler=_lazy("moodcast.edge.cli.commands", "cmd_scan"))

    p = _command(sub, "import-tags", help="import community mood tags from CSV files")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE.csv")
    _library_arg(p)
    p.set_defaults(handler=_lazy("moodcast.edge.cli.commands", "cmd_import_tags"))

    lib = _command(sub, "library", help="show the library").add_subparsers(
        dest="library_command", required=True, parser_class=_Parser
    )
    p = _command(lib, "list", help="every track with its mood and where it came from")
    _library_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_lazy("moodcast.edge.cli.commands", "cmd_library_list"))
    p = _command(lib, "stats", help="how many tracks have mood data from each source")
    _library_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_lazy("moodcast.edge.cli.commands", "cmd_library_stats"))
    p = _command(lib, "bans", help="the tracks banned with 'Not this track'; --undo takes one back")
    _library_arg(p)
    p.add_argument(
        "--undo", type=_whole(MAX_ROW_ID), metavar="N", help="take back ban N (as listed)"
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_lazy("moodcast.edge.cli.commands", "cmd_library_bans"))

    log = _command(sub, "playlog", help="what was played, when, for how long").add_subparsers(
        dest="playlog_command", required=True, parser_class=_Parser
    )
    p = _command(log, "export", help="the play log as CSV (or JSON), local dates inclusive")
    _library_arg(p)
    p.add_argument("--from", dest="start", type=_day, metavar="DATE", help="YYYY-MM-DD")
    p.add_argument("--to", dest="end", type=_day, metavar="DATE", help="YYYY-MM-DD (default today)")
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.set_defaults(handler=_lazy("moodcast.edge.cli.playlog", "cmd_playlog_export"))

    p = _command(sub, "tag", help="tag tracks by listening (musicnn in ONNX Runtime)")
    _library_arg(p)
    p.add_argument("--workers", type=_whole(64), default=1, help="parallel processes")
    p.add_argument("--force", action="store_true", help="analyse every track again")
    p.add_argument(
        "--write-tags", action="store_true", help="write the mood into the files' own tags"
    )
    p.set_defaults(handler=_lazy("moodcast.edge.cli.commands", "cmd_tag"))

    p = _command(sub, "recommend", help="read a photo's mood and list the tracks it would play")
    p.add_argument("photo", type=Path)
    _library_arg(p)
    p.add_argument("--count", type=_positive_int, default=5, help="tracks to list (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--seed", type=int, help="seed the random draw (repeatable output)")
    p.add_argument("--reader", choices=["scene", "caption", "fused"], help="how to read the photo")
    p.add_argument("--models", type=Path, help="folder written by 'moodcast models export'")
    p.set_defaults(handler=_lazy("moodcast.edge.cli.commands", "cmd_recommend"))

    _add_config_and_model_commands(sub)
    _add_daemon_commands(sub)
    return parser


def _add_config_and_model_commands(sub: Any) -> None:
    cfg = _command(sub, "config", help="configuration").add_subparsers(
        dest="config_command", required=True, parser_class=_Parser
    )
    p = _command(cfg, "check", help="validate a config file and exit 0 (valid) or 2")
    p.add_argument("file", type=Path)
    p.add_argument("--print", action="store_true", help="print the effective config")
    p.set_defaults(handler=_lazy("moodcast.edge.cli.commands", "cmd_config_check"))

    web = _command(sub, "web", help="the dashboard page").add_subparsers(
        dest="web_command", required=True, parser_class=_Parser
    )
    p = _command(
        web, "hash-password", help="read a password, print it hashed for web.password_hash"
    )
    p.set_defaults(handler=_lazy("moodcast.edge.cli.commands", "cmd_web_hash_password"))

    models = _command(sub, "models", help="on-device models").add_subparsers(
        dest="models_command", required=True, parser_class=_Parser
    )
    p = _command(models, "export", help="export BLIP and the caption→mood model to ONNX")
    p.add_argument("--model", default=None, help="hub id or folder of a BLIP checkpoint")
    p.add_argument("--tiny", action="store_true", help="a small random BLIP, for tests")
    p.add_argument("--image-size", type=_whole(4096), help="input size (default: the model's)")
    p.add_argument("--no-text", action="store_true", help="skip the caption→mood model")
    p.add_argument("--fp16", action="store_true", help="also write fp16 graphs (for a GPU)")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(handler=_lazy("moodcast.edge.cli.models", "cmd_models_export"))
    p = _command(models, "evaluate", help="how right caption → mood is on labelled captions")
    p.add_argument("file", type=Path, help="labelled captions: caption<TAB>quadrant lines")
    p.add_argument("--models", type=Path, help="an export's folder (default: the built-in)")
    p.add_argument("--precision", choices=["int8", "fp32"], default="int8")
    p.add_argument("--folds", type=_positive_int, help="cross-validate, training on the file")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_lazy("moodcast.edge.cli.models", "cmd_models_evaluate"))
    p = _command(models, "evaluate-images", help="how right a frame reader is on labelled photos")
    p.add_argument("folder", type=Path, help="the photographs")
    p.add_argument(
        "--labels",
        type=Path,
        required=True,
        help="file<TAB>quadrant[<TAB>people] lines, files relative to the folder",
    )
    p.add_argument("--reader", choices=["scene", "caption", "fused"])
    p.add_argument("--models", type=Path, help="an export's folder (caption and fused readers)")
    p.add_argument(
        "--fusion",
        choices=["fitted", "hand-set"],
        help="how the scene reader combines its cues (default: the config's)",
    )
    p.add_argument(
        "--monochrome",
        action="store_true",
        help="read each photograph without its colour, as a night-vision camera would give it",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_lazy("moodcast.edge.cli.models", "cmd_models_evaluate_images"))


def _add_daemon_commands(sub: Any) -> None:
    p = _command(sub, "fleet", help="watch a chain's devices from a server (page, API, alerts)")
    p.add_argument("--broker", metavar="HOST[:PORT]", help="the chain's broker (default: config)")
    p.add_argument("--port", type=_whole(65535), help="the page's port (default 8480)")
    p.set_defaults(handler=_lazy("moodcast.edge.fleet.run", "cmd_fleet"))
    p = _command(sub, "fleet-users", help="a broker user and password per box, and the ACL")
    p.add_argument("devices", nargs="+", metavar="DEVICE", help="every box's device id")
    p.add_argument("--out", type=Path, required=True, help="folder for passwd, acl, devices.csv")
    p.add_argument("--prefix", default="moodcast", help="mqtt.topic_prefix (default moodcast)")
    p.set_defaults(handler=_lazy("moodcast.edge.fleet.broker_users", "cmd_fleet_users"))

    p = _command(sub, "run", help="run the daemon: camera → mood → music, MQTT")
    _daemon_flags(p)
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    p.set_defaults(handler=_lazy("moodcast.edge.cli.daemon", "cmd_run"))
    p = _command(sub, "doctor", help="check each part and say how to fix what is wrong")
    _daemon_flags(p)
    p.set_defaults(handler=_lazy("moodcast.edge.cli.daemon", "cmd_doctor"))


def _daemon_flags(p: argparse.ArgumentParser) -> None:
    _library_arg(p)
    p.add_argument("--camera", help="device index, video file, URL, image folder or glob")
    p.add_argument("--broker", help="MQTT broker host (or HOST:PORT)")
    p.add_argument("--no-mqtt", action="store_true", help="run without MQTT")
    p.add_argument("--device-id", help="MQTT device id")
    p.add_argument("--audio-output", help="default, dummy, alsa:DEV, pulse:SINK, file:PATH.wav")
    p.add_argument("--interval", type=float, help="seconds between camera reads")


def _day(text: str) -> Any:
    from moodcast.edge.cli.playlog import day

    return day(text)


def _whole(most: int) -> Callable[[str], int]:
    """A whole number from 1 to ``most``: past it a number means nothing here, and one too
    large for SQLite or a C int would end the command with a traceback."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < 1:
            raise argparse.ArgumentTypeError("must be at least 1")
        if value > most:
            raise argparse.ArgumentTypeError(f"must be at most {most:,}")
        return value

    return parse


_positive_int = _whole(1_000_000)


def _lazy(module: str, name: str) -> Handler:
    """Import a command's module only when it runs, so --help stays instant."""

    def run(args: argparse.Namespace) -> int:
        import importlib

        handler: Handler = getattr(importlib.import_module(module), name)
        return handler(args)

    return run


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        return int(args.handler(args))
    except MoodcastError as exc:
        print(f"moodcast: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a path from the command line the system refuses (too long, ...)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"moodcast: error: {where}{exc.strerror or exc} — check the path given",
              file=sys.stderr)  # fmt: skip
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
