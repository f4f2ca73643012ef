"""The device's runtime state as one typed value, and the forms each consumer reads.

The conductor's parts fill in a :class:`DeviceState`; :func:`to_wire` turns it into the JSON
object that MQTT's retained ``state`` topic, Home Assistant's templates, the page and the fleet
service read (``docs/state.md`` is its schema, versioned by ``schema``). Text is made safe here,
once, for every consumer: valid UTF-8, no control characters.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from moodcast.config.text import safe_text
from moodcast.edge.status.problems import Problem

__all__ = ["SCHEMA_VERSION", "DeviceState", "safe_text", "safe_value", "to_wire"]

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class TrackView:
    id: int
    artist: str
    title: str
    duration: float | None
    mood: str | None
    valence: float | None
    arousal: float | None
    why: str = ""


@dataclass(frozen=True)
class Point:
    """A place in the valence/arousal plane, with its named mood."""

    mood: str
    valence: float
    arousal: float


@dataclass(frozen=True)
class Target(Point):
    label: str = ""


@dataclass(frozen=True)
class Position:
    at: float
    length: float | None


@dataclass(frozen=True)
class ScheduleView:
    next_change: float | None  # epoch seconds of the next opening or closing
    daypart_volume: int | None
    special_day: str | None = None  # today's closure or other hours, in words


@dataclass(frozen=True)
class RulesView:
    in_force: tuple[str, ...]
    note: str | None
    tracks_allowed: int


@dataclass(frozen=True)
class StorageView:
    library: str = "ok"  # or why the library cannot be written
    state: str = "ok"  # or why the runtime state cannot be saved


@dataclass(frozen=True)
class DeviceState:
    """Everything the device says about itself; one value, built on the daemon's thread."""

    mood: str
    mood_label: str
    mood_source: str  # camera, override, fixed, default
    valence: float
    arousal: float
    confidence: float
    moods: dict[str, float]  # the three likeliest named moods
    target: Target
    reading: Point | None  # the latest raw reading, before smoothing
    main_evidence: str | None
    evidence: dict[str, Any]
    caption: str | None
    reader: str
    reader_detail: str | None
    now_playing: TrackView | None
    position_s: Position | None
    queue_head: TrackView | None
    volume: int
    paused: bool
    auto: bool
    override: str | None
    override_until: float | None
    open: bool
    schedule: ScheduleView
    announcing: str | None
    announcements_waiting: int
    rules: RulesView
    camera: str
    camera_detail: str
    broker: str
    readings: int
    storage: StorageView
    problems: tuple[Problem, ...] = field(default=())
    last_error: str | None = None
    vehicle: dict[str, Any] | None = None  # the car's signals (edge/car/vehicle.VehicleView)


def track_dict(view: TrackView | None) -> dict[str, Any] | None:
    if view is None:
        return None
    out = asdict(view)
    if not view.why:
        del out["why"]
    return out


def safe_value(value: Any) -> Any:
    """A JSON-able value with every text in it made safe (:func:`safe_text`)."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_text(str(k)): safe_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [safe_value(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):  # NaN is not JSON
        return None
    return value


def to_wire(state: DeviceState) -> dict[str, Any]:
    """The JSON object every consumer reads (schema: docs/state.md)."""
    playing = state.now_playing
    out: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        **{
            k: getattr(state, k)
            for k in (
                "mood",
                "mood_label",
                "mood_source",
                "valence",
                "arousal",
                "confidence",
                "moods",
            )
        },
        "target": asdict(state.target),
        "reading": asdict(state.reading) if state.reading else None,
        "main_evidence": state.main_evidence,
        "evidence": dict(state.evidence),
        "caption": state.caption,
        "reader": state.reader,
        "reader_detail": state.reader_detail,
        "now_playing": track_dict(playing),
        "now_playing_text": f"{playing.artist or '?'} – {playing.title}" if playing else "nothing",
        "position_s": asdict(state.position_s) if state.position_s else None,
        "queue_head": track_dict(state.queue_head),
        **{
            k: getattr(state, k)
            for k in ("volume", "paused", "auto", "override", "override_until", "open")
        },
        "schedule": asdict(state.schedule),
        "announcing": state.announcing,
        "announcements_waiting": state.announcements_waiting,
        "rules": {**asdict(state.rules), "in_force": list(state.rules.in_force)},
        "camera": state.camera,
        "camera_detail": state.camera_detail,
        "broker": state.broker,
        "readings": state.readings,
        "last_error": state.last_error,
        "problems": [
            {"kind": p.kind.value, "text": p.text, "since": p.since} for p in state.problems
        ],
        "storage": asdict(state.storage),
        "vehicle": state.vehicle,
    }
    return dict(safe_value(out))
