"""Announcements on real parts: libVLC decks writing files, Mosquitto, sox-made audio,
espeak-ng for texts. The music's own recording shows the duck and the return."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from moodcast.config.settings import AnnouncementSettings, load_config
from moodcast.edge.daemon import Daemon
from moodcast.models.mood import load_taxonomy
from moodcast.player.library import Library
from moodcast.player.scan import scan
from tests.conftest import require
from tests.edge.test_daemon import Listener

BASE = "moodcast/ann"


def _levels(path: Path, window_s: float = 0.1) -> np.ndarray:
    """The recording's level in dBFS, window by window."""
    with wave.open(str(path)) as rec:
        rate, width = rec.getframerate(), rec.getsampwidth()
        channels, raw = rec.getnchannels(), rec.readframes(rec.getnframes())
    samples = np.frombuffer(raw, {2: np.int16, 4: np.float32}[width]).astype(np.float64)
    samples = samples.reshape(-1, channels).mean(axis=1) / (32768.0 if width == 2 else 1.0)
    n = int(rate * window_s)
    blocks = samples[: len(samples) // n * n].reshape(-1, n)
    levels: np.ndarray = 20 * np.log10(np.sqrt((blocks**2).mean(axis=1)) + 1e-9)
    return levels


@pytest.fixture
def shop(tmp_path: Path, make_tone, broker, vlc_available):
    require(shutil.which("espeak-ng") is not None, "espeak-ng (apt install espeak-ng)")
    music = tmp_path / "music"
    make_tone(music / "steady.ogg", seconds=40, freq=330, artist="a", title="steady", mood="Calm")
    with Library(tmp_path / "lib.db") as lib:
        scan(lib, [music], load_taxonomy("cowen13"))
    folder = tmp_path / "announcements"
    make_tone(folder / "closing.ogg", seconds=2.0, freq=880)
    (folder / "broken.ogg").write_bytes(b"OggS" + bytes(range(256)) * 8)
    overrides = {
        "library.path": str(tmp_path / "lib.db"), "camera.source": str(tmp_path / "nocam"),
        "mqtt.port": broker.port, "mqtt.device_id": "ann", "web.enabled": False,
        "player.audio_output": f"file:{tmp_path / 'out.wav'}", "player.fade_s": 0.0,
        "player.loudness.enabled": False, "state_file": str(tmp_path / "state.json"),
    }  # fmt: skip
    config = load_config(None, overrides)
    announcements = AnnouncementSettings.model_validate({
        "folder": str(folder), "duck_db": -15,
        "items": [{"name": "closing", "file": "closing.ogg"},
                  {"name": "hello", "text": "We close in fifteen minutes."}]})  # fmt: skip
    config = config.model_copy(update={"announcements": announcements})
    mq = Listener(broker.port, [f"{BASE}/#", "homeassistant/#"])
    yield config, mq, tmp_path
    mq.close()


def test_announcements_duck_the_music_one_at_a_time_and_it_comes_back(shop) -> None:
    config, mq, tmp = shop
    daemon = Daemon(config)
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()

    def announcing() -> str | None:
        label = mq.state(BASE).get("announcing")
        return str(label) if label is not None else None

    try:
        mq.wait(lambda: (mq.state(BASE).get("now_playing") or {}).get("title") == "steady", 20)
        time.sleep(2.0)  # the music alone first
        mq.send(f"{BASE}/cmd/announce", "closing")
        mq.send(f"{BASE}/cmd/announce", '{"text": "Please bring your trolley back."}')
        mq.wait(
            lambda: announcing() == "closing" and mq.state(BASE)["announcements_waiting"] == 1, 10
        )  # queued, not on top
        mq.wait(lambda: announcing() == "text", 15)
        mq.wait(lambda: announcing() is None, 20)
        time.sleep(2.0)  # the music alone again
        for payload, problem in [('{"file": "missing.ogg"}', "is missing"),
                                 ('{"file": "broken.ogg"}', "not audio"),
                                 ("nobody", "no announcement named 'nobody'"),
                                 ('{"file": "../lib.db"}', "not a plain name")]:  # fmt: skip
            mq.send(f"{BASE}/cmd/announce", payload)
            mq.wait(lambda p=problem: p in json.dumps(mq.state(BASE).get("last_error") or "")
                    or p in (mq.last(f"{BASE}/error") or b"").decode(), 15)  # fmt: skip
        mq.wait(lambda: announcing() is None, 10)
        time.sleep(1.5)
        discovery = json.loads(mq.last("homeassistant/device/ann/config") or b"{}")
        assert discovery["cmps"]["announce_hello"]["payload_press"] == "hello"
    finally:
        daemon.stop()
        thread.join(timeout=15)
    levels = _levels(tmp / "out.wav")
    music = np.median(levels[5:15])
    # Ducked: about 15 dB down, not silent (the end, where the daemon's stop fades out).
    ducked = (levels < music - 10) & (levels > music - 25)
    assert abs(np.median(levels[ducked]) - (music - 15)) < 1.0  # ducked by 15 dB
    # Ducks apart by half a second or more (the music comes back for a second between two
    # queued announcements): a loaded machine's libVLC drops late buffers from the
    # recording, which may break one duck for a window or two but not bring the music back.
    # The last 1.5 s are the daemon's stop fading the music out, through the duck's band
    # (slowly on a loaded machine: 11 windows in one full run): not an announcement.
    marks = "".join("d" if d else "." for d in ducked[:-15])
    runs = [part.count("d") for part in re.split(r"\.{5,}", marks) if "d" in part]
    # closing (2 s) and the spoken text; the broken file is refused before the music ducks
    assert len([n for n in runs if n >= 5]) == 2, marks
    # back, and not left ducked (before the last 1.5 s: the daemon's stop fades the music out)
    assert abs(np.median(levels[-30:-20]) - music) < 0.5
    spoken = _levels(tmp / "out.deck2.wav")
    assert spoken.max() > -30  # the announcements themselves were played


def _silence(path: Path) -> None:
    """A second of real audio (silence, as WAV: what the fake decks are given to play)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 8000)


def _announcer(tmp_path: Path):
    from moodcast.edge.events import EventQueue
    from moodcast.edge.music.announcer import Announcer
    from moodcast.player.playback import Player
    from tests.fakes import FakeDeck

    events = EventQueue()
    music = [FakeDeck(0, "dummy", events), FakeDeck(1, "dummy", events)]
    deck = FakeDeck(2, "dummy", events)
    _silence(tmp_path / "a.wav")
    (tmp_path / "broken.ogg").write_bytes(b"OggS" + bytes(range(256)) * 8)
    settings = AnnouncementSettings.model_validate(
        {"folder": str(tmp_path), "max_seconds": 30, "items": [{"name": "a", "file": "a.wav"}]}
    )
    player = Player(music, 1.0, 1.0, 70)
    return Announcer(settings, deck, player, synthesize=lambda *_: ""), player, deck


def test_closed_means_no_announcement_and_a_stuck_one_is_cut_off(tmp_path: Path) -> None:
    from moodcast.edge.commands.remote_commands import Announce
    from moodcast.player.decks import DeckEnded

    announcer, player, deck = _announcer(tmp_path)
    assert "closed" in announcer.request(Announce(name="a"), open_now=False)
    assert announcer.request(Announce(name="a"), open_now=False, scheduled=True) == ""
    assert not announcer.queue  # a scheduled one is skipped while closed, quietly
    assert announcer.request(Announce(name="a"), open_now=True) == ""
    assert announcer.tick(0.0) == "" and player.duck_db == -15.0 and deck.playing
    assert announcer.on_deck_event(DeckEnded(2, 999), 1.0) == ""  # not its token
    assert "cut off after 30 s" in announcer.tick(31.0)  # the deck never said it ended
    assert player.duck_db == 0.0 and announcer.current is None


def test_a_file_that_is_not_audio_is_refused_before_the_music_ducks(tmp_path: Path) -> None:
    """Before, a damaged file was queued, ducked the music and ended at once; on a loaded
    machine the daemon noticed late and the music stayed ducked for a second (CI)."""
    from moodcast.edge.commands.remote_commands import Announce

    announcer, player, deck = _announcer(tmp_path)
    problem = announcer.request(Announce(file="broken.ogg"), open_now=True)
    assert "broken.ogg is not audio" in problem and "replace it" in problem
    assert not announcer.queue and announcer.tick(0.0) == ""
    assert player.duck_db == 0.0 and not deck.playing


def test_config_check_and_doctor_say_which_announcement_files_are_not_audio(tmp_path) -> None:
    """Said when the owner checks or starts, not first when an announcement is asked for."""
    from tests.edge.test_cli import moodcast

    folder = tmp_path / "ann"
    folder.mkdir()
    _silence(folder / "closing.wav")
    (folder / "broken.ogg").write_bytes(b"OggS" + bytes(200))  # a damaged Ogg
    (folder / "notes.mp3").write_text("not sound at all\n")
    config = tmp_path / "c.yaml"
    config.write_text(f"announcements:\n  folder: {folder}\n  chime: notes.mp3\n  items:\n"
                      "    - {name: closing, file: closing.wav}\n"
                      "    - {name: sale, file: broken.ogg}\n"
                      "    - {name: gone, file: gone.wav}\n")  # fmt: skip
    check = moodcast("config", "check", config)
    assert check.returncode == 0, check.stderr
    said = [line for line in check.stdout.splitlines() if "is not audio" in line]
    assert len(said) == 2, check.stdout  # the playable file and the missing one are not said
    # Placed like the config's own warnings: the key and the line it is on.
    assert "announcements.items.1.file (line 6)" in said[0] and "broken.ogg" in said[0]
    assert "announcements.chime (line 3)" in said[1] and "replace it with a sound" in said[1]
    assert "gone.wav is not there" in check.stdout and "(3 warning(s))" in check.stdout
    doctor = moodcast("doctor", "--config", config, "--no-mqtt", "--camera", tmp_path)
    assert "broken.ogg is not audio" in doctor.stdout and "notes.mp3 is not audio" in doctor.stdout


HOSTILE_TEXTS = [
    b'{"text": "Good\\u0000bye"}',  # a NUL: espeak-ng's argv cannot hold it
    b'{"text": "\\ud800 lone surrogate"}',
    b'{"text": "\\u001b[31mred\\u0007 bell"}',
    b'{"text": "\\u0000\\u0001"}',  # nothing left to speak
    b'{"text": "caf\xe9"}',  # not UTF-8 at all
    b'{"file": "a\\u0000b.ogg"}',
    b'{"name": "\\udcff"}',
]


@pytest.mark.reliability
def test_no_announcement_text_takes_the_daemon_down(shop) -> None:
    """Before, one cmd/announce with a NUL or a lone surrogate ended the daemon (exit 1)."""
    config, mq, _tmp = shop
    daemon = Daemon(config)
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    try:
        mq.wait(lambda: (mq.state(BASE).get("now_playing") or {}).get("title") == "steady", 20)
        for payload in HOSTILE_TEXTS:
            mq.send(f"{BASE}/cmd/announce", payload)
        mq.send(f"{BASE}/cmd/volume", "37")
        mq.wait(lambda: mq.state(BASE).get("volume") == 37, 20)
        assert thread.is_alive()
        mq.wait(lambda: mq.state(BASE).get("announcing") is None, 20)
        internal = [p for p in mq.state(BASE).get("problems", []) if p["kind"] == "internal"]
        assert not internal, internal
    finally:
        daemon.stop()
        thread.join(timeout=15)
    assert not thread.is_alive()


@pytest.mark.parametrize("text", ["Good\x00bye", "a\x1b[31m\x07b", "tab\tand\nline"])
def test_a_config_text_is_cleaned_or_refused_before_the_daemon_starts(text: str) -> None:
    settings = AnnouncementSettings.model_validate(
        {"items": [{"name": "a", "text": text, "at": ["09:00"]}]}
    )
    spoken = settings.items[0].text or ""
    assert spoken and all(c.isprintable() for c in spoken) and "\ud800" not in spoken
    with pytest.raises(ValueError, match="nothing to speak"):
        AnnouncementSettings.model_validate({"items": [{"name": "b", "text": "\x00\x01"}]})
    with pytest.raises(ValueError, match="valid string"):  # a lone surrogate: refused at once
        AnnouncementSettings.model_validate({"items": [{"name": "c", "text": "\ud800 x"}]})


def _timed_announcer(tmp_path: Path, **settings: object):
    from moodcast.edge.events import EventQueue
    from moodcast.edge.music.announcer import Announcer
    from moodcast.player.playback import Player
    from moodcast.player.track import Track
    from tests.fakes import FakeDeck

    events = EventQueue()
    music = [FakeDeck(0, "dummy", events), FakeDeck(1, "dummy", events)]
    deck = FakeDeck(2, "dummy", events)
    for name in ("a.ogg", "chime.ogg", "song.ogg"):
        _silence(tmp_path / name)
    items = [{"name": "a", "file": "a.ogg"},
             {"name": "late", "file": "a.ogg", "when": "between_tracks"}]  # fmt: skip
    config = AnnouncementSettings.model_validate(
        {"folder": str(tmp_path), "max_seconds": 30, "items": items, **settings}
    )
    player = Player(music, 1.0, 1.0, 70)
    song = Track(1, str(tmp_path / "song.ogg"), "x", "song", "", 60.0, "ok", "", None)
    player.play(song, 0.0, fade_in=0.0)
    return Announcer(config, deck, player, synthesize=lambda *_: ""), player, deck


def test_a_chime_plays_first_then_the_announcement(tmp_path: Path) -> None:
    from moodcast.edge.commands.remote_commands import Announce
    from moodcast.player.decks import DeckEnded

    announcer, player, deck = _timed_announcer(tmp_path, chime="chime.ogg")
    announcer.request(Announce(name="a"), open_now=True)
    announcer.tick(0.0)
    assert deck.playing and deck.playing.endswith("chime.ogg") and player.duck_db == -15.0
    assert announcer.on_deck_event(DeckEnded(2, deck.token), 2.0) == ""
    assert deck.playing.endswith("a.ogg") and announcer.current is not None
    assert announcer.on_deck_event(DeckEnded(2, deck.token), 5.0) == ""
    assert announcer.current is None and player.duck_db == 0.0


def test_between_tracks_waits_for_the_end_and_urgent_interrupts_at_once(tmp_path: Path) -> None:
    from moodcast.edge.commands.remote_commands import Announce
    from moodcast.player.decks import DeckEnded

    announcer, player, deck = _timed_announcer(tmp_path, max_wait_s=100)
    announcer.request(Announce(name="late"), open_now=True, now=0.0)
    assert announcer.tick(10.0, track_ending=False) == "" and announcer.current is None
    announcer.tick(20.0, track_ending=True)  # the track ends: it plays, the next one waits
    assert (
        announcer.current is not None and announcer.holding and announcer.mode == "between_tracks"
    )
    announcer.on_deck_event(DeckEnded(2, deck.token), 25.0)
    assert not announcer.holding
    # Waited too long for a track's end: it plays over the ducked music instead.
    announcer.request(Announce(name="late"), open_now=True, now=30.0)
    announcer.tick(131.0, track_ending=False)
    assert announcer.mode == "duck" and not announcer.holding
    announcer.on_deck_event(DeckEnded(2, deck.token), 140.0)
    # Urgent: ahead of the queue, the music paused (not ducked), and back after.
    announcer.request(Announce(name="a"), open_now=True, now=150.0)
    announcer.request(Announce(text="Fire alarm test", when="urgent"), open_now=True, now=150.0)
    announcer.tick(150.0, track_ending=False)
    assert announcer.current is not None and announcer.current.label == "text"
    assert player.paused and announcer.holding and player.duck_db == 0.0
    announcer.on_deck_event(DeckEnded(2, deck.token), 155.0)
    assert not player.paused and [p.label for p in announcer.queue] == ["a"]


@pytest.mark.parametrize(("payload", "expected"), [
    (b'{"name": "a", "when": "urgent"}', ("a", "", "urgent")),
    (b'{"text": "Closing soon", "when": "between_tracks"}', ("", "Closing soon", "between_tracks")),
    (b'{"name": "a"}', ("a", "", "")),
])  # fmt: skip
def test_an_announce_command_may_say_when(payload: bytes, expected: tuple[str, str, str]) -> None:
    from moodcast.edge.commands.remote_commands import CommandTable

    command = CommandTable(["calm"], 60.0).parse("announce", payload)
    assert (command.name, command.text, command.when) == expected


@pytest.mark.parametrize("payload", [b'{"name": "a", "when": "later"}', b'{"when": "urgent"}'])
def test_a_bad_when_is_refused_with_the_choices(payload: bytes) -> None:
    from moodcast.edge.commands.remote_commands import CommandError, CommandTable

    with pytest.raises(CommandError, match="duck, between_tracks or urgent"):
        CommandTable(["calm"], 60.0).parse("announce", payload)


def test_between_tracks_with_a_chime_on_the_real_daemon(tmp_path: Path, make_tone, broker,
                                                        vlc_available) -> None:  # fmt: skip
    """libVLC and Mosquitto: the announcement waits for the playing track's end, no track
    plays while it does, it is recorded on its own deck, and the music comes back after."""
    music = tmp_path / "music"
    for i in range(3):
        make_tone(music / f"{i}.ogg", seconds=5, freq=300 + 50 * i, title=f"t{i}", mood="Calm")
    with Library(tmp_path / "lib.db") as lib:
        scan(lib, [music], load_taxonomy("cowen13"))
    folder = tmp_path / "announcements"
    make_tone(folder / "chime.ogg", seconds=1.0, freq=1200)
    make_tone(folder / "sale.ogg", seconds=2.0, freq=660)
    config = load_config(None, {
        "library.path": str(tmp_path / "lib.db"), "camera.source": str(tmp_path / "nocam"),
        "mqtt.port": broker.port, "mqtt.device_id": "ann", "web.enabled": False,
        "player.audio_output": f"file:{tmp_path / 'out.wav'}", "player.crossfade_s": 0.5,
        "player.fade_s": 0.0, "state_file": str(tmp_path / "state.json"),
        "announcements.folder": str(folder), "announcements.chime": "chime.ogg",
        "announcements.items": [{"name": "sale", "file": "sale.ogg", "when": "between_tracks"}],
    })  # fmt: skip
    mq = Listener(broker.port, [f"{BASE}/#"])
    daemon = Daemon(config)
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    seen: list[tuple[str | None, str | None]] = []
    try:
        mq.wait(lambda: (mq.state(BASE).get("now_playing") or {}).get("title") is not None, 20)
        first = mq.state(BASE)["now_playing"]["title"]
        mq.send(f"{BASE}/cmd/announce", "sale")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = mq.state(BASE)
            playing = (state.get("now_playing") or {}).get("title")
            seen.append((state.get("announcing"), playing))
            if seen[-1][0] is None and len([s for s in seen if s[0] == "sale"]) > 3:
                break
            time.sleep(0.05)
        mq.wait(lambda: (mq.state(BASE).get("now_playing") or {}).get("title") is not None, 20)
    finally:
        daemon.stop()
        thread.join(timeout=15)
        mq.close()
    during = [playing for announcing, playing in seen if announcing == "sale"]
    assert during and all(p is None for p in during[2:]), seen  # the next track waited
    assert (None, first) in seen  # the first track played on after the command came
    # libVLC's file output starts a new recording per file: the last one, the announcement
    # after its chime, holds its 2 s (the chime's order is tested with fake decks above).
    spoken = _levels(tmp_path / "out.deck2.wav")
    assert (spoken > spoken.max() - 20).sum() * 0.1 >= 1.8


def test_two_queued_announcements_are_two_with_the_music_back_between(tmp_path: Path) -> None:
    """Before, the second began at the next tick (0.2 s): on a busy machine the music never
    came back between them and listeners heard one long announcement (CI caught it)."""
    from moodcast.edge.commands.remote_commands import Announce
    from moodcast.edge.music.announcer import GAP_S
    from moodcast.player.decks import DeckEnded

    announcer, player, deck = _announcer(tmp_path)
    announcer.request(Announce(name="a"), open_now=True)
    announcer.request(Announce(name="a"), open_now=True)
    announcer.tick(0.0)
    first = deck.token
    assert announcer.on_deck_event(DeckEnded(2, first), 3.0) == ""
    assert player.duck_db == 0.0  # the music back
    announcer.tick(3.0 + GAP_S / 2)
    assert deck.token == first and player.duck_db == 0.0 and announcer.current is None
    announcer.tick(3.0 + GAP_S)
    assert deck.token == first + 1 and player.duck_db == -15.0  # the second, ducked again
