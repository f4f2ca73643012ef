"""A real RabbitMQ with its MQTT plugin on 127.0.0.1, for the broker-portability tests.

Started from Debian's rabbitmq-server in the foreground with a node, data and config of its
own under a temporary folder, so it never touches a system broker.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RabbitBroker:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> None:
        w = self.workdir
        w.mkdir(parents=True, exist_ok=True)
        (w / "enabled_plugins").write_text("[rabbitmq_mqtt].\n")
        (w / "rabbitmq.conf").write_text(
            "listeners.tcp = none\n"
            f"mqtt.listeners.tcp.1 = 127.0.0.1:{self.port}\n"
            "mqtt.allow_anonymous = true\nmqtt.default_user = guest\nmqtt.default_pass = guest\n"
            "loopback_users = none\n"
        )
        env = {**os.environ, "HOME": str(w), "RABBITMQ_NODENAME": f"moodcast{self.port}@localhost",
               "RABBITMQ_MNESIA_BASE": str(w / "mnesia"), "RABBITMQ_LOG_BASE": str(w / "log"),
               "RABBITMQ_ENABLED_PLUGINS_FILE": str(w / "enabled_plugins"),
               "RABBITMQ_CONFIG_FILE": str(w / "rabbitmq"),
               "RABBITMQ_DIST_PORT": str(_free_port()),
               "RABBITMQ_PID_FILE": str(w / "pid")}  # fmt: skip
        log = (w / "server.log").open("wb")
        self.proc = subprocess.Popen([str(SERVER)], env=env, stdout=log, stderr=log,
                                     start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rabbitmq-server exited: {(w / 'server.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise RuntimeError("rabbitmq-server did not open its MQTT port")

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
            self.proc = None
