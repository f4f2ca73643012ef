"""Importing community mood tags (Last.fm crawls, the original project's database)."""

from __future__ import annotations

import csv
import logging
import stat
from dataclasses import dataclass, field
from pathlib import Path

from moodcast.config.errors import MoodcastError
from moodcast.models.mood import Taxonomy
from moodcast.player.library import Library
from moodcast.player.scan import mood_from_words
from moodcast.player.tags import match_key

logger = logging.getLogger(__name__)

# Column names of the two formats in the original project's data.
_LASTFM = ("artist", "music_name", "mood_EN")
_MOODSIC = ("artist", "title", "mood")


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    matched_tracks: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)


def _columns(header: list[str], path: Path) -> tuple[int, int, int]:
    names = [h.strip().lstrip("\ufeff") for h in header]
    for artist, title, mood in (_LASTFM, _MOODSIC):
        if {artist, title, mood} <= set(names):
            return names.index(artist), names.index(title), names.index(mood)
    raise MoodcastError(
        f"{path}: unknown CSV columns {names[:8]}",
        "expected a Last.fm crawl (artist, music_name, mood_EN) or the moodsic database"
        " (artist, title, mood)",
    )


def read_rows(path: Path, report: ImportReport) -> list[tuple[str, str, str]]:
    """(artist, title, tag) rows; malformed rows are counted and skipped, not fatal."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a FIFO or a device never ends: read on, it
            raise MoodcastError(f"{path} is not a regular file",  # would fill the memory
                                "give the path of a CSV file")  # fmt: skip
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise MoodcastError(f"cannot read {path}: {exc.strerror}", "check the file path") from exc
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise MoodcastError(f"{path} is empty", "give a CSV with a header row") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise MoodcastError(f"{path} is not a CSV file ({exc})", "give a CSV file") from exc
        ia, it, im = _columns(header, path)
        rows: list[tuple[str, str, str]] = []
        try:
            for line_no, row in enumerate(reader, start=2):
                report.rows += 1
                if len(row) != len(header):
                    report.skipped.append((line_no, f"{len(row)} fields, expected {len(header)}"))
                    continue
                artist, title, tag = row[ia].strip(), row[it].strip(), row[im].strip()
                if not (artist and title and tag):
                    report.skipped.append((line_no, "empty artist, title or mood"))
                    continue
                rows.append((artist, title, tag))
        except (csv.Error, UnicodeDecodeError) as exc:
            report.skipped.append((reader.line_num, f"unreadable from here on ({exc})"))
    return rows


def import_tags(library: Library, paths: list[Path], taxonomy: Taxonomy) -> ImportReport:
    """Store community tags by (artist, title) and apply them to tracks already scanned."""
    report = ImportReport()
    with library.transaction():
        _store(library, paths, taxonomy, report)
        report.matched_tracks = _apply(library, taxonomy)
    return report


def _store(library: Library, paths: list[Path], taxonomy: Taxonomy, report: ImportReport) -> None:
    for path in paths:
        rows = read_rows(path, report)
        unknown = sorted({t for _, _, t in rows if taxonomy.mood_for_tag(t) is None})
        if unknown:
            logger.warning(
                "%s: mood words that are no mood of %s here (unknown, or in mood.forbid): %s",
                path,
                taxonomy.name,
                unknown,
            )
        keyed = [(match_key(a, t), tag, path.name) for a, t, tag in rows]
        library.add_community_tags(keyed)
        report.imported += len(keyed)


def _apply(library: Library, taxonomy: Taxonomy) -> int:
    touched = 0
    for key, tags in library.community_tags():
        ids = library.ids_by_match_key(key)
        mood = mood_from_words(taxonomy, tags, "imported") if ids else None
        if mood is None:
            continue
        for track_id in ids:
            library.set_mood(track_id, mood)
            touched += 1
    return touched
