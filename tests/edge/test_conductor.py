"""The conductor's time rules and commands, with fake clocks and decks (fast, exact)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from moodcast.config.settings import load_config
from moodcast.edge.commands.remote_commands import SetOverride, SetVolume
from moodcast.edge.events import EventQueue
from moodcast.edge.music.announcer import Announcer
from moodcast.edge.music.conductor import Clocks, Conductor
from moodcast.edge.status.problems import ProblemKind
from moodcast.edge.status.state import StateStore
from moodcast.edge.status.state_view import device_state
from moodcast.models.mood import MoodEstimate, load_taxonomy
from moodcast.player.library import Library
from moodcast.player.playback import FADE_FLOOR_DB, Player
from moodcast.player.scan import scan
from tests.fakes import FakeDeck

TAXONOMY = load_taxonomy("cowen13")


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def publish_state(self, state: dict[str, Any]) -> None:
        pass

    def publish_event(self, name: str, data: dict[str, Any]) -> None:
        self.events.append((name, data))


class Clock:
    def __init__(self) -> None:
        self.t = 0.0
        self.start = datetime(2026, 11, 23, 8, 59)  # a Monday

    def mono(self) -> float:
        return self.t

    def wall(self) -> float:
        return 1_000_000.0 + self.t

    def local(self) -> datetime:
        return self.start + timedelta(seconds=self.t)


@pytest.fixture
def rig(tmp_path: Path, make_tone):
    music = tmp_path / "m"
    for i, mood in enumerate(["Sad", "Calm", "Happy", "Energetic", "Gloomy", "Cheerful"]):
        make_tone(music / f"{i}.ogg", seconds=1, artist=f"a{i}", title=mood, mood=mood)
    lib = Library(":memory:")
    scan(lib, [music], TAXONOMY)
    config = load_config(None, {
        "schedule.opening_hours": [{"days": ["mon"], "open": "09:00", "close": "18:00"}],
        "schedule.dayparts": [{"start": "09:00", "volume": 40}, {"start": "12:00", "volume": 65}],
        "player.fade_s": 2.0, "player.crossfade_s": 2.0,
    })  # fmt: skip
    events = EventQueue()
    decks = [FakeDeck(0, "dummy", events), FakeDeck(1, "dummy", events)]
    player = Player(decks, 2.0, 2.0, 70)
    clock, recorder = Clock(), Recorder()
    clocks = Clocks(mono=clock.mono, wall=clock.wall, local=clock.local)
    announcer = Announcer(config.announcements, FakeDeck(2, "dummy", events), player)
    c = Conductor(config, TAXONOMY, lib, player, recorder, StateStore(tmp_path / "s.json"), clocks,
                  np.random.default_rng(7), announcer=announcer)  # fmt: skip
    c.start([])
    return c, clock, decks, recorder


def opened(rig) -> Any:
    """The shop opened (09:00:01) and its first track playing; that track."""
    c, clock, _, _ = rig
    clock.t = 61
    c.tick()
    assert c.player.now_playing is not None
    return c.player.now_playing


def test_nothing_plays_before_opening_and_music_fades_in_and_out(rig) -> None:
    c, clock, decks, recorder = rig
    c.tick()
    assert c.is_open is False and c.player.now_playing is None
    clock.t = 61  # 09:00:01
    c.tick()
    assert c.is_open and c.player.now_playing is not None
    assert decks[0].gains[0] == FADE_FLOOR_DB  # fades in from silence
    clock.t = 61 + 2
    c.tick()
    assert decks[0].volumes[-1] == 40  # the 09:00 daypart's volume
    clock.t = 9 * 3600 + 60  # 18:00:00
    c.tick()
    assert c.is_open is False and ("opening", {"open": False}) in recorder.events
    clock.t += 2
    c.tick()
    assert all(d.playing is None for d in decks)


def test_daypart_changes_the_volume_once_and_a_command_wins_after(rig) -> None:
    c, clock, _, _ = rig
    clock.t = 61
    c.tick()
    assert c.state.volume == 40
    c.on_command(SetVolume(55))
    clock.t = 120
    c.tick()
    assert c.state.volume == 55  # the same daypart does not override the user
    clock.t = 3 * 3600 + 60  # 12:00
    c.tick()
    assert c.state.volume == 65


def test_override_wins_until_it_expires(rig) -> None:
    c, clock, _, _ = rig
    clock.t = 61
    c.on_mood(MoodEstimate(0.8, 0.6, TAXONOMY.probabilities(0.8, 0.6), 1.0), at=61)
    c.tick()
    c.on_command(SetOverride("sad", 1.0))
    assert c.target()[1] == "override" and c.target()[0].mood == "sad"
    assert c.player.now_playing is not None and c.player.now_playing.mood.mood == "sad"
    clock.t = 61 + 61
    c.tick()
    assert c.state.override_mood is None and c.target()[1] == "camera"


def test_caption_stays_off_the_network_when_configured(rig) -> None:
    c, _, _, _ = rig
    reading = MoodEstimate(0.1, 0.1, TAXONOMY.probabilities(0.1, 0.1), 1.0,
                           {"caption": "two people at a table"})  # fmt: skip
    c.on_mood(reading, at=0)
    assert c.snapshot()["caption"] == "two people at a table"
    c.config = c.config.model_copy(
        update={"mqtt": c.config.mqtt.model_copy(update={"publish_caption": False})}
    )
    assert c.snapshot()["caption"] is None


def _conductor(config: Any, tmp_path: Path, clock: Clock | None = None) -> Conductor:
    """A conductor on fake decks and an empty library, with the fake clock when given."""
    events = EventQueue()
    player = Player([FakeDeck(0, "dummy", events), FakeDeck(1, "dummy", events)], 2.0, 2.0,
                    config.player.volume)  # fmt: skip
    clocks = Clocks(mono=clock.mono, wall=clock.wall, local=clock.local) if clock else None
    return Conductor(config, TAXONOMY, Library(":memory:"), player, Recorder(),
                     StateStore(tmp_path / "s.json"), clocks,
                     announcer=Announcer(config.announcements, FakeDeck(2, "dummy", events),
                                         player))  # fmt: skip


def test_state_shows_the_reading_and_the_target_it_calls_for(tmp_path: Path, caplog) -> None:
    """mood.respond: a sad reading plays beautiful music; the state carries both, the mood
    change is logged with what it rests on, and the label is what a shop owner reads."""
    config = load_config(None, {"mood.respond": {"sad": "beautiful"}, "smoothing.min_dwell_s": 0,
                                "player.volume": 70})  # fmt: skip
    clock = Clock()
    c = _conductor(config, tmp_path, clock)
    sad, anxious = TAXONOMY.get("sad"), TAXONOMY.get("anxious")
    with caplog.at_level("INFO", logger="moodcast.edge.music.mood_follower"):
        c.on_mood(MoodEstimate(sad.valence, sad.arousal, TAXONOMY.probabilities(
            sad.valence, sad.arousal), 0.9, {"caption": "a grey empty street"}), 0.0)  # fmt: skip
    state = c.snapshot()
    assert (state["mood"], state["mood_label"]) == ("sad", "sad")
    assert state["valence"] == pytest.approx(sad.valence, abs=1e-3)
    assert state["target"]["mood"] == "beautiful"
    assert state["target"]["valence"] == pytest.approx(TAXONOMY.get("beautiful").valence)
    assert "mood - → sad" in caplog.text and "plays beautiful" in caplog.text
    assert "a grey empty street" in caplog.text
    probs = TAXONOMY.probabilities(anxious.valence, anxious.arousal)
    c.on_mood(MoodEstimate(anxious.valence, anxious.arousal, probs, 1.0, {}), 600.0)
    state = c.snapshot()
    assert (state["mood"], state["mood_label"]) == ("anxious", "tense")
    assert state["target"]["mood"] == "anxious"  # no rule for it: the music follows the room


def test_the_state_is_the_documented_schema_and_problems_clear_by_kind(rig, tmp_path) -> None:
    """docs/state.md lists every field the state has (a fleet service reads it); a save that
    fails raises state_unsaved, and the save that works clears it, whatever it said."""
    c, clock, _decks, _recorder = rig
    c.tick()
    wire = c.snapshot()
    doc = (Path(__file__).parents[2] / "docs" / "state.md").read_text(encoding="utf-8")
    cells = [row.split("|")[1] for row in doc.splitlines() if row.startswith("| `")]
    documented = {
        name for cell in cells for name in cell.replace("`", "").replace(" ", "").split(",")
    }
    assert set(wire) == documented
    assert wire["schema"] == 1
    c.keeper.store.path = Path("/proc/no-such-dir/state.json")  # unwritable
    c.on_command(SetVolume(33))
    kinds = [p["kind"] for p in c.snapshot()["problems"]]
    assert "state_unsaved" in kinds and c.snapshot()["storage"]["state"] != "ok"
    c.keeper.store.path = tmp_path / "state.json"
    clock.t += 11.0
    c.tick()
    assert "state_unsaved" not in [p["kind"] for p in c.snapshot()["problems"]]
    assert c.snapshot()["volume"] == 33


def test_not_this_track_skips_it_now_and_it_never_plays_again(rig) -> None:
    from moodcast.edge.commands.remote_commands import Ban, Skip
    from moodcast.edge.status.problems import ProblemKind

    c, _, _, recorder = rig
    banned = opened(rig)
    c.on_command(Ban())  # the track playing now
    assert c.player.now_playing is not None and c.player.now_playing.id != banned.id
    assert ("banned", {"id": banned.id}) == (
        recorder.events[-2][0],
        {"id": recorder.events[-2][1]["id"]},
    )
    for _ in range(30):  # every pick after: never the banned one
        c.on_command(Skip())
        assert c.player.now_playing is not None and c.player.now_playing.id != banned.id
    assert banned.id not in {t.id for t in c.selector.tracks}
    c.on_command(Ban(10_000))  # no such track: said, nothing else changes
    assert any(p.kind is ProblemKind.COMMAND and "no such track" in p.text
               for p in c.health.standing())  # fmt: skip
    other = next(t for t in c.selector.tracks)
    c.on_command(Ban(other.id))  # by id, while another plays: it goes too, the music stays
    assert other.id not in {t.id for t in c.selector.tracks}
    assert not any(p.kind is ProblemKind.COMMAND for p in c.health.standing())


def test_the_volume_never_exceeds_the_cap_and_a_startup_volume_wins_over_the_last(
    tmp_path: Path,
) -> None:
    from moodcast.config.errors import MoodcastError
    from moodcast.edge.status.problems import ProblemKind

    def conductor(**player: object) -> Conductor:
        return _conductor(load_config(None, {f"player.{k}": v for k, v in player.items()}),
                          tmp_path)  # fmt: skip

    c = conductor(max_volume=80)
    c.on_command(SetVolume(95))
    assert c.state.volume == 80
    assert any(p.kind is ProblemKind.COMMAND and "95" in p.text for p in c.health.standing())
    c.on_command(SetVolume(60))
    assert c.state.volume == 60 and not c.health.standing()
    assert conductor(max_volume=80).state.volume == 60  # the last volume, kept over a restart
    assert conductor(max_volume=80, startup_volume=35).state.volume == 35
    assert conductor(max_volume=30, volume=30).state.volume == 30  # the cap lowered since
    with pytest.raises(MoodcastError, match=r"player\.startup_volume.*above player\.max_volume"):
        load_config(None, {"player.startup_volume": 90, "player.max_volume": 80})


def test_a_closure_day_keeps_the_music_off_and_the_state_says_so(tmp_path: Path) -> None:
    config = load_config(None, {
        "schedule.opening_hours": [{"days": ["mon"], "open": "09:00", "close": "18:00"}],
        "schedule.special_days": [{"date": "2026-11-23", "closed": True, "name": "Holiday"}],
    })  # fmt: skip
    clock = Clock()
    c = _conductor(config, tmp_path, clock)
    clock.t = 3600  # Monday 09:59: a Monday, but the holiday
    c.tick()
    assert c.is_open is False and c.player.now_playing is None
    schedule = device_state(c).schedule
    assert schedule.special_day == "Holiday: closed"
    # the next change: the next Monday's 09:00 (the week's hours again)
    assert schedule.next_change == datetime(2026, 11, 30, 9, 0).timestamp()


def test_a_track_failing_while_descriptors_are_short_is_not_flagged(rig) -> None:
    """Out of file descriptors (the page's sockets used them up, before), every track failed
    and was flagged: kept out of rotation after the attack. Now nothing is flagged, the state
    says what is short, and playing is tried again once descriptors are back."""
    from moodcast.player.decks import DeckFailed

    c, clock, decks, _ = rig
    first = opened(rig)
    short = ["out of file descriptors (1020 open, limit 1024)"]
    c.repertoire.shortage = lambda: short[0]
    deck = next(d for d in decks if d.playing)
    c.on_deck_event(DeckFailed(deck.index, deck.token, "libVLC could not play the file"))
    assert c.health.problems.get(ProblemKind.DESCRIPTORS) is not None
    assert c.health.problems.get(ProblemKind.TRACK_FAILED) is None
    assert first.id in {t.id for t in c.selector.tracks}
    assert all(t.status == "ok" for t in c.repertoire.library.tracks())
    clock.t += c.timings.retry_s + 1
    c.tick()
    assert c.player.now_playing is None  # still short: nothing is started
    short[0] = ""
    c.tick()
    assert c.player.now_playing is not None
    assert c.health.problems.get(ProblemKind.DESCRIPTORS) is None


def test_a_track_that_fails_with_descriptors_to_spare_is_flagged(rig) -> None:
    from moodcast.player.decks import DeckFailed

    c, _, decks, _ = rig
    first = opened(rig)
    c.repertoire.shortage = lambda: ""
    deck = next(d for d in decks if d.playing)
    c.on_deck_event(DeckFailed(deck.index, deck.token, "libVLC could not play the file"))
    assert c.health.problems.get(ProblemKind.TRACK_FAILED) is not None
    assert {t.id: t.status for t in c.repertoire.library.tracks()}[first.id] == "failed"
    assert c.player.now_playing is not None and c.player.now_playing.id != first.id
