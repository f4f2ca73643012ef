"""Who may use the page: password hashes, expiring sessions and request budgets.

Pure and clock-injected (the web server passes ``time.monotonic``), so every rule is tested
without waiting. Cross-site requests are refused by the server with a per-session token that
only the page itself can read (web.py); here are the pieces it checks against.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass

ITERATIONS = 200_000  # PBKDF2-SHA256; ~0.1 s here, under a second on a Pi 4
_SCHEME = "pbkdf2_sha256"


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """``pbkdf2_sha256$ITERATIONS$SALT$HASH`` (base64), for web.password_hash."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    b64 = base64.b64encode
    return f"{_SCHEME}${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash from :func:`hash_password` (constant time)."""
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != _SCHEME or not 1 <= int(iterations) <= 10_000_000:
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = hashlib.pbkdf2_hmac(
            "sha256", password.encode(), base64.b64decode(salt, validate=True), int(iterations)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def check_token(password: str, token: str) -> bool:
    return bool(token) and hmac.compare_digest(password.encode(), token.encode())


@dataclass(frozen=True)
class Session:
    csrf: str  # sent by the page in a header with every change; a cross-site form cannot
    expires: float


class Sessions:
    """Logged-in browsers by cookie value; each expires ``minutes`` after login."""

    def __init__(self, minutes: float, limit: int = 64) -> None:
        self._seconds = minutes * 60
        self._limit = limit
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def open(self, now: float) -> tuple[str, Session]:
        self._expire(now)
        while len(self._sessions) >= self._limit:  # the oldest login goes first
            self._sessions.popitem(last=False)
        key = secrets.token_urlsafe(32)
        session = Session(secrets.token_urlsafe(24), now + self._seconds)
        self._sessions[key] = session
        return key, session

    def get(self, key: str | None, now: float) -> Session | None:
        self._expire(now)
        return self._sessions.get(key) if key else None

    def close(self, key: str | None) -> None:
        if key:
            self._sessions.pop(key, None)

    def _expire(self, now: float) -> None:
        for key in [k for k, s in self._sessions.items() if s.expires <= now]:
            del self._sessions[key]


class RequestBudget:
    """A token bucket per client address: ``burst`` at once, ``per_second`` after that."""

    def __init__(self, burst: float, per_second: float, clients: int = 256) -> None:
        self._burst, self._rate, self._clients = burst, per_second, clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str, now: float) -> bool:
        tokens, at = self._buckets.pop(client, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        allowed = tokens >= 1.0
        self._buckets[client] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self._clients:
            self._buckets.popitem(last=False)
        return allowed
