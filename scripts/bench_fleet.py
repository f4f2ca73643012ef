"""The fleet service at scale: 250, 500 and 1,000 devices sending the real state schema every
10 s over a real Mosquitto, beside two real daemons; the service's CPU and memory, the time
from a device going silent to its alert, and the page's answer time with every device.

    scripts/demo.sh            # once: the demo library the two real daemons play
    .venv/bin/python scripts/bench_fleet.py [--sizes 250 500 1000] [--seconds 60]

The simulated devices send a copy of a real daemon's retained state (its schema, its size).
Figures in docs/fleet.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
MOODCAST = str(ROOT / ".venv/bin/moodcast")
AFTER_S = 10.0  # alerts.after_s for the run
# The plain way, for comparison: a subscriber that only parses each state and keeps the last
# one per device in a dict (no database, no alerts, no page).
PLAIN = """
import json, sys, paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
last = {}
c = mqtt.Client(CallbackAPIVersion.VERSION2)
def keep(_c, _u, m):
    last[m.topic] = json.loads(m.payload) if m.topic.endswith("/state") else m.payload
c.on_message = keep
topics = [("moodcast/+/state", 1), ("moodcast/+/availability", 1)]
c.on_connect = lambda cl, *_: cl.subscribe(topics)
c.connect("127.0.0.1", int(sys.argv[1]))
c.loop_forever()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise SystemExit(f"bench_fleet: no {what} within {timeout:.0f} s")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> tuple[float, float]:
    values = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text()
                  .splitlines() if ":" in line)  # fmt: skip
    return int(values["VmRSS"].split()[0]) / 1024, int(values["VmHWM"].split()[0]) / 1024


