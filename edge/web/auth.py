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

# scrypt from the standard library (no native dependency), at one of OWASP's Password Storage
# Cheat Sheet settings: N=2^14, r=8, p=5 (16 MiB a check: light on a 2 GB Pi). PBKDF2 hashes
# from earlier versions are still accepted; `config check` says to replace them.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 5
_SCRYPT = "scrypt"
_PBKDF2 = "pbkdf2_sha256"
_MAX_MEMORY = 256 << 20  # refuse parameters that would take more than this


def hash_password(password: str, salt: bytes | None = None, n: int = SCRYPT_N) -> str:
    """``scrypt$N$R$P$SALT$HASH`` (base64), for web.password_hash."""
    salt = salt or secrets.token_bytes(16)
    digest = _scrypt(password, salt, n, SCRYPT_R, SCRYPT_P)
    b64 = base64.b64encode
    return (f"{_SCRYPT}${n}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}"
            f"${b64(digest).decode()}")  # fmt: skip


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32,
                          maxmem=_MAX_MEMORY + (1 << 20))  # fmt: skip


def is_legacy(stored: str) -> bool:
    """A PBKDF2 hash of an earlier version: still accepted, worth replacing."""
    return stored.startswith(_PBKDF2 + "$")


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash from :func:`hash_password`, or a PBKDF2 hash of an
    earlier version (constant time); a damaged hash never matches and never raises."""
    try:
        scheme, *fields = stored.split("$")
        if scheme == _SCRYPT and len(fields) == 5:
            n, r, p = (int(x) for x in fields[:3])
            if not (2 <= n <= 2**20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16
                    and 128 * n * r <= _MAX_MEMORY):  # fmt: skip
                return False
            salt, expected = (base64.b64decode(x, validate=True) for x in fields[3:])
            actual = _scrypt(password, salt, n, r, p)
        elif scheme == _PBKDF2 and len(fields) == 3:
            iterations = int(fields[0])
            if not 1 <= iterations <= 10_000_000:
                return False
            salt, expected = (base64.b64decode(x, validate=True) for x in fields[1:])
            actual = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
        else:
            return False
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


def check_token(password: str, token: str) -> bool:
    return bool(token) and hmac.compare_digest(password.encode(), token.encode())


@dataclass(frozen=True)
class Session:
    csrf: str  # sent by the page in a header with every change; a cross-site form cannot
    expires: float
    role: str = "owner"  # or "staff": skip, ban, pause and volume only (web.staff_password_hash)


class Sessions:
    """Logged-in browsers by cookie value; each expires ``minutes`` after login."""

    def __init__(self, minutes: float, limit: int = 64) -> None:
        self._seconds = minutes * 60
        self._limit = limit
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def open(self, now: float, role: str = "owner") -> tuple[str, Session]:
        self._expire(now)
        while len(self._sessions) >= self._limit:  # the oldest login goes first
            self._sessions.popitem(last=False)
        key = secrets.token_urlsafe(32)
        session = Session(secrets.token_urlsafe(24), now + self._seconds, role)
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
