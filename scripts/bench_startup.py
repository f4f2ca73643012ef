"""Seconds from `moodcast run` starting to the first track playing, as when a car's ignition
powers the box up: the demo library (scripts/demo.sh makes it), the demo photographs as the
camera, no broker, no page, a power line that says the power is fine.

    .venv/bin/python scripts/bench_startup.py

Figures in docs/car.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    library = ROOT / ".cache/demo/library.db"
    if not library.is_file():
        sys.exit("no demo library: run scripts/demo.sh first")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / "line").write_text("1")
        config = home / "car.json"
        config.write_text(json.dumps({
            "library": {"path": str(library)},
            "camera": {"source": str(ROOT / ".cache/media/photos")},
            "mqtt": {"enabled": False}, "web": {"enabled": False},
            "player": {"audio_output": "dummy"}, "state_file": str(home / "state.json"),
            "vehicle": {"power_line": str(home / "line")},
        }))  # fmt: skip
        for run in range(3):
            started = time.monotonic()
            proc = subprocess.Popen([str(ROOT / ".venv/bin/moodcast"), "run", "--config",
                                     str(config)], stderr=subprocess.PIPE, text=True,
                                    env={**os.environ, "HOME": str(home)})  # fmt: skip
            assert proc.stderr is not None
            for line in proc.stderr:
                if "playing " in line:
                    print(f"run {run + 1}: first track playing after"
                          f" {time.monotonic() - started:.2f} s")  # fmt: skip
                    break
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
