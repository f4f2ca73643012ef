"""What the fleet keeps: each device's last state and availability, alerts, plays and
commands (SQLite, or PostgreSQL for a chain: edge/fleet/database.py).

Written by the fleet service's own thread and the page's command requests; the page reads on
connections of its own (SQLite's WAL, PostgreSQL's MVCC: readers never wait for writers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moodcast.config.errors import MoodcastError
from moodcast.edge.fleet.database import Database, DatabaseError, where
from moodcast.edge.fleet.watch import Seen, problem_texts, status_of

SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    device TEXT PRIMARY KEY,
    online INTEGER NOT NULL DEFAULT 0,
    since {real} NOT NULL,
    state TEXT NOT NULL DEFAULT '{{}}',
    state_at {real} NOT NULL DEFAULT 0,
    last_seen {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    id {id},
    device TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    raised_at {real} NOT NULL,
    cleared_at {real},
    delivered INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS alerts_open ON alerts(device, kind, cleared_at);
CREATE TABLE IF NOT EXISTS plays (
    device TEXT NOT NULL,
    play_id BIGINT NOT NULL,
    started_at {real} NOT NULL,
    seconds {real},
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    artist TEXT NOT NULL,
    album TEXT NOT NULL,
    isrc TEXT NOT NULL,
    label TEXT NOT NULL,
    mood TEXT NOT NULL,
    received_at {real} NOT NULL,
    PRIMARY KEY (device, play_id)
);
CREATE INDEX IF NOT EXISTS plays_started ON plays(started_at);
CREATE TABLE IF NOT EXISTS commands (
    id {id},
    device TEXT NOT NULL,
    grp TEXT NOT NULL,
    verb TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at {real} NOT NULL,
    sent_at {real},
    acked_at {real},
    ok INTEGER,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS commands_pending ON commands(device, acked_at);
CREATE TABLE IF NOT EXISTS history (
    device TEXT NOT NULL,
    at {real} NOT NULL,
    status TEXT NOT NULL,
    problems TEXT NOT NULL,
    playing TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_device ON history(device, at)
"""

PLAY_COLUMNS = ("started_at", "seconds", "kind", "title", "artist", "album", "isrc", "label",
                "mood")  # fmt: skip


