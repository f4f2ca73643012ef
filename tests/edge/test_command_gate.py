from __future__ import annotations

from moodcast.edge.commands.command_gate import (
    CommandAccepted,
    CommandGate,
    CommandRejected,
    RejectionSummary,
)
from moodcast.edge.commands.remote_commands import CommandTable, SetVolume
from moodcast.edge.events import RetainedCommand


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_good_commands_pass_bad_ones_are_answered_a_few_times_then_counted() -> None:
    clock = Clock()
    gate = CommandGate(CommandTable(["calm"], 60), clock, burst=3, per_minute=6)
    assert gate.admit("volume", b"40") == CommandAccepted(SetVolume(40))
    answers = [gate.admit("volume", b"loud") for _ in range(100)]
    assert sum(isinstance(a, CommandRejected) for a in answers) == 3
    assert answers.count(None) == 97
    assert gate.admit("volume", b"41") == CommandAccepted(SetVolume(41))  # never crowded out
    summary = gate.take_summary()
    assert isinstance(summary, RejectionSummary) and summary.count == 97
    assert summary.last.startswith("volume: ")
    assert gate.take_summary() is None
    clock.t = 10.0  # one answer's worth of refill (6 a minute)
    assert isinstance(gate.admit("nope", b""), CommandRejected)
    assert gate.admit("nope", b"") is None


def test_retained_commands_are_marked_not_parsed() -> None:
    gate = CommandGate(CommandTable(["calm"], 60), Clock())
    assert gate.admit("volume", b"5", retained=True) == RetainedCommand("volume")
