"""Walking music folders into the library: incremental, and never fatal for one bad file."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from moodcast.config.errors import MoodcastError
from moodcast.models.audio.loudness import from_replaygain
from moodcast.models.mood import Taxonomy
from moodcast.player.library import FileRow, Library
from moodcast.player.tags import (
    AUDIO_EXTENSIONS,
    GENRE_HINTS,
    UnreadableAudioError,
    match_key,
    read_file_info,
)
from moodcast.player.track import TrackMood

logger = logging.getLogger(__name__)

_BATCH = 200

Progress = Callable[[int, int, str], None]


@dataclass
class ScanReport:
    seen: int = 0
    added_or_changed: int = 0
    unchanged: int = 0
    removed: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)


def mood_from_words(
    taxonomy: Taxonomy, words: Iterable[str], source: str, confidence: float = 0.9
) -> TrackMood | None:
    """Library mood data from mood words (file tag, community tag or genre hint)."""
    words = tuple(words)
    estimate = taxonomy.estimate_from_tags(words, confidence, source)
    if estimate is None:
        return None
    return TrackMood(
        source=source,
        taxonomy=taxonomy.name,
        mood=estimate.mood,
        valence=estimate.valence,
        arousal=estimate.arousal,
        probabilities=dict(estimate.probabilities),
        tags=words,
    )


def audio_files(root: Path) -> Iterator[Path]:
    """Audio files under a folder, in a stable order; unreadable subfolders are logged.

    Links are followed, but no folder is walked twice (a link back up would loop forever) and
    no file is yielded twice (two links to one file, a folder linked from two places)."""
    return (path for path, _ in _audio_files(root))


def _audio_files(root: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """:func:`audio_files` with each file's stat (taken once: the scan compares it with the
    library's stamp)."""

    def on_error(exc: OSError) -> None:
        logger.warning("cannot read %s: %s", exc.filename, exc.strerror)

    folders: set[tuple[int, int]] = set()
    seen: set[tuple[int, int]] = set()
    for folder, dirs, files in os.walk(root, onerror=on_error, followlinks=True):
        here = _stat(Path(folder))
        if here is None or (here.st_dev, here.st_ino) in folders:
            dirs.clear()  # walked already: a link loop or a second link to the same folder
            continue
        folders.add((here.st_dev, here.st_ino))
        dirs.sort()
        for name in sorted(files):
            path = Path(folder, name)
            if path.suffix.lower() not in AUDIO_EXTENSIONS:
                continue
            stat = _stat(path)  # None: gone, or a dangling link
            if stat is not None and (stat.st_dev, stat.st_ino) not in seen:
                seen.add((stat.st_dev, stat.st_ino))
                yield path, stat


def _stat(path: Path) -> os.stat_result | None:
    """What a path leads to, or None when it cannot be read."""
    try:
        return path.stat()
    except OSError:
        return None


def _check_root(root: Path) -> Path:
    if not root.exists():
        raise MoodcastError(
            f"music folder {root} does not exist", "check the path (is the disk mounted?)"
        )
    if not root.is_dir():
        raise MoodcastError(f"{root} is not a folder", "give a folder of music files to scan")
    if not os.access(root, os.R_OK | os.X_OK):
        raise MoodcastError(
            f"music folder {root} is not readable", "fix its permissions or run as its owner"
        )
    return root.resolve()


SCAN_SOURCES = ("file", "imported", "genre")  # the mood sources a file's tags decide
MIN_TRACK_S = 1.0  # shorter files are flagged at the scan, once, instead of played


