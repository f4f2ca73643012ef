"""Runtime state changed by commands (volume, pause, override, auto): not config.

Persisted atomically (write a temporary file, fsync, rename) so that a hard kill leaves
either the old or the new state on disk, never half of one.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from moodcast.config.files import read_regular

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


class StateStore:
    """Loads and saves :class:`RuntimeState`; a damaged file falls back to defaults, loudly."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).expanduser()

    def load(self, default: RuntimeState) -> RuntimeState:
        """The saved state, each value checked: one that cannot be right (out of range, not
        finite, the wrong type) is dropped with a warning and the default used in its place;
        a file that is not a state at all falls back to the defaults. Never raises."""
        try:
            raw = json.loads(read_regular(self.path, _MAX_STATE_BYTES, "state").decode("utf-8"))
        except FileNotFoundError:
            return default
        except (OSError, ValueError) as exc:
            logger.error("runtime state %s unreadable (%s): starting from defaults", self.path, exc)
            return default
        if not isinstance(raw, dict):
            logger.error("runtime state %s holds no state: starting from defaults", self.path)
            return default
        values = {name: self._value(raw, name, check, getattr(default, name))
                  for name, check in _CHECKS.items()}  # fmt: skip
        if values["override_mood"] is None:
            values["override_until"] = None
        return RuntimeState(**values)

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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".state-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(asdict(state), handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
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
