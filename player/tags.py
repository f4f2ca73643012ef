"""Reading what a file says about itself: artist/title/album/duration and mood words."""

from __future__ import annotations

import functools
import importlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_BRACKETED = re.compile(r"[(\[].*?[)\]]")

AUDIO_EXTENSIONS = frozenset({".mp3", ".ogg", ".oga", ".opus", ".flac", ".wav", ".m4a"})

# A weak hint only: genre words that carry a mood, used when nothing better is known.
GENRE_HINTS: dict[str, str] = {
    "ambient": "calm",
    "new age": "calm",
    "lounge": "chill",
    "chillout": "chillout",
    "classical": "beautiful",
    "soundtrack": "epic",
    "metal": "aggressive",
    "heavy metal": "aggressive",
    "punk": "defiant",
    "hardcore": "aggressive",
    "dance": "party",
    "disco": "party",
    "house": "energetic",
    "techno": "energetic",
    "edm": "energetic",
    "blues": "melancholy",
    "jazz": "smooth",
    "reggae": "relaxed",
    "gospel": "uplifting",
    "lullaby": "gentle",
    "horror": "scary",
}


@dataclass(frozen=True)
class FileInfo:
    artist: str
    title: str
    album: str
    genre: str
    duration: float | None
    mood_words: tuple[str, ...]
    replaygain: tuple[str, str | None] | None = None  # (track gain, track peak) as tagged
    explicit: bool = False  # the file says its lyrics are explicit
    isrc: str = ""  # the recording's ISRC, for the play log (licensing bodies ask for it)
    label: str = ""  # the record label (or publisher) as tagged


class UnreadableAudioError(Exception):
    """The file is not audio that the tag reader understands; the message says why."""


def shown(text: str) -> str:
    """Text fit to show and send: a name's bytes that are not UTF-8 (held by Python as
    surrogate escapes) become U+FFFD instead of failing every encoder downstream."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogateescape" if _escapes_only(text) else "surrogatepass")
        return raw.decode("utf-8", "replace")
    return text


def _escapes_only(text: str) -> bool:
    return all(not 0xD800 <= ord(c) <= 0xDFFF or 0xDC80 <= ord(c) <= 0xDCFF for c in text)


def match_key(artist: str, title: str) -> str:
    """A key that matches the same song across sources despite case, accents and extras."""
    title = _BRACKETED.sub("", title)
    return f"{_fold(artist)}\t{_fold(title)}"


def unaccent(text: str) -> str:
    """The text without its accents: é → e, ö → o, ñ → n (letters of other scripts kept)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed
                                                if not unicodedata.combining(c)))  # fmt: skip


def _fold(text: str) -> str:
    """Case, accents (Beyoncé is Beyonce), '&' and a leading 'the' do not tell songs apart."""
    text = unaccent(unicodedata.normalize("NFKC", text).casefold())
    text = text.replace("&", " and ")
    text = re.sub(r"^the\s+", "", text.strip())
    return re.sub(r"[\W_]+", " ", text).strip()


def split_mood_words(values: list[str]) -> tuple[str, ...]:
    words: list[str] = []
    for value in values:
        words.extend(w.strip() for w in re.split(r"[;,/|]", value) if w.strip())
    return tuple(words)


def _first(tags: Any, *keys: str) -> list[str]:
    """The values of the first of ``keys`` present (any case), as text."""
    if not tags:
        return []
    for key in _folded(keys):
        value = tags.get(key)
        if value:
            if hasattr(value, "genres"):  # ID3 TCON: "(17)" is Rock, as mutagen's easy view reads
                return [str(g) for g in value.genres]
            if hasattr(value, "text") and isinstance(value.text, list):  # an ID3 frame: its values
                return [str(t) for t in value.text]
            items = value if isinstance(value, list) else [value]
            return [_text(v) for v in items]
    return []


@functools.cache
def _folded(keys: tuple[str, ...]) -> tuple[str, ...]:
    """Tag names lower-cased once, each once ("mood" and "MOOD" are one name)."""
    return tuple(dict.fromkeys(k.lower() for k in keys))


def _by_name(tags: Any) -> dict[str, Any]:
    """A file's tags by lower-cased name, read once: a Vorbis comment looks every key up by a
    case-insensitive walk over all of them, which was a third of the scan's time."""
    out: dict[str, Any] = {}
    if tags is None:
        return out
    try:
        names = list(tags.keys())
    except (KeyError, ValueError, TypeError):
        return out
    for name in names:
        folded = str(name).lower()
        if folded not in out:
            try:
                out[folded] = tags[name]
            except (KeyError, ValueError):
                continue
    return out


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "text"):
        return "; ".join(str(t) for t in value.text)
    return str(value)


def read_file_info(path: Path) -> FileInfo:
    """Tags and duration of one audio file, via mutagen: the file is opened once (the scan's
    cost is this call), its tags read by their names in each container (Vorbis comments, ID3
    frames, MP4 atoms)."""
    try:
        audio = _open(path)
    except Exception as exc:  # mutagen raises many types for damaged files
        raise UnreadableAudioError(f"{type(exc).__name__}: {exc}") from exc
    if audio is None:
        raise UnreadableAudioError("not a recognised audio file")
    length = getattr(audio.info, "length", None)
    if not length or length <= 0:
        raise UnreadableAudioError("audio has no length (empty or damaged)")
    raw_tags = _by_name(audio.tags)
    moods = _first(raw_tags, "mood", "MOOD", "TMOO", "----:com.apple.iTunes:MOOD")
    return FileInfo(
        artist=(_first(raw_tags, "artist", "ARTIST", "TPE1", "\xa9ART") or [""])[0],
        title=(_first(raw_tags, "title", "TITLE", "TIT2", "\xa9nam") or [shown(path.stem)])[0],
        album=(_first(raw_tags, "album", "ALBUM", "TALB", "\xa9alb") or [""])[0],
        genre=(_first(raw_tags, "genre", "GENRE", "TCON", "\xa9gen") or [""])[0],
        duration=float(length),
        mood_words=split_mood_words(moods),
        replaygain=_replaygain(raw_tags),
        explicit=_explicit(raw_tags),
        isrc=_isrc(raw_tags),
        label=(_first(raw_tags, *_LABEL) or [""])[0].strip()[:200],
    )


