"""The last good central settings (rules and named announcements a fleet sent), kept beside
the state file so that a box restarted while its broker is away starts with them."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from moodcast.config.errors import MoodcastError
from moodcast.config.settings import MoodcastConfig, with_central
from moodcast.config.text import parse_json

logger = logging.getLogger(__name__)


def central_path(state_file: Path) -> Path:
    return state_file.with_name(state_file.name + ".central.json")


def save_central(state_file: Path, body: str) -> str:
    """Written whole (a temporary file, then renamed); '' when kept, else why not."""
    path = central_path(state_file)
    try:
        temporary = path.with_name(path.name + ".new")
        temporary.write_text(body, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        return f"not kept for the next start: {exc.strerror or exc}"
    return ""


def with_saved_central(config: MoodcastConfig) -> MoodcastConfig:
    """The config with the central settings kept last time, if any that still pass; a kept
    file that no longer does is said and left aside (the config's own rules apply)."""
    path = central_path(config.state_file)
    if not path.is_file():
        return config
    try:
        merged = with_central(config, parse_json(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, MoodcastError) as exc:
        logger.error("central settings kept in %s not used: %s", path, exc)
        return config
    logger.info("central settings from the fleet in force (kept in %s)", path)
    return merged
