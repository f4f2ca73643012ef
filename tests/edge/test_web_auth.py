"""The page's rules, pure: password hashes, sessions that expire, request budgets."""

from __future__ import annotations

from moodcast.edge.web.auth import (
    RequestBudget,
    Sessions,
    check_password,
    check_token,
    hash_password,
    is_legacy,
)


def test_a_hash_accepts_its_password_only() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$16384$8$5$")  # OWASP's scrypt setting, 16 MiB
    assert check_password("correct horse", stored)
    assert not check_password("correct hors", stored)
    assert hash_password("correct horse") != stored  # salted
    assert not is_legacy(stored)


def _pbkdf2(password: str, iterations: int = 1000) -> str:
    """A hash as earlier versions wrote it (pbkdf2_sha256$ITERATIONS$SALT$HASH)."""
    import base64
    import hashlib

    salt = b"0123456789abcdef"
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return (f"pbkdf2_sha256${iterations}${base64.b64encode(salt).decode()}"
            f"${base64.b64encode(digest).decode()}")  # fmt: skip


def test_an_earlier_pbkdf2_hash_is_still_accepted_and_said_to_be_old() -> None:
    old = _pbkdf2("pw-123456")
    assert check_password("pw-123456", old) and not check_password("pw-12345", old)
    assert is_legacy(old)


def test_damaged_hashes_never_match_and_never_raise() -> None:
    good = _pbkdf2("pw-123456")
    damaged = [good.replace("$1000$", "$0$"), good.replace("$1000$", "$99999999999$"),
               good[:-8] + "!!!!!!!!"]  # fmt: skip
    fresh = hash_password("pw-123456", n=1024)
    scrypt_damaged = [fresh.replace("$1024$", "$1000$"),  # not a power of two
                      fresh.replace("$1024$", f"${2**24}$"),  # gigabytes of memory
                      fresh.replace("$8$5$", "$8$99$"), fresh[:-8] + "!!!!!!!!",
                      fresh.replace("$1024$", "$x$")]  # fmt: skip
    assert check_password("pw-123456", fresh)
    for bad in ["", "pbkdf2_sha256$", "md5$1$x$y", "a$b$c$d", "scrypt$", *damaged, *scrypt_damaged]:
        assert not check_password("pw-123456", bad)


def test_a_token_must_match_exactly() -> None:
    assert check_token("s3cret-token", "s3cret-token")
    assert not check_token("s3cret-toke", "s3cret-token")
    assert not check_token("", "")


def test_sessions_expire_and_are_bounded() -> None:
    sessions = Sessions(minutes=10, limit=3)
    key, session = sessions.open(now=0.0)
    assert sessions.get(key, 599.0) == session and session.csrf
    assert sessions.get(key, 600.0) is None  # expired
    keys = [sessions.open(now=1000.0)[0] for _ in range(4)]
    assert sessions.get(keys[0], 1000.0) is None  # the oldest went when the fourth came
    assert all(sessions.get(k, 1000.0) is not None for k in keys[1:])
    sessions.close(keys[1])
    assert sessions.get(keys[1], 1000.0) is None
    assert sessions.get(None, 0.0) is None and sessions.get("made-up", 0.0) is None


def test_a_request_budget_per_client_refills() -> None:
    budget = RequestBudget(burst=3, per_second=1)
    assert [budget.take("a", 0.0) for _ in range(4)] == [True, True, True, False]
    assert budget.take("b", 0.0)  # another client has its own
    assert not budget.take("a", 0.5) and budget.take("a", 1.6)
