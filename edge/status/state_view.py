"""The typed device state, derived from the conductor's parts at one moment (docs/state.md).

One function builds :class:`DeviceState` from what the parts hold; every consumer (MQTT, Home
Assistant, the page, the fleet) reads its one serialisation, ``to_wire``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moodcast.config.settings import SpecialDay
from moodcast.edge.music.hours import next_change, special_day
from moodcast.edge.status.device_state import (
    DeviceState,
    Point,
    Position,
    RulesView,
    ScheduleView,
    StorageView,
    Target,
    TrackView,
)
from moodcast.models.mood import MoodEstimate
from moodcast.player.track import Track

if TYPE_CHECKING:
    from moodcast.edge.music.conductor import Conductor


def device_state(c: Conductor) -> DeviceState:
    """The typed state, derived from the parts at this moment."""
    estimate, source = c.target()
    camera = source == "camera" and c.mood.smoothed is not None
    reading = c.mood.smoothed.estimate if camera and c.mood.smoothed else estimate
    mood = c.mood.smoothed.mood if camera and c.mood.smoothed else estimate.mood
    top = sorted(reading.probabilities.items(), key=lambda kv: -kv[1])[:3]
    h, current, rules = c.health, c.announcements.current, c.repertoire.rules
    schedule = c.config.schedule
    change = next_change(schedule.opening_hours, c.clocks.local(), schedule.special_days)
    today = special_day(schedule.special_days, c.clocks.local())
    position = c.player.position_s()
    return DeviceState(
        mood=mood, mood_label=c.mood.labels.get(mood, mood), mood_source=source,
        valence=round(reading.valence, 3), arousal=round(reading.arousal, 3),
        confidence=round(reading.confidence, 3), moods={k: round(v, 3) for k, v in top},
        target=Target(estimate.mood, round(estimate.valence, 3), round(estimate.arousal, 3),
                      c.mood.labels.get(estimate.mood, estimate.mood)),
        reading=_position(c.mood.last_reading),
        main_evidence=main_evidence(c.mood.smoothed.estimate) if c.mood.smoothed else None,
        evidence=dict(c.mood.smoothed.estimate.evidence) if c.mood.smoothed else {},
        caption=_caption(c),
        reader=c.config.reader.kind if not h.reader_detail else "scene",
        reader_detail=h.reader_detail or None,
        now_playing=track_view(c.player.now_playing),
        position_s=Position(position["at"], position["length"]) if position else None,
        queue_head=track_view(head.track) if (head := c.next_up.head(c.selector)) else None,
        volume=c.state.volume, paused=c.state.paused, auto=c.state.auto,
        override=c.state.override_active(c.clocks.wall()),
        override_until=c.state.override_until, open=bool(c.is_open),
        schedule=ScheduleView(change.timestamp() if change else None,
                              c.opening.daypart.volume if c.opening.daypart else None,
                              _special_text(today)),
        announcing=current.label if current else None,
        announcements_waiting=c.announcements.waiting,
        rules=RulesView(rules.in_force, rules.note or None, len(rules.tracks)),
        camera=h.camera, camera_detail=h.camera_detail,
        broker=h.broker if c.config.mqtt.enabled else "off", readings=h.readings,
        storage=StorageView(c.repertoire.pending.problem or "ok",
                            c.keeper.unsaved or "ok"),
        problems=h.standing(), last_error=h.last_error or None,
        vehicle=(c.vehicle.view(c.clocks.mono(), c.clocks.wall()).to_dict()
                 if c.vehicle is not None else None),
    )  # fmt: skip


def _special_text(day: SpecialDay | None) -> str | None:
    """Today's special day in words ('Christmas: closed', 'other hours 10:00–14:00')."""
    if day is None:
        return None
    what = "closed" if day.closed else f"open {day.open}–{day.close}"
    return f"{day.name}: {what}" if day.name else what


def _caption(c: Conductor) -> str | None:
    if not c.config.mqtt.publish_caption or c.mood.smoothed is None:
        return None
    caption = c.mood.smoothed.estimate.evidence.get("caption")
    return str(caption) if caption is not None else None


def main_evidence(estimate: MoodEstimate, items: int = 3) -> str:
    """The caption when there is one, else why the frame says little (black, noise), else
    what was seen, else the first few cues, as one short text; a frame without colour (a
    camera in night vision) is said first: it is read by another fusion."""
    ev = estimate.evidence
    if "caption" in ev:
        return f"caption {str(ev['caption'])[:120]!r}"
    if ev.get("frame"):
        return f"the frame says little: {str(ev['frame'])[:120]}"
    colourless = "no colour in the frame (night vision?); " if ev.get("colour") else ""
    if ev.get("seen"):
        return f"{colourless}saw {str(ev['seen'])[:120]!r}"
    cues = [f"{k} {v}" for k, v in ev.items() if k != "colour"][:items]
    return colourless + (", ".join(cues) or "no evidence")


def _position(estimate: MoodEstimate | None) -> Point | None:
    """The latest raw reading (before smoothing), for the page's chart."""
    if estimate is None:
        return None
    return Point(estimate.mood, round(estimate.valence, 3), round(estimate.arousal, 3))


def track_view(track: Track | None, why: str = "") -> TrackView | None:
    if track is None:
        return None
    m = track.mood
    return TrackView(track.id, track.artist, track.title, track.duration,
                     m.mood if m else None, round(m.valence, 3) if m else None,
                     round(m.arousal, 3) if m else None, why)  # fmt: skip