def scan(
    library: Library,
    roots: Iterable[Path],
    taxonomy: Taxonomy,
    progress: Progress | None = None,
) -> ScanReport:
    """Bring the library in line with the folders: add new/changed files, drop removed ones."""
    resolved = [_check_root(Path(r).expanduser()) for r in roots]
    found = [f for root in resolved for f in _audio_files(root)]
    files = [path for path, _ in found]
    stamps = library.file_stamps()
    under_roots = {path for path in stamps if any(Path(path).is_relative_to(r) for r in resolved)}
    reread = library.failed_paths()  # read again: it may have been gone, or mended
    if not files and not under_roots:
        names = ", ".join(str(r) for r in resolved)
        raise MoodcastError(
            f"no audio files found in {names}",
            f"give a folder holding {', '.join(sorted(AUDIO_EXTENSIONS))} files",
        )
    report = ScanReport(seen=len(files))
    community = dict(library.community_tags())
    moods = _MoodMemo(taxonomy)
    for first in range(0, len(files), _BATCH):  # a transaction per batch: a kill loses one
        rows: list[FileRow] = []
        for index, (path, stat) in enumerate(found[first : first + _BATCH], start=first + 1):
            row = _scan_file(path, stat, stamps, reread, moods, community, report)
            if row is not None:
                rows.append(row)
            if progress:
                progress(index, len(files), path.name)
        library.write_files(rows)
    gone = sorted(under_roots - {str(p) for p in files})
    library.remove_paths(gone)
    report.removed = len(gone)
    return report


def _scan_file(
    path: Path,
    stat: os.stat_result,
    stamps: dict[str, tuple[int, float]],
    reread: set[str],
    moods: _MoodMemo,
    community: dict[str, list[str]],
    report: ScanReport,
) -> FileRow | None:
    """What to write for one file (``stat`` as the walk found it); None when unchanged."""
    if stamps.get(str(path)) == (stat.st_size, stat.st_mtime) and str(path) not in reread:
        report.unchanged += 1
        return None
    report.added_or_changed += 1
    try:
        info = read_file_info(path)
        if info.duration is not None and info.duration < MIN_TRACK_S:
            raise UnreadableAudioError(
                f"{info.duration:.2f} s long, under {MIN_TRACK_S:.0f} s: not music to play"
                " (a clip or a cut file); kept out of the rotation"
            )
    except UnreadableAudioError as exc:
        logger.warning("skipping %s: %s", path, exc)
        report.unreadable.append((str(path), str(exc)))
        return FileRow(str(path), stat.st_size, stat.st_mtime,
                       {"status": "unreadable", "error": str(exc)})  # fmt: skip
    key = match_key(info.artist, info.title)
    tagged = from_replaygain(*info.replaygain) if info.replaygain else None
    fields = {
        "artist": info.artist,
        "title": info.title,
        "album": info.album,
        "genre": info.genre,
        "duration": info.duration,
        "match_key": key,
        "status": "ok",
        "error": "",
        "explicit": int(info.explicit),
        "isrc": info.isrc,
        "label": info.label,
        # a new or changed file is measured again, unless it says its ReplayGain
        "loudness_lufs": tagged.integrated_lufs if tagged else None,
        "true_peak_dbtp": tagged.true_peak_dbtp if tagged else None,
        "loudness_source": "replaygain" if tagged else "",
        "loudness_error": "",
    }
    hints = [GENRE_HINTS[g] for g in _genre_words(info.genre) if g in GENRE_HINTS]
    found = (
        moods.get(tuple(info.mood_words), "file"),
        moods.get(tuple(community.get(key, [])), "imported"),
        moods.get(tuple(hints), "genre"),
    )
    known = str(path) in stamps  # a new track has no mood rows to replace
    return FileRow(str(path), stat.st_size, stat.st_mtime, fields,
                   tuple(m for m in found if m is not None),
                   SCAN_SOURCES if known else ())  # fmt: skip


class _MoodMemo:
    """Mood words mapped once per scan: a library repeats a few hundred tag sets over
    thousands of files, and the mapping was a tenth of the scan's time."""

    LIMIT = 4096

    def __init__(self, taxonomy: Taxonomy) -> None:
        self._taxonomy = taxonomy
        self._known: dict[tuple[tuple[str, ...], str], TrackMood | None] = {}

    def get(self, words: tuple[str, ...], source: str) -> TrackMood | None:
        key = (words, source)
        if key not in self._known:
            if len(self._known) >= self.LIMIT:  # a library of unique tag sets: bounded memory
                self._known.clear()
            confidence = 0.5 if source == "genre" else 0.9
            self._known[key] = mood_from_words(self._taxonomy, words, source, confidence)
        return self._known[key]


def _genre_words(genre: str) -> list[str]:
    folded = genre.casefold().strip()
    return [folded, *folded.replace("/", " ").split()]
