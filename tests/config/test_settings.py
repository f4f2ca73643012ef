from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from moodcast.config import resource
from moodcast.config.errors import MoodcastError
from moodcast.config.settings import MoodcastConfig, load_config, masked


def test_shipped_default_yaml_equals_the_embedded_defaults() -> None:
    assert load_config(resource("default.yaml")) == MoodcastConfig()


@pytest.mark.parametrize("name", ["store.yaml", "car.yaml"])
def test_example_configs_are_valid(name: str) -> None:
    config = load_config(resource(f"examples/{name}"))
    assert config != MoodcastConfig()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("player:\n  volum: 50\n", "player.volum (line 2): unknown key — did you mean 'volume'?"),
        ("player:\n  volume: 150\n", "player.volume (line 2): Input should be less than or equal"),
        ("schedule:\n  opening_hours:\n    - open: '25:00'\n", "schedule.opening_hours.0.open"),
        ("schedule:\n  opening_hours:\n    - days: [funday]\n", "unknown day(s) ['funday']"),
        ("player:\n  audio_output: speakers\n", "use default, dummy"),
        ("cameras: {}\n", "cameras (line 1): unknown key — did you mean 'camera'?"),
        ("- just a list\n", "must hold a mapping"),
        ("player: [\n", "not valid YAML"),
    ],
)
def test_bad_config_names_the_path_line_and_fix(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(MoodcastError) as info:
        load_config(path)
    assert expected in str(info.value)


def test_overrides_win_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("mqtt:\n  port: 1884\n  host: broker.local\n")
    config = load_config(path, {"mqtt.port": 1999})
    assert (config.mqtt.host, config.mqtt.port) == ("broker.local", 1999)


def test_password_is_masked_when_printed(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("mqtt:\n  username: shop\n  password: hunter2\n")
    config = load_config(path)
    assert config.mqtt.password is not None
    assert config.mqtt.password.get_secret_value() == "hunter2"
    assert "hunter2" not in str(masked(config)) and "hunter2" not in repr(config)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"STATE_DIRECTORY": "/var/lib/moodcast"}, "/var/lib/moodcast/state.json"),
        ({"STATE_DIRECTORY": "/var/lib/a:/var/lib/b"}, "/var/lib/a/state.json"),
        ({"XDG_STATE_HOME": "/home/pi/.state"}, "/home/pi/.state/moodcast/state.json"),
        ({"XDG_STATE_HOME": "relative"}, "~/.local/state/moodcast/state.json"),
        ({}, "~/.local/state/moodcast/state.json"),
    ],
)
def test_the_state_file_goes_where_systemd_or_xdg_say(monkeypatch, env, expected) -> None:
    for name in ("STATE_DIRECTORY", "XDG_STATE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert load_config(None).state_file == Path(expected)


def _patterns(model: type, seen: set[type] | None = None) -> set[str]:
    """Every string pattern a config field is checked against, in all the nested models."""
    from pydantic import BaseModel

    seen = seen if seen is not None else set()
    found: set[str] = set()
    if model in seen:
        return found
    seen.add(model)
    for field in model.model_fields.values():  # type: ignore[attr-defined]
        found |= {m.pattern for m in field.metadata if getattr(m, "pattern", None)}
        for arg in (field.annotation, *getattr(field.annotation, "__args__", ())):
            for inner in (arg, *getattr(arg, "__args__", ())):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    found |= _patterns(inner, seen)
    return found


def test_a_value_of_the_wrong_form_is_said_in_words_not_as_a_regex(tmp_path: Path) -> None:
    from moodcast.config.settings import _PATTERN_WORDS, MoodcastConfig

    assert _patterns(MoodcastConfig) <= set(_PATTERN_WORDS)  # every pattern has its words
    path = tmp_path / "c.yaml"
    path.write_text('schedule:\n  opening_hours:\n    - {open: "9:00", close: "18:00"}\n')
    with pytest.raises(MoodcastError) as caught:
        load_config(path)
    text = str(caught.value)
    assert "schedule.opening_hours.0.open (line 3): '9:00' is not a time of day as HH:MM" in text
    assert "^(" not in text  # no regex in the message


@pytest.mark.parametrize(
    ("key", "value"),
    [("library.path", "/tmp/" + "x" * 300), ("library.music_dirs", ["/" + "y" * 256]),
     ("announcements.folder", "a/" * 2100), ("state_file", "s" * 256)],
)  # fmt: skip
def test_a_path_the_system_cannot_open_is_refused_naming_the_key(key: str, value: Any) -> None:
    """Before, a name over 255 bytes passed and made each later look at it raise OSError
    (File name too long), in 'config check' too."""
    with pytest.raises(MoodcastError, match=rf"{key.rsplit('.', maxsplit=1)[-1]}.*path too long"):
        load_config(None, {key: value})


@pytest.mark.parametrize(
    ("value", "number"),
    [(3, 3.0), (2.5, 2.5), (True, None), ("3", None), (None, None), (float("nan"), None),
     (float("inf"), None), (10**400, None), (-(10**400), None), ([1], None)],
)  # fmt: skip
def test_finite_number_takes_only_json_numbers_a_float_holds(value: Any, number: Any) -> None:
    from moodcast.config.text import finite_number

    assert finite_number(value) == number


@pytest.mark.parametrize(
    ("text", "number"),
    [("0", 0), ("1883", 1883), ("007", 7), ("²", None), ("٣", None), ("１２", None),
     ("-1", None), ("+2", None), (" 3", None), ("1_000", None), ("", None)],
)  # fmt: skip
def test_a_whole_number_from_outside_is_plain_digits(text: str, number: int | None) -> None:
    """str.isdigit() says yes to '²', which int() refuses, and to other scripts' digits."""
    from moodcast.config.text import whole_number

    assert whole_number(text) == number
