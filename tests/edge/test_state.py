from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from moodcast.edge.state import RuntimeState, StateStore


def test_state_round_trips(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "s" / "state.json")
    state = RuntimeState(
        volume=33, paused=True, auto=False, override_mood="calm", override_until=5.0
    )
    store.save(state)
    assert store.load(RuntimeState()) == state


@pytest.mark.reliability
def test_damaged_state_falls_back_to_defaults(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    for junk in ("{not json", '{"volume": "loud"}', "[1, 2]"):
        path.write_text(junk)
        assert StateStore(path).load(RuntimeState(volume=50)) == RuntimeState(volume=50)


def test_override_expires() -> None:
    state = RuntimeState(override_mood="sad", override_until=100.0)
    assert state.override_active(99.0) == "sad"
    assert state.override_active(100.0) is None


@pytest.mark.reliability
def test_state_survives_kill_9_while_saving(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    code = (
        "from moodcast.edge.state import RuntimeState, StateStore\n"
        f"s = StateStore({str(path)!r})\n"
        "i = 0\n"
        "while True:\n"
        "    s.save(RuntimeState(volume=i % 101)); i += 1\n"
        "    if i == 50: print('ready', flush=True)\n"
    )
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
        assert proc.stdout is not None
        proc.stdout.readline()
        os.kill(proc.pid, 9)
        proc.wait()
        loaded = StateStore(path).load(RuntimeState(volume=-1))
        assert 0 <= loaded.volume <= 100  # a whole state, never the fallback
