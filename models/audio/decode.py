"""Opening any audio file libVLC plays, for listening and loudness alike.

libsndfile (soundfile) reads WAV, FLAC, Ogg Vorbis/Opus and MP3 exactly and fast; it has no
MP4 decoder, so AAC and ALAC (.m4a: what most shops' purchased music is) were never tagged by
listening nor measured. Those, and anything else libsndfile refuses, are decoded by FFmpeg's
libraries through PyAV (its wheel bundles them). Both give float32 frames × channels at the
file's own rate.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

Block = NDArray[np.float32]  # frames × channels


class AudioDecodeError(Exception):
    """The file cannot be decoded; the message says why."""


class AudioFile(Protocol):
    rate: int
    channels: int
    frames: int  # an estimate for compressed streams without an exact count

    def blocks(self, size: int) -> Iterator[Block]: ...
    def read_spans(self, spans: Sequence[tuple[int, int]]) -> list[Block]:
        """The frames of each (start, count) span, in order."""
        ...


class SoundFileAudio:
    """libsndfile: exact frame counts and seeks."""

    def __init__(self, path: Path) -> None:
        import soundfile as sf

        # As bytes: libsndfile takes a path as UTF-8, and a name that is not UTF-8 (read from
        # the disk with surrogate escapes) cannot be encoded so; its own bytes open it.
        self._sf, self._path = sf, os.fsencode(path)
        info = sf.info(self._path)
        self.rate, self.channels, self.frames = (
            int(info.samplerate),
            int(info.channels),
            int(info.frames),
        )

    def blocks(self, size: int) -> Iterator[Block]:
        yield from self._sf.blocks(self._path, blocksize=size, dtype="float32", always_2d=True)

    def read_spans(self, spans: Sequence[tuple[int, int]]) -> list[Block]:
        return [np.asarray(self._sf.read(self._path, start=start, frames=count, dtype="float32",
                                         always_2d=True)[0], dtype=np.float32)
                for start, count in spans]  # fmt: skip


class FFmpegAudio:
    """FFmpeg's decoders through PyAV, for what libsndfile cannot open (AAC, ALAC, …)."""

    def __init__(self, path: Path) -> None:
        import av

        self._av, self._path = av, str(path)
        with av.open(self._path) as container:
            if not container.streams.audio:
                raise AudioDecodeError("the file holds no audio stream")
            stream = container.streams.audio[0]
            self.rate = int(stream.codec_context.sample_rate or 0)
            self.channels = int(stream.codec_context.layout.nb_channels or 0)
            if stream.duration is not None and stream.time_base is not None:
                seconds = float(stream.duration * stream.time_base)
            else:
                seconds = (container.duration or 0) / 1_000_000
        self.frames = int(seconds * self.rate)

    def _decoded(self) -> Iterator[Block]:
        """Decoded blocks; a stream FFmpeg cannot decode (damaged, or encrypted: an iTunes
        FairPlay file, sample entry 'drms') is an AudioDecodeError that says so."""
        try:
            with self._av.open(self._path) as container:
                stream = container.streams.audio[0]
                protected = _protected(stream)
                layout = stream.codec_context.layout
                resampler = self._av.AudioResampler(format="flt", layout=layout, rate=self.rate)
                for frame in container.decode(stream):
                    for out in resampler.resample(frame):
                        yield _packed(out, self.channels)
                for out in resampler.resample(None):
                    yield _packed(out, self.channels)
        except self._av.FFmpegError as exc:
            why = "protected by DRM (an iTunes FairPlay file)" if protected else "damaged"
            raise AudioDecodeError(f"FFmpeg cannot decode its audio ({why}: {exc})") from exc

    def blocks(self, size: int) -> Iterator[Block]:
        pending = np.zeros((0, self.channels), np.float32)
        for part in self._decoded():
            pending = np.concatenate([pending, part])
            while len(pending) >= size:
                yield pending[:size]
                pending = pending[size:]
        if len(pending):
            yield pending

    def read_spans(self, spans: Sequence[tuple[int, int]]) -> list[Block]:
        """All spans in one pass decoded from the start (compressed streams seek to key frames
        only), stopping at the end of the last."""
        parts: list[list[Block]] = [[] for _ in spans]
        end, seen = max((start + count for start, count in spans), default=0), 0
        for part in self._decoded():
            for kept, (start, count) in zip(parts, spans, strict=True):
                lo, hi = max(start - seen, 0), min(start + count - seen, len(part))
                if hi > lo:
                    kept.append(part[lo:hi])
            seen += len(part)
            if seen >= end:
                break
        empty = np.zeros((0, self.channels), np.float32)
        return [np.concatenate(kept) if kept else empty for kept in parts]


def _protected(stream: Any) -> bool:
    """Whether the stream says it is encrypted (FairPlay's 'drms', 'enca' of CENC)."""
    tag = str(getattr(stream.codec_context, "codec_tag", "") or "")
    return tag.strip().lower() in {"drms", "enca", "p608"}


def _packed(frame: Any, channels: int) -> Block:
    return np.asarray(frame.to_ndarray(), dtype=np.float32).reshape(-1, channels)


def open_audio(path: Path) -> AudioFile:
    """The file through libsndfile, else FFmpeg; :class:`AudioDecodeError` when neither can."""
    import soundfile as sf

    try:
        return SoundFileAudio(path)
    except (RuntimeError, sf.LibsndfileError) as exc:
        first = exc
    try:
        import av
    except ImportError:
        raise AudioDecodeError(f"{first}; FFmpeg (PyAV) is not installed to try it: pip"
                               " install 'moodcast[tagging]'") from first  # fmt: skip
    try:
        audio = FFmpegAudio(path)
    except (av.error.FFmpegError, OSError, ValueError, IndexError) as exc:
        raise AudioDecodeError(f"neither libsndfile nor FFmpeg can decode it ({exc})") from exc
    if audio.rate <= 0 or audio.channels <= 0:
        raise AudioDecodeError("FFmpeg finds no playable audio in it")
    return audio


def decode_errors() -> tuple[type[BaseException], ...]:
    """What decoding a block can raise, for the callers' except clauses."""
    import soundfile as sf

    errors: list[type[BaseException]] = [RuntimeError, sf.LibsndfileError, AudioDecodeError]
    try:
        import av

        errors.append(av.error.FFmpegError)
    except ImportError:
        pass
    return tuple(errors)