def _open(path: Path) -> Any:
    """The file read by the formats its name says first: mutagen's own guess scores all 24
    formats against every file, a fifth of the scan. A file whose name lies (an MP3 called
    .ogg) is then read by the full guess, from the same open file."""
    import mutagen

    with path.open("rb") as handle:
        likely = _kinds(path.suffix.lower())
        try:
            audio = mutagen.File(handle, options=likely) if likely else None
        except Exception:  # not what its name says: the full guess decides
            audio = None
        if audio is None:
            handle.seek(0)
            audio = mutagen.File(handle, options=[k for k in _all_kinds() if k not in likely])
    return audio


@functools.cache
def _all_kinds() -> list[Any]:
    """Every format mutagen's own guess (``mutagen.File`` without options) tries, in its
    order: what a file whose name lies is read by, less the formats its name said."""
    kinds: list[Any] = []
    for name in ("mp3.MP3", "trueaudio.TrueAudio", "oggtheora.OggTheora", "oggspeex.OggSpeex",
                 "oggvorbis.OggVorbis", "oggflac.OggFLAC", "flac.FLAC", "aiff.AIFF",
                 "apev2.APEv2File", "mp4.MP4", "id3.ID3FileType", "wavpack.WavPack",
                 "musepack.Musepack", "monkeysaudio.MonkeysAudio", "optimfrog.OptimFROG",
                 "asf.ASF", "oggopus.OggOpus", "aac.AAC", "ac3.AC3", "smf.SMF", "tak.TAK",
                 "dsf.DSF", "dsdiff.DSDIFF", "wave.WAVE"):  # fmt: skip
        module, kind = name.split(".")
        kinds.append(getattr(importlib.import_module(f"mutagen.{module}"), kind))
    return kinds


@functools.cache
def _kinds(suffix: str) -> list[Any]:
    from mutagen.flac import FLAC
    from mutagen.mp3 import MP3
    from mutagen.mp4 import MP4
    from mutagen.oggflac import OggFLAC
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis
    from mutagen.wave import WAVE

    ogg = [OggVorbis, OggOpus, OggFLAC]
    by_suffix: dict[str, list[Any]] = {".mp3": [MP3], ".ogg": ogg, ".oga": ogg, ".opus": [OggOpus],
                                       ".flac": [FLAC], ".wav": [WAVE], ".m4a": [MP4]}  # fmt: skip
    return by_suffix.get(suffix, [])


_RG_GAIN = ("REPLAYGAIN_TRACK_GAIN", "replaygain_track_gain", "TXXX:REPLAYGAIN_TRACK_GAIN",
            "TXXX:replaygain_track_gain", "----:com.apple.iTunes:replaygain_track_gain",
            "----:com.apple.iTunes:REPLAYGAIN_TRACK_GAIN")  # fmt: skip
_RG_PEAK = tuple(k.replace("GAIN", "PEAK").replace("gain", "peak") for k in _RG_GAIN)
_ADVISORY = ("ITUNESADVISORY", "itunesadvisory", "TXXX:ITUNESADVISORY", "EXPLICIT", "explicit",
             "----:com.apple.iTunes:ITUNESADVISORY", "TXXX:EXPLICIT")  # fmt: skip


_ISRC = ("isrc", "TSRC", "TXXX:ISRC", "----:com.apple.iTunes:ISRC")
_LABEL = ("label", "organization", "publisher", "TPUB", "TXXX:LABEL",
          "----:com.apple.iTunes:LABEL", "----:com.apple.iTunes:publisher")  # fmt: skip


def _isrc(raw: Any) -> str:
    """The first well-formed ISRC tagged (CC-XXX-YY-NNNNN, hyphens optional), upper case;
    '' for none or a malformed one (a log for licensing bodies should not carry junk)."""
    for value in _first(raw, *_ISRC):
        code = value.replace("-", "").replace(" ", "").upper()
        if (
            len(code) == 12
            and code.isascii()
            and code[:2].isalpha()
            and code[2:5].isalnum()
            and code[5:].isdigit()
        ):
            return code
    return ""


def _replaygain(raw: Any) -> tuple[str, str | None] | None:
    gain = _first(raw, *_RG_GAIN)
    if not gain:
        return None
    peak = _first(raw, *_RG_PEAK)
    return gain[0], peak[0] if peak else None


def _explicit(raw: Any) -> bool:
    """MP4 ``rtng`` 1 or 4, or an iTunes advisory / EXPLICIT tag of 1, yes or true."""
    try:
        rating = raw.get("rtng") if raw is not None else None
    except (KeyError, ValueError):
        rating = None
    if rating and int(rating[0]) in (1, 4):
        return True
    return any(v.strip().casefold() in {"1", "yes", "true", "explicit"}
               for v in _first(raw, *_ADVISORY))  # fmt: skip
