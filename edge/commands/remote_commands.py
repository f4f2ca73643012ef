"""MQTT commands: a table of verbs, each with a strict payload parser.

A payload is parsed into a small command object or rejected with a message that says what
was expected; nothing from a payload reaches a path, a shell or SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from moodcast.config.combinations import MAX_OVERRIDE_MINUTES
from moodcast.config.text import (
    finite_number,
    parse_json,
    safe_text,
    spoken_text,
    whole_number,
)

MAX_PAYLOAD = 1024


class CommandError(ValueError):
    """A payload that was rejected; the message names what was expected."""


@dataclass(frozen=True)
class Skip:
    pass


@dataclass(frozen=True)
class SetPaused:
    paused: bool


@dataclass(frozen=True)
class SetVolume:
    volume: int


@dataclass(frozen=True)
class SetOverride:
    mood: str | None  # None: back to the camera's mood
    minutes: float


@dataclass(frozen=True)
class SetAuto:
    auto: bool


@dataclass(frozen=True)
class Rescan:
    pass


@dataclass(frozen=True)
class Ban:
    """ "Not this track": never play it again (None: the track playing now)."""

    track_id: int | None = None


@dataclass(frozen=True)
class Announce:
    """One of: a configured announcement by name, a file of the announcement folder, a text
    to speak. Only a bare file name is taken: nothing outside the folder can be named."""

    name: str = ""
    file: str = ""
    text: str = ""
    when: str = ""  # "", "duck", "between_tracks" or "urgent" ('': the item's or "duck")


Command = Skip | SetPaused | SetVolume | SetOverride | SetAuto | Rescan | Announce | Ban

MAX_ANNOUNCE_TEXT = 300

_TRUE = {"on", "true", "1", "yes"}
_FALSE = {"off", "false", "0", "no"}


def _text(payload: bytes) -> str:
    if len(payload) > MAX_PAYLOAD:
        raise CommandError(f"payload too long ({len(payload)} bytes, at most {MAX_PAYLOAD})")
    try:
        return payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise CommandError("payload is not UTF-8 text") from None


def _json_or_text(text: str) -> object:
    if (text and text[0] in '{["') or text in {"true", "false", "null"}:
        try:
            return parse_json(text)
        except ValueError:
            raise CommandError("payload looks like JSON but does not parse") from None
    return text


def _flag(payload: bytes, default: bool | None) -> bool:
    value = _json_or_text(_text(payload))
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        folded = value.casefold()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
        if folded in {"", "press"} and default is not None:
            return default
    raise CommandError("expected ON or OFF (or true/false)")


def _volume(payload: bytes) -> Command:
    value = _json_or_text(_text(payload))
    if isinstance(value, dict):
        value = value.get("volume")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise CommandError("expected a volume from 0 to 100") from None
    volume = finite_number(value)
    if volume is None:
        raise CommandError("expected a volume from 0 to 100")
    if not 0 <= volume <= 100:
        raise CommandError(f"volume {value} is out of range: expected 0 to 100")
    return SetVolume(round(volume))


WHEN = ("duck", "between_tracks", "urgent")


def _announce(payload: bytes) -> Command:
    value = _json_or_text(_text(payload))
    if isinstance(value, str) and value.strip():
        return Announce(name=_plain_name(value.strip(), "announcement name"))
    when = ""
    if isinstance(value, dict) and "when" in value:
        value = dict(value)
        when = value.pop("when")
        if when not in WHEN:
            raise CommandError("when must be duck, between_tracks or urgent")
    if isinstance(value, dict) and len(value) == 1:
        command = _announce_what(value)
        return replace(command, when=when) if when else command
    raise CommandError('expected an announcement name, {"file": NAME} or {"text": TEXT}'
                       ' (and optionally "when": duck, between_tracks or urgent)')  # fmt: skip


def _announce_what(value: dict[str, Any]) -> Announce:
    if len(value) == 1:
        ((key, item),) = value.items()
        if key == "name" and isinstance(item, str) and item.strip():
            return Announce(name=_plain_name(item.strip(), "announcement name"))
        if key == "file" and isinstance(item, str) and item.strip():
            return Announce(file=_plain_name(item.strip(), "file name"))
        if key == "text" and isinstance(item, str) and spoken_text(item):
            if len(item) > MAX_ANNOUNCE_TEXT:
                raise CommandError(f"text over {MAX_ANNOUNCE_TEXT} characters")
            return Announce(text=spoken_text(item))
    raise CommandError('expected an announcement name, {"file": NAME} or {"text": TEXT}'
                       ' (and optionally "when": duck, between_tracks or urgent)')  # fmt: skip


def _plain_name(value: str, what: str) -> str:
    """A name without a folder in it: 'closing.ogg', never '../x' or '/etc/passwd'."""
    if (
        len(value) > 120
        or "/" in value
        or "\\" in value
        or value in {".", ".."}
        or value.startswith(".")
        or safe_text(value) != value
    ):
        raise CommandError(
            f"{what} {safe_text(value[:40])!r} is not a plain name (no folders, no dot first)"
        )
    return value


def _override(moods: Iterable[str], default_minutes: float) -> Callable[[bytes], Command]:
    allowed = tuple(moods)

    def parse(payload: bytes) -> Command:
        value = _json_or_text(_text(payload))
        minutes: object = default_minutes
        if isinstance(value, dict):
            minutes = value.get("minutes", default_minutes)
            value = value.get("mood")
        if not isinstance(value, str) or not value:
            raise CommandError(f"expected a mood: auto or one of {', '.join(allowed)}")
        if value.casefold() == "auto":
            return SetOverride(None, 0.0)
        if value not in allowed:
            raise CommandError(f"unknown mood {value[:40]!r}: use auto or {', '.join(allowed)}")
        length = finite_number(minutes)
        if length is None or not 0 < length <= MAX_OVERRIDE_MINUTES:
            raise CommandError(f"minutes must be a number from 1 to {MAX_OVERRIDE_MINUTES}")
        return SetOverride(value, length)

    return parse


def _ban(payload: bytes) -> Command:
    text = _text(payload).strip()
    if not text:
        return Ban()
    track = whole_number(text)
    if track is None or not 1 <= track < 2**62:
        raise CommandError(f"cmd/ban takes nothing (the track playing now) or a track id"
                           f" (a whole number), not {text[:40]!r}")  # fmt: skip
    return Ban(track)


def _empty(command: Command) -> Callable[[bytes], Command]:
    def parse(payload: bytes) -> Command:
        _text(payload)
        return command

    return parse


class CommandTable:
    """Verb → parser; built for the active taxonomy so that mood names are checked."""

    def __init__(self, moods: Iterable[str], default_override_minutes: float) -> None:
        self._parsers: dict[str, Callable[[bytes], Command]] = {
            "skip": _empty(Skip()),
            "pause": lambda p: SetPaused(_flag(p, default=True)),
            "resume": _empty(SetPaused(False)),
            "volume": _volume,
            "mood": _override(moods, default_override_minutes),
            "auto": lambda p: SetAuto(_flag(p, default=None)),
            "rescan": _empty(Rescan()),
            "ban": _ban,
            "announce": _announce,
        }

    @property
    def verbs(self) -> tuple[str, ...]:
        return tuple(self._parsers)

    def parse(self, verb: str, payload: bytes) -> Command:
        parser = self._parsers.get(verb)
        if parser is None:
            raise CommandError(f"unknown command {verb[:40]!r}: use {', '.join(self._parsers)}")
        return parser(payload)
