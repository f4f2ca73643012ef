"""The page's rules, pure: password hashes, sessions that expire, request budgets."""

from __future__ import annotations

from moodcast.edge.web.auth import (
    RequestBudget,
    Sessions,
    check_password,
    check_token,
    hash_password,
)


def test_a_hash_accepts_its_password_only() -> None:
    stored = hash_password("correct horse", iterations=1000)
    assert stored.startswith("pbkdf2_sha256$1000$")
    assert check_password("correct horse", stored)
    assert not check_password("correct hors", stored)
    assert hash_password("correct horse", iterations=1000) != stored  # salted


def test_damaged_hashes_never_match_and_never_raise() -> None:
    good = hash_password("pw-123456", iterations=1000)
    damaged = [good.replace("$1000$", "$0$"), good.replace("$1000$", "$99999999999$"),
               good[:-8] + "!!!!!!!!"]  # fmt: skip
    for bad in ["", "pbkdf2_sha256$", "md5$1$x$y", "a$b$c$d", *damaged]:
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
