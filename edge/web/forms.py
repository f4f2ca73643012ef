"""Reading what a browser sends: the body (capped), a form's or JSON object's value, and
whether a request comes from the page itself."""

from __future__ import annotations

import json
from typing import Any

from moodcast.config.text import parse_json

MAX_BODY = 4096  # no command needs more


async def read_body(request: Any, limit: int = MAX_BODY) -> bytes:
    """The request's body, b'' when it is over ``limit`` (read no further)."""
    chunks = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            return b""
        chunks.append(chunk)
    return b"".join(chunks)


def form_value(body: bytes, name: str) -> str | None:
    """``name`` from an url-encoded form or a JSON object (its value as JSON text when it is
    not a string, so the command table reads it as it reads an MQTT payload)."""
    from urllib.parse import parse_qs

    text = body.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            data = parse_json(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or name not in data:
            return None
        value = data[name]
        return value if isinstance(value, str) else json.dumps(value)
    values = parse_qs(text, keep_blank_values=True).get(name)
    return values[0] if values else None


def same_origin(request: Any) -> bool:
    """A browser names the page a request comes from; it must be this server's."""
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not sent by same-origin GET/HEAD in all browsers; the token still counts
    host = request.headers.get("host", "")
    return origin in {f"http://{host}", f"https://{host}"}
