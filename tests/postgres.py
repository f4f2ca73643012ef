"""A real PostgreSQL server for the tests: Debian's binaries, a cluster of its own in a
temporary folder, listening on 127.0.0.1 at a free port, stopped at the end."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import free_port


def binaries() -> Path | None:
    """Debian's PostgreSQL programs (the newest installed version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class PostgresServer:
    def __init__(self, workdir: Path) -> None:
        found = binaries()
        assert found is not None
        self.bin: Path = found
        self.data, self.port = workdir / "data", free_port()
        self.workdir = workdir
        self._count = 0

    def _as_owner(self, *argv: str) -> list[str]:
        """PostgreSQL refuses to run as root: as root, run it as Debian's postgres user."""
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *argv]
        return list(argv)

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workdir.parent.chmod(0o755)  # its user must reach the folder
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres")
        subprocess.run(self._as_owner(str(self.bin / "initdb"), "-D", str(self.data), "-U",
                                      "postgres", "--auth=trust", "-E", "UTF8"),
                       check=True, capture_output=True, timeout=120)  # fmt: skip
        self.start_again()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh database on the server (one per test), as a URL."""
        import psycopg

        self._count += 1
        name = f"fleet{self._count}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def start_again(self) -> None:
        options = f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(self._as_owner(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o",
                                      options, "-w", "-t", "60", "-l",
                                      str(self.workdir / "log"), "start"),
                       check=True, capture_output=True, timeout=120)  # fmt: skip

    def running(self) -> bool:
        status = self._as_owner(str(self.bin / "pg_ctl"), "-D", str(self.data), "status")
        done = subprocess.run(status, capture_output=True, timeout=30, check=False)
        return done.returncode == 0

    def stop(self) -> None:
        subprocess.run(self._as_owner(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m",
                                      "fast", "-w", "stop"), capture_output=True,
                       timeout=60, check=False)  # fmt: skip
