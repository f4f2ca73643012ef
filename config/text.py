"""Text from outside made safe at the boundary: one rule for MQTT, the page, config and tags."""

from __future__ import annotations

import json
import math
import re
from typing import Any

_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def safe_text(text: str) -> str:
    """Text any consumer takes: lone surrogates (a file name that is not UTF-8, decoded with
    surrogateescape) become U+FFFD, control characters but tab and newline are dropped."""
    return _UNSAFE.sub(lambda m: "\ufffd" if m.group() >= "\ud800" else "", text)


def whole_number(text: str) -> int | None:
    """``text`` as a whole number where it is ASCII digits only, else None. ``str.isdigit``
    also says yes to '²' (which ``int`` refuses: a ValueError where a check was meant) and to
    '٣' or '１２' (which it reads): an outside number is plain digits or is refused."""
    return int(text) if text.isascii() and text.isdigit() else None


def with_article(noun: str) -> str:
    """``noun`` with its indefinite article, by its first letter ("a cup", "an image labels
    file"): for messages and the sentences the text model reads."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def spoken_text(text: str) -> str:
    """Text fit for a speech synthesiser's command line: no NUL or other control character,
    no lone surrogate, whitespace runs as one space ('' when nothing is left)."""
    cleaned = _CONTROL.sub(" ", safe_text(text)).replace("\ufffd", " ")
    return " ".join(cleaned.split())


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> str:
    """Text for a CSV cell that a spreadsheet opens: made safe, and a leading character that
    would start a formula ('=cmd|…') quoted with an apostrophe."""
    text = "" if value is None else safe_text(str(value))
    return "'" + text if text.startswith(_FORMULA) else text


def is_loopback(host: str) -> bool:
    """Whether a host is this machine's loopback: 'localhost' or a loopback address (127.0.0.0/8,
    ::1); '127.example.com' is a name like any other."""
    import ipaddress

    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def parse_json(data: str | bytes | bytearray) -> Any:
    """JSON from outside (a payload, a request, a file), or ValueError saying why not. JSON
    nested too deep for the parser raises RecursionError, which is not a ValueError: a
    handler that catches ValueError would let a few kilobytes of brackets through to end
    its thread (paho's network loop, the fleet's worker, the daemon's start)."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deep to read") from None


MAX_ROW_ID = 2**63 - 1  # SQLite's largest INTEGER: an id from outside past it fails a query


def finite_number(value: object) -> float | None:
    """A JSON number as a finite float; None for anything else: a bool, text, NaN, an
    infinity, and a whole number too large for a float (``float`` and ``math.isfinite``
    raise OverflowError for one of 400 digits, which no handler of ValueError catches)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None
