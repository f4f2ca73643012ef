"""Config values that are each valid but cannot work together: found at load time.

Each field's own range is checked by the settings models; these checks look across fields.
Errors stop the load (the daemon would misbehave for months, unnoticed); warnings are shown
by ``config check`` and ``doctor`` and logged when the daemon starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from moodcast.config.settings import MoodcastConfig, Rule

MAX_OVERRIDE_MINUTES = 7 * 24 * 60  # the mood command's own limit (a week)


@dataclass(frozen=True)
class Finding:
    level: Literal["error", "warning"]
    key: str  # dotted path of the value at fault
    message: str


def validate(config: MoodcastConfig) -> list[Finding]:
    """Everything the field types cannot see, errors first: values that cannot work together
    and mood names the taxonomy lacks. ``load_config`` refuses a config with an error, so a
    config that passes ``config check`` is one the daemon starts with."""
    from moodcast.config.moods import mood_name_errors

    found = [*_override(config), *_volumes(config), *_drive(config), *_schedule(config),
             *_camera(config), *_mqtt(config), *_web(config), *_rules(config),
             *_announcements(config),
             *(Finding("error", key, text) for key, text in mood_name_errors(config))]  # fmt: skip
    return sorted(found, key=lambda f: f.level != "error")


def _override(config: MoodcastConfig) -> list[Finding]:
    minutes = config.smoothing.override_minutes
    if minutes > MAX_OVERRIDE_MINUTES:
        return [Finding("error", "smoothing.override_minutes",
                        f"{minutes:g} minutes is longer than a mood command may ask for"
                        f" ({MAX_OVERRIDE_MINUTES}, a week): every override without 'minutes'"
                        " would be refused")]  # fmt: skip
    return []


def _volumes(config: MoodcastConfig) -> list[Finding]:
    """A volume the config itself sets above ``player.max_volume`` would be cut at once."""
    cap = config.player.max_volume
    named = [("player.volume", config.player.volume),
             ("player.startup_volume", config.player.startup_volume),
             *((f"schedule.dayparts.{i}.volume", d.volume)
               for i, d in enumerate(config.schedule.dayparts))]  # fmt: skip
    return [
        Finding(
            "error",
            key,
            f"volume {value} is above player.max_volume ({cap}):"
            f" lower it, or raise player.max_volume",
        )
        for key, value in named
        if value is not None and value > cap
    ]


def _drive(config: MoodcastConfig) -> list[Finding]:
    """A situation's arousal limits that leave no room; car settings with no car to read."""
    out = []
    for name, rule in config.vehicle.respond.items():
        low, high = rule.arousal_min, rule.arousal_max
        if low is not None and high is not None and low > high:
            out.append(Finding("error", f"vehicle.respond.{name}",
                               f"arousal_min {low} is above arousal_max {high}: no mood"
                               " could play in that situation"))  # fmt: skip
    if config.vehicle.respond and not config.vehicle.enabled:
        out.append(Finding("warning", "vehicle.respond", "no car signals to read (set"
                           " vehicle.obd or vehicle.gpsd): the responses never apply"))  # fmt: skip
    return out


def _special_days(config: MoodcastConfig) -> list[Finding]:
    """Two special days that share a date: which one holds would depend on their order."""
    days = config.schedule.special_days
    out = []
    for i, a in enumerate(days):
        for j in range(i + 1, len(days)):
            b = days[j]
            if a.first <= b.last and b.first <= a.last:
                shared = max(a.first, b.first)
                out.append(Finding("error", f"schedule.special_days.{j}",
                                   f"overlaps schedule.special_days.{i} (both hold on"
                                   f" {shared}): give each date one rule"))  # fmt: skip
    return out


