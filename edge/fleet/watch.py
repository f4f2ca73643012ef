"""Which shops need a person: pure rules over what each device last said (clock-injected).

A device that should be playing (its own opening hours, as its state says: ``open`` and
``schedule.next_change``) but is offline, paused or silent for more than ``after_s``, or has
a problem standing that long, raises an alert; the alert clears when the device heals. A
closed shop never raises one: a box switched off at night is not news.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Seen:
    """What the fleet knows of one device."""

    device: str
    online: bool
    since: float  # when ``online`` last changed (or first seen)
    state: Mapping[str, Any]  # the device's last state (docs/state.md), {} if none yet
    state_at: float  # when that state arrived


@dataclass(frozen=True)
class Condition:
    """Something wrong with a device now, and since when (an alert once it lasts)."""

    kind: str  # offline, paused, silent, problem
    text: str
    since: float


def should_play(seen: Seen, now: float) -> bool | None:
    """Whether the shop is within its opening hours now, from its last state: open then, and
    the next change (opening or closing) not yet come; past it, the other way. None when
    the device never said (no state), or more than one change may have passed."""
    state = seen.state
    if not state or not isinstance(state.get("open"), bool):
        return None
    schedule = state.get("schedule") or {}
    change = schedule.get("next_change") if isinstance(schedule, Mapping) else None
    if not isinstance(change, int | float):
        return bool(state["open"])  # always open (no hours), or never changes
    if now < change:
        return bool(state["open"])
    return None if state["open"] else True  # a closing came: unknown; an opening: open now


def conditions(seen: Seen, now: float) -> list[Condition]:
    """What is wrong now with a device that should be playing (nothing for a closed shop)."""
    if should_play(seen, now) is not True:
        return []
    if not seen.online:
        return [Condition("offline", f"{seen.device} is offline during opening hours",
                          seen.since)]  # fmt: skip
    state, out = seen.state, []
    if state.get("paused") is True:
        out.append(Condition("paused", f"{seen.device} is paused during opening hours",
                             _since(state, "paused_since", seen.state_at)))  # fmt: skip
    elif state.get("now_playing") is None:
        out.append(Condition("silent", f"{seen.device} plays nothing during opening hours",
                             _since(state, "silent_since", seen.state_at)))  # fmt: skip
    problems = state.get("problems") or []
    if isinstance(problems, list) and problems:
        oldest = min((p.get("since", now) for p in problems if isinstance(p, Mapping)),
                     default=now)  # fmt: skip
        texts = "; ".join(str(p.get("text", "")) for p in problems if isinstance(p, Mapping))
        out.append(Condition("problem", f"{seen.device}: {texts}"[:500], float(oldest)))
    return out


def _since(state: Mapping[str, Any], key: str, default: float) -> float:
    value = state.get(key)
    return float(value) if isinstance(value, int | float) else default


@dataclass
class Alerting:
    """Conditions that last ``after_s`` become alerts; an alert clears when its condition
    goes. ``step`` says what to raise and what to clear, once each."""

    after_s: float
    _first_seen: dict[tuple[str, str], float] | None = None
    raised: dict[tuple[str, str], str] | None = None

    def step(self, devices: Mapping[str, Seen],
             now: float) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:  # fmt: skip
        """(device, kind, text) newly raised and (device, kind) newly cleared."""
        first = self._first_seen if self._first_seen is not None else {}
        raised = self.raised if self.raised is not None else {}
        current: dict[tuple[str, str], Condition] = {}
        for seen in devices.values():
            for c in conditions(seen, now):
                current[(seen.device, c.kind)] = c
        for key, c in current.items():
            first.setdefault(key, min(c.since, now))
        new = [(d, k, current[(d, k)].text) for (d, k) in current
               if (d, k) not in raised and now - first[(d, k)] >= self.after_s]  # fmt: skip
        for d, k, text in new:
            raised[(d, k)] = text
        gone = [key for key in raised if key not in current]
        for key in gone:
            del raised[key]
        for key in [k for k in first if k not in current]:
            del first[key]
        self._first_seen, self.raised = first, raised
        return new, gone


def status_of(online: bool, state: Mapping[str, Any]) -> str:
    """offline, paused, playing, silent (open, nothing playing) or closed."""
    if not online:
        return "offline"
    if state.get("paused"):
        return "paused"
    if state.get("now_playing"):
        return "playing"
    return "silent" if state.get("open") else "closed"


def problem_texts(state: Mapping[str, Any]) -> list[str]:
    return [str(p.get("text")) for p in state.get("problems") or [] if isinstance(p, dict)]
