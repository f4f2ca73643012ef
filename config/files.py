"""Reading a file that must be a regular file of bounded size, never hanging on what is not.

A FIFO opened for reading blocks until a writer comes (the daemon froze at start, deaf to
SIGTERM); ``/dev/zero`` never ends (a MemoryError); a 50 MB "config" takes a minute to parse.
Opening without blocking and checking the opened file itself (not its name, which may be
swapped in between) refuses each with the reason.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from moodcast.config.text import with_article


def is_there(path: Path | str, folder: bool = False) -> bool:
    """Whether ``path`` is a file (or, with ``folder``, a folder); False, not OSError, for a
    name the system refuses (over 255 bytes: ``Path.is_file`` raises for that)."""
    try:
        return Path(path).is_dir() if folder else Path(path).is_file()
    except OSError:
        return False


class NotARegularFileError(OSError):
    """The path is a FIFO, a device, a socket or a folder, or is too big: the message says."""


def read_regular(path: Path | str, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; OSError (with strerror) else."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFileError(0, f"not a regular file ({_kind(info.st_mode)}): give"
                                          f" the path of {with_article(what)} file")  # fmt: skip
        if info.st_size > limit:
            raise NotARegularFileError(0, f"{info.st_size >> 10} KiB, over the {limit >> 10} KiB"
                                          f" {with_article(what)} may have")  # fmt: skip
        os.set_blocking(fd, True)
        chunks, total = [], 0
        while chunk := os.read(fd, 1 << 16):
            total += len(chunk)
            if total > limit:  # grew while being read
                raise NotARegularFileError(0, f"over the {limit >> 10} KiB"
                                              f" {with_article(what)} may have")  # fmt: skip
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a folder")):  # fmt: skip
        if test(mode):
            return name
    return "not a plain file"
