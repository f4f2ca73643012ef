from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from moodcast.edge.status.state import RuntimeState, StateStore


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
        "from moodcast.edge.status.state import RuntimeState, StateStore\n"
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


@pytest.mark.reliability
@pytest.mark.parametrize(
    ("saved", "expected"),
    [
        ('{"volume": Infinity}', RuntimeState(volume=50)),
        ('{"volume": NaN, "paused": true}', RuntimeState(volume=50, paused=True)),
        ('{"volume": 1e400}', RuntimeState(volume=50)),
        ('{"volume": 250, "auto": false}', RuntimeState(volume=50, auto=False)),
        ('{"volume": 33.4}', RuntimeState(volume=33)),
        ('{"paused": "false"}', RuntimeState(volume=50)),
        ('{"override_mood": "calm", "override_until": NaN}',
         RuntimeState(volume=50, override_mood="calm")),
        ('{"override_mood": ["x"], "override_until": 5}', RuntimeState(volume=50)),
        ('{"override_mood": "calm", "override_until": "soon"}',
         RuntimeState(volume=50, override_mood="calm")),
        ('{"volume": true}', RuntimeState(volume=50)),
        ('"just a string"', RuntimeState(volume=50)),
        ("null", RuntimeState(volume=50)),
    ],
)  # fmt: skip
def test_each_bad_value_is_dropped_and_the_rest_kept(tmp_path: Path, saved, expected) -> None:
    path = tmp_path / "state.json"
    path.write_text(saved)
    assert StateStore(path).load(RuntimeState(volume=50)) == expected


@pytest.mark.reliability
def test_a_saved_override_the_config_no_longer_allows_is_dropped(tmp_path: Path) -> None:
    from moodcast.config.settings import load_config
    from moodcast.edge.events import EventQueue
    from moodcast.edge.music.announcer import Announcer
    from moodcast.edge.music.conductor import Conductor
    from moodcast.models.readers import active_taxonomy
    from moodcast.player.library import Library
    from moodcast.player.playback import Player
    from tests.fakes import FakeDeck

    store = StateStore(tmp_path / "state.json")
    store.save(RuntimeState(volume=40, override_mood="scary", override_until=9e12))
    config = load_config(None)  # the public-place default forbids scary
    events = EventQueue()
    player = Player([FakeDeck(0, "dummy", events), FakeDeck(1, "dummy", events)], 1, 1, 70)
    announcer = Announcer(config.announcements, FakeDeck(2, "dummy", events), player)
    conductor = Conductor(config, active_taxonomy(config), Library(":memory:"), player,
                          _Quiet(), store, announcer=announcer)  # fmt: skip
    assert conductor.state == RuntimeState(volume=40)
    assert conductor.snapshot()["override"] is None


class _Quiet:
    def publish_state(self, state):
        pass

    def publish_event(self, name, data):
        pass

    def publish_error(self, data):
        pass


def test_special_files_are_refused_with_the_reason_never_waited_on(tmp_path: Path) -> None:
    """A FIFO as state file or config hung the start (deaf to SIGTERM); /dev/zero as config
    ended in a MemoryError; a 50 MB config took a minute to parse."""
    import os

    from moodcast.config.errors import MoodcastError
    from moodcast.config.settings import load_config

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert StateStore(fifo).load(RuntimeState(volume=33)) == RuntimeState(volume=33)
    for path, words in [(fifo, "a FIFO"), (Path("/dev/zero"), "a character device"),
                        (tmp_path, "a folder")]:  # fmt: skip
        with pytest.raises(MoodcastError, match=words):
            load_config(path)
    big = tmp_path / "big.yaml"
    big.write_text("# x\n" * 400_000)
    with pytest.raises(MoodcastError, match="over the 1024 KiB"):
        load_config(big)


@pytest.mark.reliability
def test_a_change_the_full_disk_refused_survives_a_restart_and_is_written_later(
    tmp_path: Path,
) -> None:
    """A real 3 MB tmpfs filled to the brim holds the state file. Before: the volume set
    meanwhile was lost at a restart and the state said storage ok. Now a spare copy in memory
    carries it over the restart, the state says so, and the disk gets it once it has room."""
    from moodcast.edge.status.health import Health
    from moodcast.edge.status.keeper import StateKeeper
    from moodcast.edge.status.problems import ProblemKind
    from moodcast.models.mood import load_taxonomy

    disk, run = tmp_path / "disk", tmp_path / "run"
    disk.mkdir()
    run.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}): needs root")
    try:
        taxonomy, events = load_taxonomy("cowen13"), []

        class Events:
            def publish_event(self, name: str, data: dict[str, str]) -> None:
                events.append(data)

        def keeper() -> tuple[StateKeeper, Health]:
            health = Health(Events(), lambda: 0.0, mono=lambda: 0.0)
            store = StateStore(disk / "state.json", spare=run / "state.json")
            return StateKeeper(store, RuntimeState(volume=60), taxonomy, health,
                               lambda: 0.0, 10.0), health  # fmt: skip

        first, _ = keeper()
        first.change(volume=40)  # on disk
        filler = disk / "filler"
        with open(filler, "wb", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * 4096)
            except OSError:
                pass
        first.change(volume=33, override_mood="calm", override_until=1e12)
        assert "kept in memory" in first.unsaved
        assert '"volume": 40' in (disk / "state.json").read_text()  # the disk's copy is old
        second, health = keeper()  # a restart while the disk is still full
        assert (second.state.volume, second.state.override_mood) == (33, "calm")
        assert second.unsaved and ProblemKind.STATE_UNSAVED in {p.kind for p in health.standing()}
        second.retry(0.0)
        assert second.unsaved  # still full: still said
        filler.unlink()
        second.retry(100.0)  # the next try, after the retry interval
        assert second.unsaved == "" and not health.standing()
        assert not (run / "state.json").exists()
        third, _ = keeper()
        assert (third.state.volume, third.state.override_mood) == (33, "calm")
        assert not third.unsaved
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
