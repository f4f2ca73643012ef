"""Runtime state changed by commands (volume, pause, override, auto): not config.

Persisted atomically (write a temporary file, fsync, rename) so that a hard kill leaves
either the old or the new state on disk, never half of one.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


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
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            state = RuntimeState(
                volume=max(0, min(100, int(raw.get("volume", default.volume)))),
                paused=bool(raw.get("paused", default.paused)),
                auto=bool(raw.get("auto", default.auto)),
                override_mood=_opt_str(raw.get("override_mood")),
                override_until=_opt_float(raw.get("override_until")),
            )
        except FileNotFoundError:
            return default
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            logger.error("runtime state %s unreadable (%s): starting from defaults", self.path, exc)
            return default
        return state

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


def _opt_str(value: Any) -> str | None:
    return str(value) if value else None


def _opt_float(value: Any) -> float | None:
    return float(value) if value is not None else None
