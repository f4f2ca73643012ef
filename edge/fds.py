"""The process's file descriptors: a budget kept for playback and the library.

Every open file, socket and decoder takes one. The page's connections are capped below what
is left after a reserve, and a track that fails while the process is out of descriptors is
not the track's fault: it is not flagged (it would be kept out of rotation for good) and the
state says what is short.
"""

from __future__ import annotations

import logging
import os
import resource

logger = logging.getLogger(__name__)

RESERVE = 64  # kept for playback (decks, decoders), the library, the camera, the broker
WANTED = 8192  # the soft limit asked for at start (systemd's default soft limit is 1,024)


def raise_soft_limit(wanted: int = WANTED) -> int:
    """The soft limit raised towards ``wanted`` as far as the hard limit allows; the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            logger.warning("cannot raise the open-file limit from %d (%s)", soft, exc)
    return int(soft)


def page_share(limit: int | None = None, cap: int = 128) -> int:
    """Connections the page may hold: a quarter of what the reserve leaves, at most ``cap``."""
    if limit is None:
        limit = int(resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    return max(4, min(cap, (limit - RESERVE) // 4))


def shortage(reserve: int = RESERVE) -> str:
    """Why a file may not open now ('' when the descriptors are fine): fewer than
    ``reserve`` left under the soft limit."""
    try:
        used = len(os.listdir("/proc/self/fd"))
    except OSError:
        return ""  # not Linux, or /proc not mounted: nothing to say
    limit = int(resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    if limit - used >= reserve:
        return ""
    return (f"the process is out of file descriptors ({used} open, limit {limit}): a track"
            " that fails now is not flagged; playing is tried again")  # fmt: skip