def real_daemons(tmp: Path, port: int) -> list[subprocess.Popen[bytes]]:
    library = ROOT / ".cache/demo/library.db"
    if not library.is_file():
        raise SystemExit("no demo library: run scripts/demo.sh first")
    procs = []
    for name in ("real1", "real2"):
        home = tmp / name
        home.mkdir()
        shutil.copyfile(library, home / "library.db")
        (home / "config.json").write_text(json.dumps({
            "library": {"path": str(home / "library.db")},
            "camera": {"source": str(ROOT / ".cache/media/photos")},
            "mqtt": {"port": port, "device_id": name}, "web": {"enabled": False},
            "player": {"audio_output": "dummy"}, "state_file": str(home / "state.json"),
        }))  # fmt: skip
        procs.append(subprocess.Popen([MOODCAST, "run", "--config", str(home / "config.json")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      env={**os.environ, "HOME": str(home)}))  # fmt: skip
    return procs


def template_state(port: int) -> dict[str, Any]:
    got: dict[str, Any] = {}
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.on_message = lambda _c, _u, m: got.update(state=json.loads(m.payload))
    client.connect("127.0.0.1", port)
    client.subscribe("moodcast/real1/state")
    client.loop_start()
    wait_for(lambda: "state" in got and got["state"].get("now_playing"), 60, "real state")
    client.loop_stop()
    client.disconnect()
    state = dict(got["state"])
    state["open"] = True
    state.setdefault("schedule", {})["next_change"] = time.time() + 86400
    return state


def run_size(n: int, seconds: float, port: int, state: dict[str, Any], tmp: Path,
             chromium: bool) -> dict[str, Any]:  # fmt: skip
    web_port = free_port()
    config = tmp / f"fleet-{n}.json"
    config.write_text(json.dumps({"broker": {"port": port}, "database": str(tmp / f"f{n}.db"),
                                  "web": {"port": web_port},
                                  "alerts": {"after_s": AFTER_S}}))  # fmt: skip
    fleet = subprocess.Popen(
        [MOODCAST, "fleet", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    plain = subprocess.Popen(
        [str(ROOT / ".venv/bin/python"), "-c", PLAIN, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sim = mqtt.Client(CallbackAPIVersion.VERSION2)
    sim.max_queued_messages_set(0)
    sim.connect("127.0.0.1", port)
    sim.loop_start()
    names = [f"sim{i:04d}" for i in range(n)]
    bodies = {d: json.dumps({**state, "device": d}) for d in names}
    for d in names:
        sim.publish(f"moodcast/{d}/availability", "online", qos=1, retain=True)
    import httpx

    base = f"http://127.0.0.1:{web_port}"
    client = httpx.Client(base_url=base, timeout=30)
    wait_for(lambda: _count(client) >= n, 120, f"{n} devices at the fleet")
    started, cpu0, plain0 = time.monotonic(), cpu_s(fleet.pid), cpu_s(plain.pid)
    silent, silent_at, alert_s = names[7], None, None
    while time.monotonic() - started < seconds or alert_s is None:
        tick = time.monotonic()
        slot = int((tick - started) * 10) % 100  # 10 s in 100 slots: n/100 devices a slot
        for d in names[slot::100]:
            if d != silent or silent_at is None:
                sim.publish(f"moodcast/{d}/state", bodies[d], qos=0, retain=True)
        if silent_at is None and tick - started > seconds / 3:
            sim.publish(f"moodcast/{silent}/availability", "offline", qos=1, retain=True)
            silent_at = time.monotonic()
        if silent_at is not None and alert_s is None and _alerted(client, silent):
            alert_s = time.monotonic() - silent_at
        time.sleep(max(0.0, 0.1 - (time.monotonic() - tick)))
    elapsed, used = time.monotonic() - started, cpu_s(fleet.pid) - cpu0
    plain_used, plain_rss = cpu_s(plain.pid) - plain0, memory_mb(plain.pid)[0]
    plain.terminate()
    rss, peak = memory_mb(fleet.pid)
    answers = []
    for _ in range(5):
        t = time.perf_counter()
        assert client.get("/api/devices").status_code == 200
        answers.append(time.perf_counter() - t)
    page_s = chromium_load(base, n) if chromium else None
    client.close()
    fleet.terminate()
    fleet.wait(timeout=20)
    sim.loop_stop()
    sim.disconnect()
    return {"devices": n, "cpu_percent": 100 * used / elapsed, "rss_mb": rss, "peak_mb": peak,
            "alert_after_silence_s": alert_s, "api_devices_s": statistics.median(answers),
            "page_s": page_s, "plain_percent": 100 * plain_used / elapsed,
            "plain_rss_mb": plain_rss,
            "cpu_ms_per_device_minute": 1000 * used / elapsed * 60 / n}  # fmt: skip


def _count(client: Any) -> int:
    try:
        return len(client.get("/api/devices").json()["devices"])
    except Exception:  # the service may not listen yet
        return 0


def _alerted(client: Any, device: str) -> bool:
    alerts = client.get("/api/alerts").json()["alerts"]
    return any(a["device"] == device and a["kind"] == "offline" for a in alerts)


def chromium_load(base: str, n: int) -> float | None:
    """Seconds from navigation to every device row on the page, in Debian's Chromium."""
    browser_path = shutil.which("chromium")
    if browser_path is None:
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path)
        page = browser.new_page()
        t = time.perf_counter()
        page.goto(base + "/")
        page.wait_for_function(f"document.querySelectorAll('#devices tr').length >= {n}",
                               timeout=60_000)  # fmt: skip
        took = time.perf_counter() - t
        browser.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--no-chromium", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="moodcast-bench-fleet-"))
    port = free_port()
    (tmp / "mosquitto.conf").write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\n"
        "persistence false\nmax_queued_messages 100000\n"
    )
    broker = subprocess.Popen(
        ["mosquitto", "-c", str(tmp / "mosquitto.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    daemons = []
    try:
        time.sleep(0.5)
        daemons = real_daemons(tmp, port)
        state = template_state(port)
        print(f"state template: {len(json.dumps(state))} bytes, schema {state.get('schema')}")
        print("| devices (+2 real) | fleet CPU % of one core | CPU ms per device-minute |"
              " RSS MB (peak) | plain subscriber: CPU %, RSS MB | silence → alert (after_s 10)"
              " | GET /api/devices | page in Chromium |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|")
        for n in args.sizes:
            r = run_size(n, args.seconds, port, state, tmp, not args.no_chromium)
            page = f"{r['page_s']:.2f} s" if r["page_s"] is not None else "–"
            print(f"| {n} | {r['cpu_percent']:.1f} | {r['cpu_ms_per_device_minute']:.2f} |"
                  f" {r['rss_mb']:.0f} ({r['peak_mb']:.0f}) |"
                  f" {r['plain_percent']:.1f}, {r['plain_rss_mb']:.0f} |"
                  f" {r['alert_after_silence_s']:.1f} s"
                  f" | {1000 * r['api_devices_s']:.0f} ms | {page} |", flush=True)  # fmt: skip
    finally:
        for d in daemons:
            d.terminate()
            d.wait(timeout=20)
        broker.terminate()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