def _schedule(config: MoodcastConfig) -> list[Finding]:
    s = config.schedule
    out = [*_special_days(config)]
    for i, window in enumerate(s.opening_hours):
        if window.open == window.close:
            out.append(
                Finding(
                    "error",
                    f"schedule.opening_hours.{i}",
                    f"opens and closes at the same time ({window.open}): the music"
                    " would never play; for always, leave opening_hours empty",
                )
            )
        if not window.days:
            out.append(Finding("warning", f"schedule.opening_hours.{i}.days",
                               "no days: this window never opens"))  # fmt: skip
    starts = [d.start for d in s.dayparts]
    for start in sorted({t for t in starts if starts.count(t) > 1}):
        out.append(
            Finding(
                "error",
                "schedule.dayparts",
                f"two dayparts start at {start}: which volume holds is undefined",
            )
        )
    return out


def _camera(config: MoodcastConfig) -> list[Finding]:
    c, interval = config.camera, config.schedule.capture_interval_s
    out = []
    if c.retry_interval_s > c.retry_max_s:
        out.append(Finding("error", "camera.retry_interval_s",
                           f"first retry wait {c.retry_interval_s:g} s is above"
                           f" camera.retry_max_s ({c.retry_max_s:g} s)"))  # fmt: skip
    if c.stall_timeout_s < 2 * interval:
        out.append(
            Finding(
                "warning",
                "camera.stall_timeout_s",
                f"{c.stall_timeout_s:g} s is under two capture intervals"
                f" ({2 * interval:g} s): a still scene reads as a frozen camera",
            )
        )
    if config.smoothing.half_life_s < interval:
        out.append(
            Finding(
                "warning",
                "smoothing.half_life_s",
                f"{config.smoothing.half_life_s:g} s is under the capture interval"
                f" ({interval:g} s): each reading replaces the last, no smoothing",
            )
        )
    return out


def _mqtt(config: MoodcastConfig) -> list[Finding]:
    m = config.mqtt
    out = []
    if m.ca_file is not None and not m.tls:
        out.append(Finding("warning", "mqtt.ca_file", "set, but mqtt.tls is off: it is unused"))
    if (m.username is None) != (m.password is None):
        key = "mqtt.username" if m.username else "mqtt.password"  # the one that is set
        out.append(Finding("warning", key, "user name and password go together; one is unset"))
    return out


def _web(config: MoodcastConfig) -> list[Finding]:
    w = config.web
    if w.staff_password_hash is not None and w.password_hash is None and w.token_file is None:
        return [Finding("error", "web.staff_password_hash",
                        "staff need an owner: set web.password_hash too (without it anyone"
                        " on the page has every right)")]  # fmt: skip
    if w.enabled and not w.loopback and w.password_hash is None and w.token_file is None:
        return [Finding("error", "web.host",
                        f"the page on {w.host} would be open to the network without a password:"
                        " set web.password_hash ('moodcast web hash-password') or"
                        " web.token_file")]  # fmt: skip
    stored = w.password_hash.get_secret_value() if w.password_hash is not None else None
    if stored is not None and not stored.startswith(("scrypt$", "pbkdf2_sha256$")):
        return [Finding("error", "web.password_hash",
                        "not a hash from 'moodcast web hash-password' (scrypt$…)")]  # fmt: skip
    if stored is not None and stored.startswith("pbkdf2_sha256$"):
        return [Finding("warning", "web.password_hash",
                        "a PBKDF2 hash of an earlier version: it still works, but replace it"
                        " with the output of 'moodcast web hash-password' (scrypt, as OWASP"
                        " advises)")]  # fmt: skip
    return []


