"""CLI verbs for the library and one photo: scan, import-tags, library, tag, recommend, config."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from moodcast.config.errors import MoodcastError
from moodcast.config.settings import MoodcastConfig, config_warnings, load_config, masked
from moodcast.edge.cli.console import ProgressBar, print_json
from moodcast.edge.music.announcer import unplayable_files
from moodcast.models.readers import active_taxonomy, build_reader, load_photo, reader_overrides
from moodcast.player.community import import_tags
from moodcast.player.library import Library
from moodcast.player.scan import scan
from moodcast.player.selection import PlayHistory, TrackSelector
from moodcast.player.track import Track


def _config(args: argparse.Namespace) -> MoodcastConfig:
    return load_config(args.config)


def _library_path(args: argparse.Namespace, config: MoodcastConfig) -> Path:
    """The library named by --library, else the config's."""
    return Path(args.library or config.library.path).expanduser()


def _library(args: argparse.Namespace, config: MoodcastConfig) -> Library:
    return Library(_library_path(args, config))


def cmd_scan(args: argparse.Namespace) -> int:
    config = _config(args)
    with _library(args, config) as library:
        report = scan(library, args.dirs, active_taxonomy(config), ProgressBar("scan"))
        print(
            f"scanned {report.seen} files: {report.added_or_changed} new or changed, "
            f"{report.unchanged} unchanged, {report.removed} removed, "
            f"{len(report.unreadable)} unreadable; library {library.path} has "
            f"{library.count()} tracks"
        )
        for path, reason in report.unreadable:
            print(f"  unreadable: {path}: {reason}")
    return 0


def cmd_import_tags(args: argparse.Namespace) -> int:
    config = _config(args)
    with _library(args, config) as library:
        report = import_tags(library, args.files, active_taxonomy(config))
    print(
        f"read {report.rows} rows: {report.imported} tags imported, "
        f"{len(report.skipped)} malformed rows skipped, {report.matched_tracks} library "
        "tracks matched"
    )
    for line_no, why in report.skipped[:10]:
        print(f"  skipped line {line_no}: {why}")
    return 0


def cmd_library_list(args: argparse.Namespace) -> int:
    config = _config(args)
    with _library(args, config) as library:
        tracks = library.tracks()
    if args.json:
        print_json([t.to_dict() for t in tracks])
        return 0
    for t in tracks:
        d = t.to_dict()
        position = (
            f"v={d['valence']:+.2f} a={d['arousal']:+.2f}" if d["valence"] is not None else "-"
        )
        flag = (
            f" [{t.status}: {t.error}]" if t.status != "ok" else (" [banned]" if t.banned else "")
        )
        print(
            f"{d['mood'] or '-':<11} {position:<15} {d['source']:<8} "
            f"{t.artist or '?'} — {t.title or Path(t.path).name}{flag}"
        )
    print(f"{len(tracks)} tracks")
    return 0


def cmd_recommend(args: argparse.Namespace) -> int:
    config = load_config(args.config, reader_overrides(args.reader, args.models))
    taxonomy = active_taxonomy(config)
    frame = load_photo(args.photo)
    estimate = build_reader(config, taxonomy, photographs=True).read(frame)
    tracks, none = _playable(_library_path(args, config))
    policy = config.selection
    selector, history = TrackSelector(tracks, taxonomy, policy), PlayHistory(policy)
    rng = np.random.default_rng(args.seed)
    picks = []
    for _ in range(min(args.count, len(tracks))):
        pick = selector.pick(estimate, history, rng)
        if pick is None:
            break
        history.add(pick.track)
        picks.append(pick)
    if none:  # the photograph's reading is still worth having
        print(f"moodcast: no tracks listed: {none} — run 'moodcast scan DIR' on a music folder"
              " first", file=sys.stderr)  # fmt: skip
    if args.json:
        result = estimate.to_dict()
        result["tracks"] = [
            {**p.track.to_dict(), "score": round(p.score, 4), "why": p.reason} for p in picks
        ]
        if none:
            result["no_tracks"] = none
        print_json(result)
        return 0
    ev = ", ".join(f"{k} {v}" for k, v in estimate.evidence.items() if k != "caption")
    if "caption" in estimate.evidence:
        print(f"caption: {estimate.evidence['caption']}")
    print(
        f"mood: {estimate.mood} (valence {estimate.valence:+.2f}, arousal "
        f"{estimate.arousal:+.2f}, confidence {estimate.confidence:.2f})\nevidence: {ev}"
    )
    for i, p in enumerate(picks, 1):
        print(f"{i}. {p.track.artist or '?'} — {p.track.title}  [{p.score:.3f}] {p.reason}")
    return 0


def _playable(path: Path) -> tuple[list[Track], str | None]:
    """The library's playable tracks, or why there are none. A library not made yet is not
    created here: reading a photograph needs none, and 'moodcast scan' makes it."""
    if not path.exists():
        return [], f"there is no library at {path} yet"
    with Library(path) as library:
        tracks = library.tracks(playable_only=True)
    return tracks, None if tracks else f"the library {path} has no playable tracks"


def cmd_config_check(args: argparse.Namespace) -> int:
    config = load_config(args.file)
    active_taxonomy(config)
    if args.print:
        print_json(masked(config))
    later = [*unplayable_files(config.announcements), *_rule_names_unknown(config)]
    warnings = config_warnings(config, args.file, more=later)
    for warning in warnings:
        print(f"{args.file}: warning: {warning}")
    print(f"{args.file}: ok" + (f" ({len(warnings)} warning(s))" if warnings else ""))
    return 0


