"""``moodcast tag``: analyse tracks by listening, in parallel, resumably, and safely.

Workers are separate processes (ONNX Runtime and decoding are CPU-bound); the parent alone
writes to the database, one committed transaction per track, so a run killed at any moment
(kill -9 included) leaves a consistent database and the next run picks up where it stopped.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moodcast.models.audio.loudness import SILENT
from moodcast.models.mood import Taxonomy
from moodcast.player.analysis import Analysis, calibrate
from moodcast.player.library import Library
from moodcast.player.track import TrackMood

if TYPE_CHECKING:
    from moodcast.models.audio.loudness import Loudness

logger = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]

_taggers: dict[str, Any] = {}


def _init_worker() -> None:
    from moodcast.models.audio.tagger_session import MusicnnTagger

    for name in ("msd_musicnn", "mtt_musicnn"):
        _taggers[name] = MusicnnTagger(name, threads=1)


def analyse_file(path: str) -> tuple[dict[str, float], dict[str, float]]:
    """Tag probabilities (prefixed msd:/mtt:) and audio features of one file."""
    from moodcast.models.audio import features as audio

    if not _taggers:
        _init_worker()
    samples = audio.load_excerpts(Path(path))
    power = audio.power_spectrogram(samples)
    rep = audio.log_mel(power)
    batch = audio.patches(rep)
    tags: dict[str, float] = {}
    for name, tagger in _taggers.items():
        prefix = name.split("_")[0]
        tags.update({f"{prefix}:{k}": round(v, 6) for k, v in tagger(batch).tags.items()})
    return tags, audio.features(samples, power, rep).as_dict()


JobResult = tuple[str, dict[str, float], dict[str, float], str, "Loudness | str"]


def _job(path: str) -> JobResult:
    """Tags and features, and the loudness (or why it cannot be measured): one never
    keeps the other from being stored."""
    from moodcast.models.audio.features import AudioError
    from moodcast.models.audio.loudness import LoudnessError, measure

    try:
        loudness: Loudness | str = measure(Path(path))
    except LoudnessError as exc:
        loudness = str(exc)
    except OSError as exc:
        loudness = f"cannot read file ({exc.strerror or exc})"
    except Exception as exc:  # a decoder's own kind of failure: this file, not the run
        loudness = f"cannot be measured ({type(exc).__name__}: {exc})"
    try:
        tags, feats = analyse_file(path)
    except AudioError as exc:
        return path, {}, {}, str(exc), loudness
    except OSError as exc:
        return path, {}, {}, f"cannot read file ({exc.strerror or exc})", loudness
    except Exception as exc:  # a decoder's own kind of failure: this file fails, not the run
        return path, {}, {}, f"cannot be analysed ({type(exc).__name__}: {exc})", loudness
    return path, tags, feats, "", loudness


@dataclass
class TagReport:
    analysed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    written: int = 0
    write_failed: list[tuple[str, str]] = field(default_factory=list)
    measured: int = 0  # loudness
    loudness_failed: list[tuple[str, str]] = field(default_factory=list)


def _results(paths: list[str], workers: int) -> Iterator[JobResult]:
    if workers <= 1:
        for path in paths:
            yield _job(path)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker) as pool:
        futures = [pool.submit(_job, p) for p in paths]
        for future in as_completed(futures):
            yield future.result()


def tag_library(
    library: Library,
    taxonomy: Taxonomy,
    workers: int = 1,
    force: bool = False,
    write_tags: bool = False,
    progress: Progress | None = None,
) -> TagReport:
    todo = dict.fromkeys([*library.tracks_to_analyse(force), *library.tracks_without_loudness()])
    ids = {path: track_id for track_id, path in todo}  # a track in both lists: one job
    report = TagReport()
    for done, (path, tags, feats, error, loudness) in enumerate(_results(list(ids), workers), 1):
        library.save_analysis(ids[path], tags, feats, error)
        _save_loudness(library, ids[path], path, loudness, report)
        if error:
            logger.warning("cannot analyse %s: %s", path, error)
            report.failed.append((path, error))
        else:
            report.analysed += 1
        if progress:
            progress(done, len(todo), Path(path).name)
    recalibrate(library, taxonomy)
    if write_tags:
        _write_all(library, report)
    return report


def _save_loudness(library: Library, track_id: int, path: str, loudness: Loudness | str,
                   report: TagReport) -> None:  # fmt: skip
    if isinstance(loudness, str):  # flagged; it plays at player.loudness.default_gain_db
        logger.warning("cannot measure the loudness of %s: %s", path, loudness)
        library.set_loudness(track_id, None, None, "", loudness)
        report.loudness_failed.append((path, loudness))
        if loudness == SILENT:  # dead air in a shop: out of rotation until the file changes
            library.flag(track_id, "failed", f"{loudness}: dead air, not played; replace the"
                         " file (a changed file is scanned and measured again)")  # fmt: skip
        return
    library.set_loudness(track_id, loudness.integrated_lufs, loudness.true_peak_dbtp,
                         "measured", "")  # fmt: skip
    report.measured += 1


def recalibrate(library: Library, taxonomy: Taxonomy) -> None:
    """Re-rank every analysed track against the whole library and store its mood."""
    analyses = [Analysis(i, t, f) for i, t, f in library.analyses()]
    with library.transaction():
        for track_id, mood in calibrate(analyses, taxonomy).items():
            library.set_mood(track_id, mood)


def _write_all(library: Library, report: TagReport) -> None:
    for track in library.tracks(playable_only=True):
        if track.mood is None or track.mood.source != "analysed":
            continue  # never overwrite a user's own tag or touch untagged files
        try:
            write_mood_tag(Path(track.path), track.mood, track.loudness_lufs, track.true_peak_dbtp)
        except (OSError, ValueError) as exc:
            report.write_failed.append((track.path, str(exc)))
            continue
        stat = Path(track.path).stat()
        library.restamp(track.id, stat.st_size, stat.st_mtime)
        report.written += 1


def write_mood_tag(
    path: Path, mood: TrackMood, lufs: float | None = None, peak_dbtp: float | None = None
) -> None:
    """Write the mood into the file's own tag (ID3 TMOO / Vorbis MOOD) without risk, and
    the measured loudness as ReplayGain 2.0 (reference -18 LUFS) when there is one.

    The tag is written to a copy beside the file, the copy is checked, and only then replaces
    the original in one rename: on any error the original is untouched.
    """
    import mutagen

    # Respect read-only files even when running as root (where os.access says yes).
    read_only = not path.stat().st_mode & 0o222 or not os.access(path, os.W_OK)
    if read_only or not os.access(path.parent, os.W_OK):
        raise OSError(f"{path} is read-only")
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".moodcast-", suffix=path.suffix)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        shutil.copy2(path, tmp)
        _set_mood(tmp, mood.mood)
        if lufs is not None:
            _set_replaygain(tmp, lufs, peak_dbtp)
        try:
            check = mutagen.File(tmp)
        except mutagen.MutagenError as exc:
            raise ValueError(f"the tagged copy does not read back ({exc})") from exc
        if check is None or not getattr(check.info, "length", 0):
            raise ValueError("the tagged copy does not read back as audio")
        os.replace(tmp, path)
    except Exception:
        tmp.unlink(missing_ok=True)
        raise


def _set_replaygain(path: Path, lufs: float, peak_dbtp: float | None) -> None:
    """ReplayGain 2.0 (reference -18 LUFS) as other players read it."""
    from mutagen.id3 import TXXX

    gain = f"{-18.0 - lufs:+.2f} dB"
    peak = f"{10 ** ((peak_dbtp if peak_dbtp is not None else 0.0) / 20):.6f}"
    _write_tags(
        path,
        [TXXX(encoding=3, desc="REPLAYGAIN_TRACK_GAIN", text=[gain]),
         TXXX(encoding=3, desc="REPLAYGAIN_TRACK_PEAK", text=[peak])],
        {"REPLAYGAIN_TRACK_GAIN": gain, "REPLAYGAIN_TRACK_PEAK": peak},
        {"replaygain_track_gain": gain, "replaygain_track_peak": peak},
    )  # fmt: skip


def _set_mood(path: Path, mood: str) -> None:
    from mutagen.id3 import TMOO

    _write_tags(path, [TMOO(encoding=3, text=[mood])], {"MOOD": mood}, {"MOOD": mood})


def _write_tags(path: Path, id3_frames: list[Any], vorbis: dict[str, str],
                itunes: dict[str, str]) -> None:  # fmt: skip
    """The same tags in each container's own form: ID3 frames (MP3, and WAV's ID3 chunk),
    Vorbis comments (Ogg, FLAC, Opus), iTunes freeform atoms (M4A)."""
    import mutagen
    from mutagen.id3 import ID3, ID3NoHeaderError

    suffix = path.suffix.lower()
    try:
        if suffix == ".mp3":
            try:
                id3 = ID3(path)
            except ID3NoHeaderError:
                id3 = ID3()
            for frame in id3_frames:
                id3.add(frame)
            id3.save(path)
            return
        audio = mutagen.File(path)
        if audio is None:
            raise ValueError("not a recognised audio file")
        if audio.tags is None:
            audio.add_tags()
        if suffix == ".wav":
            for frame in id3_frames:
                audio.tags.add(frame)
        elif suffix == ".m4a":
            for key, value in itunes.items():
                audio.tags[f"----:com.apple.iTunes:{key}"] = [value.encode()]
        else:
            for key, value in vorbis.items():
                audio.tags[key] = [value]
        audio.save()
    except mutagen.MutagenError as exc:
        raise ValueError(f"cannot write tags ({exc})") from exc
