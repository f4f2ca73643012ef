"""The daemon's queue: state-like events coalesce, no burst of one kind crowds out another."""

from __future__ import annotations

import threading

from moodcast.edge.commands.command_gate import CommandAccepted
from moodcast.edge.commands.remote_commands import SetVolume, Skip
from moodcast.edge.events import BrokerStatus, EventQueue, HomeAssistantOnline, RescanDue
from moodcast.player.decks import DeckEnded


def drain(events: EventQueue) -> list[object]:
    out = []
    while (event := events.get(timeout=0.01)) is not None:
        out.append(event)
    return out


def test_three_thousand_volume_commands_end_at_the_last_one() -> None:
    """Before, after 3,000 valid volume commands the last (acknowledged) one was dropped."""
    events = EventQueue()
    for volume in range(3000):
        events.put(CommandAccepted(SetVolume(volume % 101)))
    events.put(CommandAccepted(Skip()))
    got = drain(events)
    assert got == [CommandAccepted(SetVolume(2999 % 101)), CommandAccepted(Skip())]
    assert events.dropped == 0 and events.coalesced == 2999


def test_home_assistant_coming_online_two_thousand_times_is_answered_once() -> None:
    events = EventQueue()
    for _ in range(2000):
        events.put(HomeAssistantOnline())
    events.put(BrokerStatus(False, "Not authorized"))
    events.put(BrokerStatus(False, "disconnected"))
    assert drain(events) == [HomeAssistantOnline(), BrokerStatus(False, "Not authorized"),
                             BrokerStatus(False, "disconnected")]  # fmt: skip


def test_a_burst_of_one_kind_leaves_room_for_the_others() -> None:
    events = EventQueue(maxsize=256, per_kind=64)
    for _ in range(1000):
        events.put(CommandAccepted(Skip()))
    events.put(DeckEnded(0, 7))
    events.put(RescanDue())
    got = drain(events)
    assert got.count(CommandAccepted(Skip())) == 64 and events.dropped == 1000 - 64
    assert got[-2:] == [DeckEnded(0, 7), RescanDue()]


def test_a_waiting_reader_is_woken_by_a_put() -> None:
    events = EventQueue()
    got: list[object] = []
    reader = threading.Thread(target=lambda: got.append(events.get(timeout=10)))
    reader.start()
    events.put(RescanDue())
    reader.join(timeout=5)
    assert got == [RescanDue()]