@dataclass(frozen=True)
class Alert:
    id: int
    device: str
    kind: str
    text: str
    raised_at: float
    cleared_at: float | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class FleetStore:
    """What the fleet keeps, in SQLite or PostgreSQL (``path``: a file or a postgresql://
    URL). ``create``: make the tables (the service does, once; the page's readers do not)."""

    def __init__(self, path: Path | str, create: bool = True) -> None:
        self.path = str(path)
        self._db = Database(self.path)
        if create:
            try:
                self._db.script(SCHEMA)
            except DatabaseError as exc:
                self._db.close()
                raise MoodcastError(f"fleet database {where(self.path)} cannot be set up"
                                    f" ({exc})", "check that it is a fleet database and"
                                    " writable") from exc  # fmt: skip

    def close(self) -> None:
        self._db.close()

    def seen_state(self, device: str, state: dict[str, Any], now: float) -> None:
        with self._db.transaction():
            self._db.write(
                "INSERT INTO devices (device, online, since, state, state_at, last_seen)"
                " VALUES (?, 1, ?, ?, ?, ?) ON CONFLICT(device) DO UPDATE SET"
                " state = excluded.state, state_at = excluded.state_at,"
                " last_seen = excluded.last_seen",
                (device, now, json.dumps(state), now, now),
            )
            self._note(device, now)

    def seen_availability(self, device: str, online: bool, now: float) -> None:
        with self._db.transaction():
            self._db.write(
                "INSERT INTO devices (device, online, since, last_seen) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(device) DO UPDATE SET since = CASE WHEN devices.online !="
                " excluded.online THEN excluded.since ELSE devices.since END,"
                " online = excluded.online, last_seen = excluded.last_seen",
                (device, int(online), now, now),
            )
            self._note(device, now)

    def _note(self, device: str, now: float) -> None:
        """A history line when the device's status or problems changed (inside the write)."""
        row = self._db.write("SELECT online, state FROM devices WHERE device = ?", (device,))[0]
        state = json.loads(row["state"])
        status, problems = status_of(bool(row["online"]), state), "; ".join(problem_texts(state))
        last = self._db.write("SELECT status, problems FROM history WHERE device = ?"
                              " ORDER BY at DESC LIMIT 1", (device,))  # fmt: skip
        if last and (last[0]["status"], last[0]["problems"]) == (status, problems):
            return
        playing = str(state.get("now_playing_text") or "") if status == "playing" else ""
        self._db.write(
            "INSERT INTO history (device, at, status, problems, playing) VALUES (?, ?, ?, ?, ?)",
            (device, now, status, problems, playing[:300]),
        )

    def history(self, device: str, limit: int = 200) -> list[dict[str, Any]]:
        """The device's changes, newest first."""
        rows = self._db.query("SELECT at, status, problems, playing FROM history WHERE"
                              " device = ? ORDER BY at DESC LIMIT ?", (device, limit))  # fmt: skip
        return [dict(r) for r in rows]

    def devices(self) -> dict[str, Seen]:
        rows = self._db.query("SELECT * FROM devices ORDER BY device")
        return {r["device"]: Seen(r["device"], bool(r["online"]), r["since"],
                                  json.loads(r["state"]), r["state_at"]) for r in rows}  # fmt: skip

    def last_seen(self) -> dict[str, float]:
        rows = self._db.query("SELECT device, last_seen FROM devices")
        return {r["device"]: r["last_seen"] for r in rows}

    def raise_alert(self, device: str, kind: str, text: str, now: float) -> int:
        with self._db.transaction():
            rows = self._db.write("INSERT INTO alerts (device, kind, text, raised_at)"
                                  " VALUES (?, ?, ?, ?) RETURNING id",
                                  (device, kind, text, now))  # fmt: skip
        return int(rows[0]["id"])

    def clear_alert(self, device: str, kind: str, now: float) -> None:
        with self._db.transaction():
            self._db.write("UPDATE alerts SET cleared_at = ? WHERE device = ? AND kind = ?"
                           " AND cleared_at IS NULL", (now, device, kind))  # fmt: skip

    def delivered(self, alert_id: int) -> None:
        with self._db.transaction():
            self._db.write("UPDATE alerts SET delivered = 1 WHERE id = ?", (alert_id,))

    def alerts(self, open_only: bool = False, limit: int = 200) -> list[Alert]:
        where_open = " WHERE cleared_at IS NULL" if open_only else ""
        rows = self._db.query(f"SELECT * FROM alerts{where_open} ORDER BY raised_at DESC,"
                              " id DESC LIMIT ?", (limit,))  # fmt: skip
        return [Alert(r["id"], r["device"], r["kind"], r["text"], r["raised_at"],
                      r["cleared_at"]) for r in rows]  # fmt: skip

    def add_plays(self, device: str, plays: list[dict[str, Any]], now: float) -> int:
        """Plays a device sent (checked by the caller), each kept once however often it
        comes; the highest play id now held for the device."""
        with self._db.transaction():
            self._db.write_many(
                f"INSERT INTO plays (device, play_id, {', '.join(PLAY_COLUMNS)}, received_at)"
                f" VALUES (?, ?, {', '.join('?' * len(PLAY_COLUMNS))}, ?)"
                " ON CONFLICT (device, play_id) DO NOTHING",
                [(device, p["id"], *(p[c] for c in PLAY_COLUMNS), now) for p in plays],
            )
        return self.last_play(device)

    def last_play(self, device: str) -> int:
        rows = self._db.query("SELECT max(play_id) AS last FROM plays WHERE device = ?", (device,))
        return int(rows[0]["last"] or 0)

    def plays(self, start: float, end: float, devices: set[str] | None) -> list[dict[str, Any]]:
        """Plays started in [start, end) of every device (or of ``devices``), oldest first."""
        rows = self._db.query("SELECT * FROM plays WHERE started_at >= ? AND started_at < ?"
                              " ORDER BY started_at, device, play_id", (start, end))  # fmt: skip
        return [dict(r) for r in rows if devices is None or r["device"] in devices]

    def add_commands(self, devices: list[str], group: str, verb: str, payload: str,
                     now: float) -> list[int]:  # fmt: skip
        """One command for each device of a group, kept until each acknowledges it."""
        with self._db.transaction():
            return [int(self._db.write(
                "INSERT INTO commands (device, grp, verb, payload, created_at)"
                " VALUES (?, ?, ?, ?, ?) RETURNING id", (d, group, verb, payload, now),
            )[0]["id"]) for d in devices]  # fmt: skip

    def due_commands(self, devices: set[str], resend_before: float) -> list[dict[str, Any]]:
        """Unacknowledged commands of ``devices`` never sent, or sent before the time given."""
        rows = self._db.query("SELECT * FROM commands WHERE acked_at IS NULL AND (sent_at IS"
                              " NULL OR sent_at < ?) ORDER BY id", (resend_before,))  # fmt: skip
        return [dict(r) for r in rows if r["device"] in devices]

    def sent_command(self, command_id: int, now: float) -> None:
        with self._db.transaction():
            self._db.write("UPDATE commands SET sent_at = ? WHERE id = ?", (now, command_id))

    def acked_command(self, device: str, command_id: int, ok: bool, reason: str,
                      now: float) -> None:  # fmt: skip
        with self._db.transaction():
            self._db.write("UPDATE commands SET acked_at = ?, ok = ?, reason = ? WHERE id = ?"
                           " AND device = ? AND acked_at IS NULL",
                           (now, int(ok), reason, command_id, device))  # fmt: skip

    def commands(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = self._db.query("SELECT * FROM commands ORDER BY id DESC LIMIT ?", (limit,))
        return [dict(r) for r in rows]

    def open_alert_keys(self) -> dict[tuple[str, str], str]:
        rows = self._db.query("SELECT device, kind, text FROM alerts WHERE cleared_at IS NULL")
        return {(r["device"], r["kind"]): r["text"] for r in rows}
