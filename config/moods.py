"""Mood names in the config checked against the taxonomy they belong to, at load time.

The config layer cannot build a :class:`Taxonomy` (that lives in ``models``), but it can read a
taxonomy file's mood names, which is all these checks need: a ``mood.forbid``, ``mood.labels``,
``mood.respond`` or rule naming a mood the taxonomy lacks is refused by ``config check`` with
the key and the names to use, instead of when the daemon starts.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from moodcast.config.files import is_there
from moodcast.config.settings import PUBLIC_PLACE_FORBID, MoodcastConfig


def taxonomy_file(preset_or_path: str) -> Path:
    """The file of a shipped preset (``cowen13``, ``moodsic5``: no suffix) or the path given."""
    from moodcast.config import resource

    path = Path(preset_or_path)
    return resource(f"taxonomies/{preset_or_path}.yaml") if not path.suffix else path


def taxonomy_names(preset_or_path: str) -> tuple[str, ...] | str:
    """The mood names of a preset or taxonomy file, or why they cannot be read."""
    path = taxonomy_file(preset_or_path)
    if not is_there(path):
        return f"taxonomy {preset_or_path!r} not found: use cowen13, moodsic5 or a taxonomy file"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        names = tuple(str(m["name"]) for m in raw["moods"])
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError,
            RecursionError) as exc:  # fmt: skip
        return f"taxonomy file {path} cannot be read ({type(exc).__name__}: {exc})"
    return names or f"taxonomy file {path} names no moods"


def mood_name_errors(config: MoodcastConfig) -> list[tuple[str, str]]:
    """(dotted key, message) for every mood name the configured taxonomy lacks."""
    mood = config.mood
    names = taxonomy_names(mood.taxonomy)
    if isinstance(names, str):
        return [("mood.taxonomy", names)]
    known = ", ".join(names)
    errors = [(f"mood.forbid.{i}", f"{n!r} is not a mood of {mood.taxonomy!r}: use one of {known}")
              for i, n in enumerate(mood.forbid or []) if n not in names]  # fmt: skip
    banned = set(mood.forbid) if mood.forbid is not None else set(PUBLIC_PLACE_FORBID)
    allowed = [n for n in names if n not in banned]
    if not allowed:
        errors.append(("mood.forbid", "every mood is forbidden: leave at least one allowed"))
    usable = ", ".join(allowed)
    for key, named in ([(f"mood.labels.{k}", k) for k in (mood.labels or {})]
                       + [(f"mood.respond.{k}", k) for k in mood.respond]
                       + [(f"mood.respond.{k}", v) for k, v in mood.respond.items()]):  # fmt: skip
        if named not in allowed:
            errors.append((key, f"{named!r} is not an allowed mood of {mood.taxonomy!r}: use one"
                                f" of {usable}"))  # fmt: skip
    for i, rule in enumerate(config.rules.rules):
        for part in ("include", "exclude"):
            unknown = [m for m in getattr(rule, part).moods if m not in names]
            if unknown:
                errors.append((f"rules.rules.{i}.{part}.moods",
                               f"{unknown} are not moods of {mood.taxonomy!r}: use some of"
                               f" {known}"))  # fmt: skip
    return errors
