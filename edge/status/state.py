"""Runtime state changed by commands (volume, pause, override, auto): not config.

Persisted atomically (write a temporary file, fsync, rename) so that a hard kill leaves
either the old or the new state on disk, never half of one. When the disk will not take it
(full, read-only), a spare copy goes to memory (a tmpfs: systemd's RuntimeDirectory, else
/dev/shm): a restart before the disk heals starts from the newer of the two, not from what
the disk last held.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from moodcast.config.files import read_regular
from moodcast.config.text import finite_number, parse_json

logger = logging.getLogger(__name__)

_MAX_STATE_BYTES = 64 << 10  # the state is a few hundred bytes


@dataclass(frozen=True)
class RuntimeState:
    volume: int = 70
    paused: bool = False
    auto: bool = True
    override_mood: str | None = None
    override_until: float | None = None  # wall-clock epoch seconds

    def override_active(self, now: float) -> str | None:
        if self.override_mood and (self.override_until is None or now < self.override_until):
            return self.override_mood
        return None

    def with_(self, **changes: Any) -> RuntimeState:
        return replace(self, **changes)


def default_spare(path: Path) -> Path:
    """Where the spare copy of the state file at ``path`` lives: memory, not the disk."""
    folder = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    if not folder or not os.path.isdir(folder):
        folder = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
    name = hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return Path(folder) / f"moodcast-state-{name}.json"


class StateStore:
    """Loads and saves :class:`RuntimeState`; a damaged file falls back to defaults, loudly."""

    def __init__(self, path: Path, spare: Path | None = None) -> None:
        self.path = Path(path).expanduser()
        self.spare = spare if spare is not None else default_spare(self.path)
        self.from_spare = False  # the last load took the spare copy: the disk had not got it

    def load(self, default: RuntimeState) -> RuntimeState:
        """The saved state (the spare copy when it is newer), each value checked: one that
        cannot be right (out of range, not finite, the wrong type) is dropped with a warning
        and the default used in its place; a file that is not a state at all falls back to
        the defaults. Never raises."""
        raw = self._read(self.path)
        spare = self._read(self.spare, quiet=True) if self.spare != self.path else None
        self.from_spare = spare is not None and _saved_at(spare) > _saved_at(raw or {})
        if self.from_spare:
            logger.warning("runtime state taken from the spare copy %s: it is newer than %s"
                           " (the disk did not take the last change)", self.spare,
                           self.path)  # fmt: skip
            raw = spare
        if raw is None:
            return default
        values = {name: self._value(raw, name, check, getattr(default, name))
                  for name, check in _CHECKS.items()}  # fmt: skip
        if values["override_mood"] is None:
            values["override_until"] = None
        return RuntimeState(**values)

    def _read(self, path: Path, quiet: bool = False) -> dict[str, Any] | None:
        try:
            raw = parse_json(read_regular(path, _MAX_STATE_BYTES, "state").decode("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            if not quiet:
                logger.error("runtime state %s unreadable (%s): starting from defaults", path,
                             exc)  # fmt: skip
            return None
        if not isinstance(raw, dict):
            if not quiet:
                logger.error("runtime state %s holds no state: starting from defaults", path)
            return None
        return raw

    def _value(self, raw: dict[str, Any], name: str, check: Any, default: Any) -> Any:
        if name not in raw:
            return default
        try:
            return check(raw[name])
        except (ValueError, TypeError, OverflowError) as exc:
            logger.warning("runtime state %s: %s %r dropped (%s); using %r", self.path, name,
                           raw[name], exc, default)  # fmt: skip
            return default

    def save(self, state: RuntimeState) -> None:
        """Onto the disk; once there, the spare copy is no longer needed."""
        _write(self.path, state)
        self.spare.unlink(missing_ok=True)

    def save_spare(self, state: RuntimeState) -> str:
        """Into memory while the disk will not take it; '' when done, else why not."""
        try:
            _write(self.spare, state)
        except OSError as exc:
            return str(exc.strerror or exc)
        return ""


def _saved_at(raw: dict[str, Any]) -> float:
    """When a copy was saved; 0 for anything that is not a time (a whole number of 400
    digits raised OverflowError here and stopped the start)."""
    return finite_number(raw.get("saved_at")) or 0.0


def _write(path: Path, state: RuntimeState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".state-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({**asdict(state), "saved_at": time.time()}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        raise


def _volume(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("not a finite number")
    if not 0 <= value <= 100:
        raise ValueError("outside 0-100")
    return round(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("not true or false")
    return value


def _mood(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 100:
        raise ValueError("not a mood name")
    return value


def _until(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("not a finite time")
    return float(value)


_CHECKS = {"volume": _volume, "paused": _flag, "auto": _flag, "override_mood": _mood,
           "override_until": _until}  # fmt: skip