def _rule_names_unknown(config: MoodcastConfig) -> list[tuple[str, str]]:
    """Genres and artists the rules name that no track in the library has (a typo matches
    nothing, silently), as (dotted key, message) for ``config_warnings`` to place; said only
    when the library file exists."""
    path = Path(config.library.path).expanduser()
    if not path.is_file():
        return []
    from moodcast.player.rules import genres_of

    with Library(path) as library:
        tracks = library.tracks()
    genres = set().union(*(genres_of(t) for t in tracks))
    artists = {t.artist.casefold() for t in tracks}
    out = []
    for i, rule in enumerate(config.rules.rules):
        for part in ("include", "exclude"):
            match = getattr(rule, part)
            for kind, known, names in (("genres", genres, match.genres),
                                       ("artists", artists, match.artists)):  # fmt: skip
                unknown = [n for n in names if n.casefold() not in known]
                if unknown:
                    out.append((f"rules.rules.{i}.{part}.{kind}",
                                f"{unknown} are in no track of the library {path}"))  # fmt: skip
    return out


def cmd_web_hash_password(_args: argparse.Namespace) -> int:
    """Prompts on a terminal (twice); reads one line from a pipe (for scripts)."""
    import getpass
    import sys

    from moodcast.edge.web.auth import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("password for the page: ")
        if getpass.getpass("again: ") != password:
            raise MoodcastError("the two passwords differ", "run it again")
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        raise MoodcastError("the password is shorter than 8 characters", "choose a longer one")
    print(hash_password(password))
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    from moodcast.player.tagging import tag_library

    config = _config(args)
    with _library(args, config) as library:
        report = tag_library(
            library,
            active_taxonomy(config),
            workers=args.workers,
            force=args.force,
            write_tags=args.write_tags,
            progress=ProgressBar("tag"),
        )
    print(f"analysed {report.analysed} tracks, {len(report.failed)} could not be analysed")
    for path, why in report.failed:
        print(f"  not analysed: {path}: {why}")
    print(f"loudness measured for {report.measured} tracks, {len(report.loudness_failed)} could"
          " not be measured (they play at player.loudness.default_gain_db)")  # fmt: skip
    for path, why in report.loudness_failed:
        print(f"  loudness not measured: {path}: {why}")
    if args.write_tags:
        print(f"wrote the mood into {report.written} files, {len(report.write_failed)} failed")
        for path, why in report.write_failed:
            print(f"  not written: {path}: {why}")
    return 0


def cmd_library_bans(args: argparse.Namespace) -> int:
    """List the banned tracks, or take one ban back."""
    import datetime as dt

    from moodcast.config.text import safe_text

    config = _config(args)
    with _library(args, config) as library:
        if args.undo is not None:
            if not library.unban(args.undo):
                raise MoodcastError(f"there is no ban {args.undo}", "see 'moodcast library bans'")
            print(f"ban {args.undo} taken back: the track plays again (after the next rescan"
                  " or restart of a running daemon)")  # fmt: skip
            return 0
        bans = library.bans()
    if args.json:
        print_json([{"ban": n, "path": safe_text(path), "artist": safe_text(artist),
                     "title": safe_text(title), "banned_at": when}
                    for n, path, artist, title, when in bans])  # fmt: skip
        return 0
    for n, path, artist, title, when in bans:
        stamp = dt.datetime.fromtimestamp(when).strftime("%Y-%m-%d %H:%M")
        print(
            f"{n:>4}  {stamp}  {safe_text(artist) or '?'} — {safe_text(title) or safe_text(path)}"
        )
    print(f"{len(bans)} banned; 'moodcast library bans --undo N' takes one back")
    return 0


def cmd_library_stats(args: argparse.Namespace) -> int:
    from collections import Counter

    config = _config(args)
    with _library(args, config) as library:
        tracks = library.tracks()
        errors = library.analysis_errors()
    sources = Counter(t.to_dict()["source"] for t in tracks if t.status == "ok")
    moods = Counter(t.mood.mood for t in tracks if t.mood is not None and t.status == "ok")
    flagged = Counter(t.status for t in tracks if t.status != "ok")
    if args.json:
        print_json(
            {"tracks": len(tracks), "sources": dict(sources), "moods": dict(moods),
             "flagged": dict(flagged), "analysis_errors": len(errors)}
        )  # fmt: skip
        return 0
    print(f"{len(tracks)} tracks ({sum(flagged.values())} flagged: {dict(flagged) or 'none'})")
    print("mood data by source:")
    _bars(sources, ["file", "imported", "analysed", "genre", "none"])
    print("moods:")
    _bars(moods, sorted(moods, key=lambda m: -moods[m]))
    if errors:
        print(f"{len(errors)} tracks could not be analysed (see 'moodcast tag' output)")
    return 0


def _bars(counts: dict[str, int], order: list[str]) -> None:
    """A table, with a small bar chart where the terminal can show one."""
    top = max(counts.values(), default=0) or 1
    fancy = sys.stdout.isatty() and (sys.stdout.encoding or "").lower().startswith("utf")
    for key in order:
        n = counts.get(key, 0)
        bar = ("█" if fancy else "#") * round(30 * n / top)
        print(f"  {key:<12} {n:>6}  {bar}")
