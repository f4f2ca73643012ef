"""Errors a user can act on: each names the problem and what to do about it."""

from __future__ import annotations


class MoodcastError(Exception):
    """A failure caused by outside input (a file, a flag, a config value), with a fix.

    The CLI prints ``str(error)`` on one line and exits with status 2.
    """

    def __init__(self, problem: str, fix: str = "") -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem} — {fix}" if fix else problem)
