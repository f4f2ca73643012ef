"""Shared helpers of the benchmark and soak scripts."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: benchmark children measure their own memory
    import subprocess

TICKS = os.sysconf("SC_CLK_TCK")


def proc_status(pid: int | str = "self") -> dict[str, str]:
    """A process's /proc status fields (VmRSS, VmHWM, RssAnon, Threads, ...)."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines)


def status_mb(status: dict[str, str], key: str) -> float:
    """A memory field of :func:`proc_status` ("VmRSS", "VmHWM", "RssAnon") in MB."""
    return int(status[key].split()[0]) / 1024


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_broker(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A Mosquitto broker on a free loopback port, for the duration of a benchmark."""
    import subprocess

    port = free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    return proc, port


def emit(lines: list[str], out: Path | None) -> None:
    """Print a report and, when asked, write it as Markdown."""
    text = "\n".join(lines) + "\n"
    print(text)
    if out is not None:
        out.write_text(text, encoding="utf-8")


def table(header: str, rows: list[tuple[str, str]]) -> list[str]:
    return [header, "", "| measure | result |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
