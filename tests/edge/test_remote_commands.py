from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moodcast.edge.commands.remote_commands import (
    CommandError,
    CommandTable,
    Rescan,
    SetAuto,
    SetOverride,
    SetPaused,
    SetVolume,
    Skip,
)

TABLE = CommandTable(["calm", "sad", "joyful"], 60.0)


@pytest.mark.parametrize(
    ("verb", "payload", "command"),
    [
        ("skip", b"", Skip()),
        ("skip", b"PRESS", Skip()),
        ("pause", b"", SetPaused(True)),
        ("pause", b"OFF", SetPaused(False)),
        ("pause", b"true", SetPaused(True)),
        ("resume", b"", SetPaused(False)),
        ("volume", b"55", SetVolume(55)),
        ("volume", b"42.6", SetVolume(43)),
        ("volume", b'{"volume": 10}', SetVolume(10)),
        ("mood", b"calm", SetOverride("calm", 60.0)),
        ("mood", b'{"mood": "sad", "minutes": 5}', SetOverride("sad", 5.0)),
        ("mood", b"auto", SetOverride(None, 0.0)),
        ("auto", b"ON", SetAuto(True)),
        ("auto", b"false", SetAuto(False)),
        ("rescan", b"", Rescan()),
    ],
)
def test_valid_commands(verb: str, payload: bytes, command: object) -> None:
    assert TABLE.parse(verb, payload) == command


@pytest.mark.parametrize(
    ("verb", "payload", "message"),
    [
        ("volume", b"101", "out of range"),
        ("volume", b"-1", "out of range"),
        ("volume", b"NaN", "expected a volume"),
        ("volume", b"loud", "expected a volume"),
        ("volume", b"true", "expected a volume"),
        ("mood", b"scary", "unknown mood 'scary'"),
        ("mood", b"../../etc/passwd", "unknown mood"),
        ("mood", b'{"mood": "calm", "minutes": -5}', "minutes must be"),
        ("mood", b'{"mood": "calm", "minutes": 1e308}', "minutes must be"),
        ("auto", b"", "expected ON or OFF"),
        ("pause", b"\xff\xfe", "not UTF-8"),
        ("skip", b"x" * 5000, "too long"),
        ("selfdestruct", b"", "unknown command"),
        ("mood", b"{" * 500, "does not parse"),
        # a JSON whole number no float holds: OverflowError, where a rejection was due
        ("volume", b'{"volume": 1' + b"0" * 400 + b"}", "expected a volume"),
        ("mood", b'{"mood": "calm", "minutes": 1' + b"0" * 400 + b"}", "minutes must be"),
    ],
)
def test_invalid_commands_name_what_was_expected(verb: str, payload: bytes, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        TABLE.parse(verb, payload)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.floats()
    | st.integers()
    | st.text(max_size=50)
    | st.integers(min_value=10**300, max_value=10**330),  # past any float
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@pytest.mark.reliability
@settings(max_examples=3000, deadline=None)
@given(
    verb=st.sampled_from(TABLE.verbs),
    payload=st.binary(max_size=2000)
    | json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()),
)
def test_any_payload_is_a_command_or_a_clear_rejection(verb: str, payload: bytes) -> None:
    try:
        command = TABLE.parse(verb, payload)
    except CommandError as exc:
        assert str(exc)
        return
    if isinstance(command, SetVolume):
        assert 0 <= command.volume <= 100
    if isinstance(command, SetOverride) and command.mood is not None:
        assert command.mood in {"calm", "sad", "joyful"} and 0 < command.minutes <= 10080


def test_ban_takes_nothing_or_a_track_id() -> None:
    from moodcast.edge.commands.remote_commands import Ban, CommandError, CommandTable

    table = CommandTable(["calm"], 60.0)
    assert table.parse("ban", b"") == Ban() and table.parse("ban", b" 12 ") == Ban(12)
    for bad in (b"abc", b"-1", b"0", b"\xd9\xa3", b"1e3", b"99999999999999999999999"):
        with pytest.raises(CommandError, match="cmd/ban takes nothing"):
            table.parse("ban", bad)
