"""Values each valid but not together: errors and warnings that name where they came from."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from moodcast.config.errors import MoodcastError
from moodcast.config.settings import config_warnings, load_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("smoothing:\n  override_minutes: 20000\n",
         "smoothing.override_minutes (line 2): 20000 minutes is longer than a mood command"),
        ("schedule:\n  opening_hours:\n    - open: '09:00'\n      close: '09:00'\n",
         "schedule.opening_hours.0 (line 3): opens and closes at the same time"),
        ("schedule:\n  dayparts:\n    - {start: '08:00', volume: 40}\n"
         "    - {start: '08:00', volume: 60}\n", "two dayparts start at 08:00"),
        ("camera:\n  retry_interval_s: 90\n  retry_max_s: 30\n",
         "camera.retry_interval_s (line 2): first retry wait 90 s is above"),
        ("rules:\n  rules:\n    - name: a\n      arousal_min: 0.5\n      arousal_max: 0.2\n",
         "rules.rules.0.arousal_min (line 4): arousal_min 0.5 is above arousal_max 0.2"),
        ("rules:\n  rules:\n    - {name: a, start: '10:00', end: '10:00'}\n",
         "rules.rules.0.start (line 3): starts and ends at 10:00"),
        ("rules:\n  rules:\n    - name: a\n      include: {genres: [Pop]}\n"
         "      exclude: {genres: [pop]}\n", "['pop'] both included and excluded"),
        ("rules:\n  rules:\n    - {name: calm, arousal_max: 0.2}\n"
         "    - {name: lively, arousal_min: 0.5, start: '12:00', end: '13:00'}\n",
         "rules.rules.1 (line 4): contradicts rule 'calm' (rules.rules.0)"),
    ],
)  # fmt: skip
def test_values_that_cannot_work_together_are_errors(tmp_path, text, expected) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(MoodcastError, match=re.escape(expected)):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("camera:\n  stall_timeout_s: 5\n", "camera.stall_timeout_s (line 2): 5 s is under two"),
        ("smoothing:\n  half_life_s: 3\n", "smoothing.half_life_s (line 2): 3 s is under the"),
        ("mqtt:\n  username: shop\n", "mqtt.username (line 2): user name and password go together"),
        ("mqtt:\n  ca_file: /etc/ca.pem\n", "mqtt.ca_file (line 2): set, but mqtt.tls is off"),
    ],
)
def test_values_that_probably_mean_something_else_are_warnings(tmp_path, text, expected):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    warnings = config_warnings(load_config(path), path)
    assert any(expected in w for w in warnings), warnings
    assert config_warnings(load_config(None)) == []  # the defaults are quiet


def test_a_bad_value_from_a_flag_is_blamed_on_the_flag_not_a_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("schedule:\n  capture_interval_s: 10\n")  # line 2 is fine
    sources = {"schedule.capture_interval_s": "flag --interval"}
    with pytest.raises(MoodcastError, match=r"capture_interval_s \(from flag --interval\)"):
        load_config(path, {"schedule.capture_interval_s": 0.01}, sources)
    warnings = config_warnings(load_config(path, {"schedule.capture_interval_s": 20}, sources),
                               path, sources)  # fmt: skip
    assert any("(from flag --interval)" not in w and "camera.stall_timeout_s" in w
               for w in warnings)  # fmt: skip


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "moodcast.edge.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


def test_config_check_and_doctor_show_the_warnings_and_the_flag(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("camera:\n  stall_timeout_s: 5\n")
    check = _cli("config", "check", str(path))
    assert check.returncode == 0
    assert (
        "warning: camera.stall_timeout_s (line 2)" in check.stdout and "1 warning" in check.stdout
    )
    doctor = _cli("doctor", "--config", str(path), "--no-mqtt", "--camera", str(tmp_path))
    assert "WARN  config   camera.stall_timeout_s (line 2)" in doctor.stdout
    bad = _cli("doctor", "--config", str(path), "--interval", "0.05")
    assert bad.returncode == 2 and "(from flag --interval)" in bad.stderr


def test_rules_apart_in_time_do_not_contradict(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "rules:\n  rules:\n    - {name: calm, arousal_max: 0.2, end: '10:00'}\n"
        "    - {name: lively, arousal_min: 0.5, start: '18:00'}\n"
    )
    assert len(load_config(path).rules.rules) == 2


def test_a_rule_naming_an_unknown_mood_or_folder_is_said(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("rules:\n  rules:\n    - name: a\n      include: {moods: [spooky]}\n")
    check = _cli("config", "check", str(path))
    assert check.returncode == 2
    assert "rules.rules.0.include.moods (line 4): ['spooky'] are not moods" in check.stderr
    path.write_text(
        f"rules:\n  rules:\n    - name: a\n      exclude: {{folders: [{tmp_path / 'nope'}]}}\n"
    )
    check = _cli("config", "check", str(path))
    assert check.returncode == 0 and "is not a folder" in check.stdout


def test_rules_naming_genres_or_artists_no_track_has_are_said_with_their_line(
    tmp_path: Path,
) -> None:
    """A typo in a rule's genre or artist matches nothing, silently: the check says so, placed
    by key and line like the config's own warnings."""
    from moodcast.player.library import Library

    db = tmp_path / "lib.db"
    with Library(db) as library:
        library.upsert_track(str(tmp_path / "a.ogg"), 1, 0.0, genre="Folk; Jazz", artist="Nils")
    path = tmp_path / "c.yaml"
    path.write_text(f"library:\n  path: {db}\nrules:\n  rules:\n    - name: a\n"
                    "      include: {genres: [jazz, jaz], artists: [nils]}\n")  # fmt: skip
    check = _cli("config", "check", str(path))
    assert check.returncode == 0, check.stderr
    said = [line for line in check.stdout.splitlines() if "in no track" in line]
    assert len(said) == 1 and "rules.rules.0.include.genres (line 6): ['jaz']" in said[0]


def test_an_earlier_pbkdf2_password_hash_works_and_is_said_to_be_replaced(tmp_path: Path) -> None:
    from moodcast.edge.web.auth import hash_password

    path = tmp_path / "c.yaml"
    path.write_text('web:\n  password_hash: "pbkdf2_sha256$1000$MDEyMzQ1Njc4OWFiY2RlZg==$x"\n')
    warnings = config_warnings(load_config(path), path)
    assert any("web.password_hash (line 2): a PBKDF2 hash" in w for w in warnings)
    path.write_text(f'web:\n  password_hash: "{hash_password("pw", n=1024)}"\n')
    assert not config_warnings(load_config(path), path)
    path.write_text('web:\n  password_hash: "md5$abc"\n')
    with pytest.raises(MoodcastError, match="not a hash from 'moodcast web hash-password'"):
        load_config(path)
