"""The descriptor budget on the real process limits (in a child process: the limit is the
process's own)."""

from __future__ import annotations

import resource
import subprocess
import sys

from moodcast.edge import fds

CHILD = """
import os, resource, sys
from moodcast.edge import fds
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]), hard))
if sys.argv[2] == "raise":
    print(fds.raise_soft_limit(2048))
else:
    held = []
    while not fds.shortage():
        held.append(os.open(os.devnull, os.O_RDONLY))
    print(len(held), fds.shortage())
"""


def run(limit: int, what: str) -> str:
    done = subprocess.run([sys.executable, "-c", CHILD, str(limit), what], capture_output=True,
                          text=True, check=True, timeout=60)  # fmt: skip
    return done.stdout.strip()


def test_the_soft_limit_is_raised_at_start_as_far_as_the_hard_limit_allows() -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    expected = 2048 if hard == resource.RLIM_INFINITY else min(2048, hard)
    assert run(256, "raise") == str(expected)


def test_a_shortage_is_said_before_the_last_descriptors_go() -> None:
    held, said = run(256, "fill").split(" ", 1)
    assert int(held) > 100  # the child opened files until fewer than the reserve were left
    assert "out of file descriptors" in said and "limit 256" in said


def test_the_page_gets_a_share_sized_from_the_limit() -> None:
    assert fds.page_share(1024) == 128  # capped
    assert fds.page_share(256) == (256 - fds.RESERVE) // 4
    assert fds.page_share(80) == 4  # never none at all
