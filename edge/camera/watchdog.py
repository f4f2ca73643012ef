"""The camera watchdog: notices a dead or frozen source and reopens it with backoff.

It is driven by the capture job (no thread of its own) and never raises: the music keeps
playing whatever the camera does, and ``status``/``detail`` say what is wrong.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from moodcast.config.settings import CameraSettings
from moodcast.edge.camera.sources import (
    CameraEndedError,
    CameraError,
    CameraPendingError,
    Frame,
    FrameSource,
)
from moodcast.models.vision.frames import FrameRefusedError, fit_frame, turned

logger = logging.getLogger(__name__)


class CameraWatchdog:
    def __init__(
        self,
        factory: Callable[[], FrameSource],
        policy: CameraSettings,
        detect_frozen: bool = True,
    ) -> None:
        """``detect_frozen``: a live camera always has sensor noise; a file may show a still."""
        self._factory = factory
        self._policy = policy
        self._detect_frozen = detect_frozen
        self._source: FrameSource | None = None
        self._next_attempt = 0.0
        self._backoff = policy.retry_interval_s
        self._last_digest = b""
        self._last_change = 0.0
        self.status = "starting"
        self.detail = ""
        self.reconnects = 0
        self.failures = 0

    def read(self, now: float) -> Frame | None:
        """The newest frame, or None (with status saying why) when there is none."""
        if self.status == "ended":  # played to its end without loop: never reopened
            return None
        if self._source is None and not self._open(now):
            return None
        assert self._source is not None
        try:
            frame = turned(fit_frame(self._source.read()), self._policy.rotate)
        except CameraPendingError as exc:  # after a failure the failure stays the news
            if self.status != "error":
                self._set("connecting", str(exc))
            return None
        except FrameRefusedError as exc:
            self._fail(now, f"frame refused: {exc.problem}")
            return None
        except CameraEndedError as exc:
            self.close()
            self._set("ended", str(exc))
            return None
        except CameraError as exc:
            self._fail(now, str(exc))
            return None
        except OSError as exc:  # a file of an image folder gone or refused mid-read
            self._fail(now, f"{exc.filename or 'the camera'}: {exc.strerror or exc}")
            return None
        if self._frozen(frame, now):
            self._fail(now, f"frozen: the same frame for {self._policy.stall_timeout_s:.0f} s")
            return None
        self._backoff = self._policy.retry_interval_s
        self._set("ok", "")
        return frame

    def _open(self, now: float) -> bool:
        if now < self._next_attempt:
            return False
        try:
            source = self._factory()
            source.open()
        except CameraError as exc:
            self._fail(now, str(exc))
            return False
        except OSError as exc:  # a path the system refuses (a name over 255 bytes, ...)
            self._fail(now, f"cannot open {exc.filename or 'the camera'}: {exc.strerror or exc}")
            return False
        if self.failures:
            self.reconnects += 1
            logger.info("camera reopened after %d failure(s)", self.failures)
        self._source, self._last_digest, self._last_change = source, b"", now
        return True

    def _frozen(self, frame: Frame, now: float) -> bool:
        if not self._detect_frozen:
            return False
        digest = hashlib.blake2b(frame.tobytes(), digest_size=16).digest()
        if digest != self._last_digest:
            self._last_digest, self._last_change = digest, now
            return False
        return now - self._last_change >= self._policy.stall_timeout_s

    def _fail(self, now: float, reason: str) -> None:
        self.failures += 1
        self.close()
        self._next_attempt = now + self._backoff
        wait = self._backoff
        self._backoff = min(self._backoff * 2, self._policy.retry_max_s)
        self._set("error", f"{reason}; retrying in {wait:.0f} s")

    def _set(self, status: str, detail: str) -> None:
        if (status, detail) != (self.status, self.detail):
            log = logger.warning if status == "error" else logger.info
            log("camera %s%s", status, f": {detail}" if detail else "")
        self.status, self.detail = status, detail

    def close(self) -> None:
        if self._source is not None:
            self._source.close()
        self._source = None
