"""``moodcast playlog export``: the play log as CSV or JSON, for licensing bodies.

Dates are the device's local calendar days, both ends included. Text cells that a spreadsheet
would run as a formula (a title beginning with ``=``, ``+``, ``-`` or ``@``) are quoted with
a leading apostrophe, so an export opened in a spreadsheet shows the title and runs nothing.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import sys
from collections.abc import Sequence

from moodcast.config.clock import EARLIEST_DAY, local_days
from moodcast.config.errors import MoodcastError
from moodcast.config.settings import load_config
from moodcast.config.text import spreadsheet_cell
from moodcast.edge.cli.console import print_json
from moodcast.player.library import Library
from moodcast.player.track import Play

COLUMNS = ("started", "seconds", "kind", "title", "artist", "album", "isrc", "label", "file",
           "mood", "why")  # fmt: skip


def day(text: str) -> dt.date:
    """A calendar date as YYYY-MM-DD; a clear error for anything else (31 February too)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: give YYYY-MM-DD, e.g. 2026-12-24 ({exc})"
        ) from exc


def span(start: dt.date | None, end: dt.date | None, today: dt.date) -> tuple[float, float]:
    """[from 00:00, the day after 'to' 00:00) in local time, as Unix times; without 'from'
    the log's beginning, without 'to' today."""
    end = end or today
    if start is not None and start > end:
        raise MoodcastError(f"--from {start} is after --to {end}", "give --from before --to")
    return local_days(start or EARLIEST_DAY, end)


def row(play: Play) -> dict[str, object]:
    """One play as the export's columns (start in local time with its offset)."""
    data = play.to_dict()
    started = dt.datetime.fromtimestamp(play.started_at).astimezone().isoformat(timespec="seconds")
    return {"started": started, **{c: data[c] for c in COLUMNS[1:]}}


def to_csv(plays: Sequence[Play]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for play in plays:
        values = row(play)
        writer.writerow([values["seconds"] if c == "seconds" else spreadsheet_cell(values[c])
                         for c in COLUMNS])  # fmt: skip
    return out.getvalue()


def cmd_playlog_export(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    low, high = span(args.start, args.end, dt.date.today())
    path = args.library or config.library.path
    if not path.expanduser().is_file():
        raise MoodcastError(f"there is no library at {path}", "give --library, or --config with"
                            " the daemon's config (library.path)")  # fmt: skip
    with Library(path) as library:
        plays = library.plays(low, high)
    if not plays:
        print(f"no plays logged between {args.start or 'the beginning'} and"
              f" {args.end or 'today'} (the log keeps {config.player.playlog_days} days)",
              file=sys.stderr)  # fmt: skip
    if args.format == "json":
        print_json([row(p) for p in plays])
    else:
        sys.stdout.write(to_csv(plays))
    return 0