def _rules(config: MoodcastConfig) -> list[Finding]:
    rules = config.rules.rules
    out = []
    for i, rule in enumerate(rules):
        key = f"rules.rules.{i}"
        for axis in ("valence", "arousal"):
            low, high = getattr(rule, f"{axis}_min"), getattr(rule, f"{axis}_max")
            if low > high:
                out.append(Finding("error", f"{key}.{axis}_min",
                                   f"{axis}_min {low:g} is above {axis}_max {high:g}:"
                                   " no track can meet it"))  # fmt: skip
        if rule.start is not None and rule.start == rule.end:
            out.append(Finding("error", f"{key}.start",
                               f"starts and ends at {rule.start}: never in force"))  # fmt: skip
        for field in ("folders", "genres", "artists", "moods"):
            both = {str(v).casefold() for v in getattr(rule.include, field)} & {
                str(v).casefold() for v in getattr(rule.exclude, field)}  # fmt: skip
            if both:
                out.append(Finding("error", f"{key}.exclude.{field}",
                                   f"{sorted(both)} both included and excluded"))  # fmt: skip
        for j, folder in enumerate(rule.include.folders + rule.exclude.folders):
            if not folder.expanduser().is_dir():
                where = "include" if j < len(rule.include.folders) else "exclude"
                out.append(Finding("warning", f"{key}.{where}.folders",
                                   f"{folder} is not a folder (here, now)"))  # fmt: skip
    for i, j in _overlapping_pairs(config):
        a, b = rules[i], rules[j]
        if _disjoint(a.valence_min, a.valence_max, b.valence_min, b.valence_max) or _disjoint(
            a.arousal_min, a.arousal_max, b.arousal_min, b.arousal_max
        ):
            out.append(Finding("error", f"rules.rules.{j}",
                               f"contradicts rule {a.name!r} (rules.rules.{i}) while both are in"
                               " force: their valence/arousal regions do not meet"))  # fmt: skip
    return out


def _disjoint(low1: float, high1: float, low2: float, high2: float) -> bool:
    return high1 < low2 or high2 < low1


def _overlapping_pairs(config: MoodcastConfig) -> list[tuple[int, int]]:
    """Pairs of rules in force at the same time somewhere in the week (every 15 minutes)."""
    from datetime import datetime, timedelta

    from moodcast.config.clock import in_window

    rules = config.rules.rules
    monday = datetime(2024, 1, 1)
    pairs: set[tuple[int, int]] = set()
    for step in range(7 * 24 * 4):
        at = monday + timedelta(minutes=15 * step)
        active = [i for i, r in enumerate(rules) if in_window(r.days, r.start, r.end, at)]
        pairs.update((a, b) for n, a in enumerate(active) for b in active[n + 1 :])
    return sorted((a, b) for a, b in pairs if _dates_meet(rules[a], rules[b]))


def _dates_meet(a: Rule, b: Rule) -> bool:
    """Whether two rules' date ranges share a day (a rule without dates holds on every one),
    or touch (a window past midnight reaches into the next day)."""
    start = max(d for d in (a.from_, b.from_, date.min) if d is not None)
    end = min(d for d in (a.to, b.to, date.max) if d is not None)
    return start <= end or (start - end).days <= 1


def _announcements(config: MoodcastConfig) -> list[Finding]:
    a = config.announcements
    out = []
    names = [item.name for item in a.items]
    for name in sorted({n for n in names if names.count(n) > 1}):
        out.append(Finding("error", "announcements.items", f"two announcements named {name!r}"))
    folder = Path(a.folder or ".").expanduser()
    for i, item in enumerate(a.items):
        key = f"announcements.items.{i}"
        if (item.file is None) == (item.text is None):
            out.append(Finding("error", key, f"{item.name!r}: give a file or a text, one of them"))
        elif item.file is not None and a.folder is None:
            out.append(Finding("error", f"{key}.file", "a file needs announcements.folder"))
        elif item.file is not None and not (folder / item.file).is_file():
            out.append(Finding("warning", f"{key}.file",
                               f"{a.folder}/{item.file} is not there (now)"))  # fmt: skip
    if a.chime is not None and a.folder is None:
        out.append(Finding("error", "announcements.chime", "a chime needs announcements.folder"))
    elif a.chime is not None and not (folder / a.chime).is_file():
        out.append(Finding("warning", "announcements.chime",
                           f"{a.folder}/{a.chime} is not there (now): announcements play"
                           " without it"))  # fmt: skip
    return out
