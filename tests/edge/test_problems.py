"""Problems as values: raised and cleared by kind, never by their wording."""

from __future__ import annotations

from moodcast.edge.status.device_state import SCHEMA_VERSION, safe_text
from moodcast.edge.status.problems import ProblemKind, Problems


def test_a_problem_is_cleared_by_its_kind_whatever_it_says() -> None:
    problems = Problems()
    assert problems.raise_(ProblemKind.STATE_UNSAVED, "cannot save to /x: disk full", 10.0)
    assert problems.raise_(ProblemKind.RESCAN, "rescan failed: gone", 11.0)
    assert problems.latest is not None and problems.latest.kind is ProblemKind.RESCAN
    problems.clear(ProblemKind.STATE_UNSAVED)
    assert [p.kind for p in problems.standing()] == [ProblemKind.RESCAN]
    problems.clear(ProblemKind.RESCAN)
    assert problems.latest is None and problems.standing() == []


def test_the_same_problem_said_again_keeps_its_since() -> None:
    problems = Problems()
    problems.raise_(ProblemKind.LIBRARY_EMPTY, "no tracks", 5.0)
    assert not problems.raise_(ProblemKind.LIBRARY_EMPTY, "no tracks", 9.0)
    assert problems.get(ProblemKind.LIBRARY_EMPTY).since == 5.0
    assert problems.raise_(ProblemKind.LIBRARY_EMPTY, "still no tracks", 9.0)
    assert problems.get(ProblemKind.LIBRARY_EMPTY).since == 9.0


def test_clearing_an_older_kind_keeps_the_newest_said() -> None:
    problems = Problems()
    problems.raise_(ProblemKind.WEB, "port in use", 1.0)
    problems.raise_(ProblemKind.READER, "model missing", 2.0)
    problems.clear(ProblemKind.WEB)
    assert problems.latest is not None and problems.latest.text == "model missing"


def test_text_is_made_safe_for_every_consumer() -> None:
    raw = b"caf\xe9".decode("utf-8", "surrogateescape")
    assert safe_text(f"{raw}\x00\x1b[31m\ttab\nline") == "caf\ufffd[31m\ttab\nline"
    assert safe_text("\ud83d") == "\ufffd"
    assert SCHEMA_VERSION == 1


class _Events:
    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []

    def publish_event(self, name: str, data: dict[str, str]) -> None:
        self.sent.append(data)


def test_a_flood_of_problems_is_said_a_few_times_then_summed_up(caplog) -> None:
    """1,000 refused announcements: five said one by one, the rest as one line when the minute
    is over; the state still shows the latest; other kinds are said as before."""
    from moodcast.edge.status.health import Health

    now = [0.0]
    events = _Events()
    health = Health(events, lambda: 1000.0 + now[0], mono=lambda: now[0])
    with caplog.at_level("ERROR", logger="moodcast.edge.status.health"):
        for i in range(1000):
            now[0] = i * 0.01
            health.report(ProblemKind.ANNOUNCEMENT, f"announcement {i} refused")
        health.report(ProblemKind.RESCAN, "rescan failed")
        assert len(events.sent) == 6 and len(caplog.records) == 6
        assert health.last_error == "rescan failed"
        assert [p.text for p in health.standing() if p.kind is ProblemKind.ANNOUNCEMENT] == [
            "announcement 999 refused"
        ]
        now[0] = 61.0
        health.flush()
    assert len(events.sent) == 7 and len(caplog.records) == 7
    summary = events.sent[-1]
    assert summary["kind"] == "announcement" and summary["error"].startswith("995 more")
    health.flush()  # said once
    assert len(events.sent) == 7
    health.report(ProblemKind.ANNOUNCEMENT, "a new minute")
    assert events.sent[-1]["error"] == "a new minute"
