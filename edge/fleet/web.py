"""The fleet's page and API: every device's status, now playing, mood, volume, last seen and
problems (filterable by group), and the alerts. Read-only for now (no commands), so no
per-session token is needed; a password and a session cookie as on the device's page; no
password only on 127.0.0.1; a foreign Host header refused (DNS rebinding); never an image.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
from collections.abc import Callable, Mapping
from importlib.resources import files
from typing import Any, TypeVar

from moodcast.config.clock import local_days
from moodcast.config.errors import MoodcastError
from moodcast.config.fleet import FleetConfig
from moodcast.config.settings import CENTRAL_KEYS
from moodcast.config.text import is_loopback, parse_json, safe_text, spreadsheet_cell
from moodcast.edge.fleet.store import FleetStore
from moodcast.edge.fleet.watch import Seen, problem_texts, should_play, status_of
from moodcast.edge.status.device_state import safe_value
from moodcast.edge.web.auth import check_password
from moodcast.edge.web.login import Check, Login

COOKIE = "moodcast_fleet"
T = TypeVar("T")


def device_row(seen: Seen, groups: Mapping[str, list[str]], last_seen: float,
               now: float) -> dict[str, Any]:  # fmt: skip
    """One device as the page and ``GET /api/devices`` show it."""
    s = seen.state
    playing = s.get("now_playing_text") if s.get("now_playing") else None
    status = status_of(seen.online, s)
    return dict(safe_value({
        "device": seen.device, "online": seen.online, "status": status,
        "should_play": should_play(seen, now), "now_playing": playing,
        "mood": s.get("mood_label") or s.get("mood"), "volume": s.get("volume"),
        "last_seen": last_seen, "problems": problem_texts(s),
        "groups": ["all", *sorted(g for g, ids in groups.items() if seen.device in ids)],
        "vehicle": s.get("vehicle"),
    }))  # fmt: skip


class FleetWeb:
    def __init__(self, config: FleetConfig, store_path: str, broker: Callable[[], str],
                 clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.config, self.settings = config, config.web
        self._store_path, self._broker, self.clock = store_path, broker, clock
        secret = self.settings.password_hash
        if secret is None and not is_loopback(self.settings.host):
            raise MoodcastError(
                f"the fleet page would listen on {self.settings.host} with no password",
                "set web.password_hash, or web.host: 127.0.0.1",
            )
        self.logins = Login(None if secret is None else _owner(secret.get_secret_value()),
                            COOKIE, self.settings.session_minutes, clock)  # fmt: skip
        self._hosts = {"127.0.0.1", "localhost", "::1", "[::1]", self.settings.host}
        self.stopping = False
        self.asgi = self._build()

    def _build(self) -> Any:
        from starlette.applications import Starlette
        from starlette.routing import Route

        return Starlette(routes=[
            Route("/", self.page, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/api/devices", self.api_devices, methods=["GET"]),
            Route("/api/alerts", self.api_alerts, methods=["GET"]),
            Route("/api/plays.csv", self.api_plays_csv, methods=["GET"]),
            Route("/api/commands", self.api_commands, methods=["GET", "POST"]),
            Route("/api/settings", self.api_settings, methods=["POST"]),
            Route("/api/devices/{device}/history", self.api_history, methods=["GET"]),
        ])  # fmt: skip

    def _allowed(self, request: Any) -> bool:
        header = request.headers.get("host", "")
        if header.startswith("["):  # [::1]:8480
            name = header.split("]", 1)[0] + "]"
        else:
            name = header.rsplit(":", 1)[0] if header.count(":") == 1 else header
        return name in self._hosts

    def _logged_in(self, request: Any) -> bool:
        return self.logins.session(request) is not None

    async def page(self, request: Any) -> Any:
        from starlette.responses import HTMLResponse

        if not self._allowed(request):
            return HTMLResponse("unknown host", status_code=421)
        name = "fleet.html" if self._logged_in(request) else "fleet_login.html"
        body = (files("moodcast.edge.fleet") / "static" / name).read_text(encoding="utf-8")
        return HTMLResponse(body, headers=_HEADERS)

    async def login(self, request: Any) -> Any:
        return await self.logins.login(request, "/?wrong=1", lambda text, status: _json(
            {"error": text}, status))  # fmt: skip

    async def logout(self, request: Any) -> Any:
        return self.logins.logout(request, "/")

    def _refusal(self, request: Any, change: str = "") -> Any | None:
        """The answer for a request the API must not serve (foreign host, not logged in; for
        a ``change``, one without the header ``X-Requested-By: moodcast-fleet``, which a
        cross-site form cannot send)."""
        if not self._allowed(request):
            return _json({"error": "unknown host"}, 421)
        if not self._logged_in(request):
            return _json({"error": "log in first"}, 401)
        if change and request.headers.get("x-requested-by") != "moodcast-fleet":
            return _json({"error": f"send {change} from the fleet's page"}, 403)
        return None

    def _no_group(self, group: str) -> Any | None:
        """404 naming the groups there are, for a group the config does not have."""
        groups = self.config.groups
        if group == "all" or group in groups:
            return None
        return _json({"error": f"no group {safe_text(group)[:80]!r}; groups: "
                               f"{', '.join(['all', *sorted(groups)])}"}, 404)  # fmt: skip

    def _members(self, group: str) -> set[str] | None:
        return None if group == "all" else set(self.config.groups[group])

    async def _read(self, read: Callable[[FleetStore], T]) -> T:
        """``read`` on a connection of the request's own, off the event loop."""
        from starlette.concurrency import run_in_threadpool

        def run() -> T:
            store = FleetStore(self._store_path, create=False)
            try:
                return read(store)
            finally:
                store.close()

        return await run_in_threadpool(run)

    async def api_devices(self, request: Any) -> Any:
        group = request.query_params.get("group", "all")
        refused = self._refusal(request) or self._no_group(group)
        if refused is not None:
            return refused
        seen, last = await self._read(lambda store: (store.devices(), store.last_seen()))
        members, now = self._members(group), self.clock()
        rows = [device_row(s, self.config.groups, last[d], now) for d, s in seen.items()
                if members is None or d in members]  # fmt: skip
        return _json({"broker": self._broker(), "devices": rows})

    async def api_history(self, request: Any) -> Any:
        """A device's changes of status and problems, newest first (``?limit=``, ≤ 1,000)."""
        refused = self._refusal(request)
        if refused is not None:
            return refused
        device = request.path_params["device"]
        try:
            limit = min(1000, max(1, int(request.query_params.get("limit", "200"))))
        except ValueError:
            return _json({"error": "limit: a whole number"}, 400)
        rows = await self._read(lambda store: store.history(device, limit))
        if not rows:
            return _json({"error": f"no device {safe_text(device)[:80]!r} has been heard"}, 404)
        return _json({"device": device, "history": safe_value(rows)})

    async def api_alerts(self, request: Any) -> Any:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        alerts = await self._read(lambda store: [a.to_dict() for a in store.alerts()])
        return _json({"alerts": safe_value(alerts)})

    async def api_plays_csv(self, request: Any) -> Any:
        """The play report across devices: ?from=YYYY-MM-DD&to=YYYY-MM-DD (local days,
        both kept; without them the last 31 days) and ?group=."""
        from starlette.responses import Response

        q = request.query_params
        group = q.get("group", "all")
        refused = self._refusal(request) or self._no_group(group)
        if refused is not None:
            return refused
        try:
            start, end = report_span(q.get("from"), q.get("to"), dt.date.today())
        except ValueError as exc:
            return _json({"error": str(exc)}, 400)
        members = self._members(group)
        plays = await self._read(lambda store: store.plays(start, end, members))
        headers = {**_HEADERS, "Content-Disposition": 'attachment; filename="plays.csv"'}
        return Response(plays_csv(plays), media_type="text/csv; charset=utf-8", headers=headers)

    async def api_commands(self, request: Any) -> Any:
        """GET: the newest commands with each device's acknowledgement. POST ``{"group",
        "verb", "payload"}``: one command per device of the group (see :meth:`_send`)."""
        refused = self._refusal(request, "commands" if request.method == "POST" else "")
        if refused is not None:
            return refused
        if request.method == "GET":
            rows = await self._read(lambda store: store.commands())
            return _json({"commands": [safe_value({**r, "status": command_status(r)})
                                       for r in rows]})  # fmt: skip
        from moodcast.edge.web.forms import read_body

        try:
            body = parse_json(await read_body(request))
            group, verb = str(body["group"]), str(body["verb"])
            payload = body.get("payload", "")
        except (ValueError, TypeError, KeyError):
            return _json({"error": 'send JSON: {"group": …, "verb": …, "payload": …}'}, 400)
        if verb not in GROUP_VERBS:
            return _json({"error": f"{safe_text(verb)[:40]!r} cannot be sent to a group; "
                                   f"one of {', '.join(GROUP_VERBS)}"}, 400)  # fmt: skip
        if not isinstance(payload, str) or len(payload) > 2000:
            return _json({"error": "payload: text of at most 2,000 characters"}, 400)
        return await self._send(group, verb, payload)

    async def api_settings(self, request: Any) -> Any:
        """POST ``{"group", "rules": {…}, "announcements": […]}`` (as in a box's config): sent
        to every box of the group like a command; each box checks them as its own config,
        takes them or refuses them with the reason (keeping its last good ones), and
        acknowledges."""
        refused = self._refusal(request, "settings")
        if refused is not None:
            return refused
        from moodcast.edge.web.forms import read_body

        try:
            body = parse_json(await read_body(request, 64 * 1024))  # b'' (refused) if larger
            group = str(body.pop("group"))
        except (ValueError, TypeError, KeyError, AttributeError):
            return _json({"error": 'send JSON of at most 64 KiB: {"group": …, "rules": …,'
                                   ' "announcements": …}'}, 400)  # fmt: skip
        if not body or set(body) - set(CENTRAL_KEYS):
            return _json({"error": "settings hold 'rules' and/or 'announcements', nothing"
                                   " else"}, 400)  # fmt: skip
        return await self._send(group, "settings", json.dumps(body))

    async def _send(self, group: str, verb: str, payload: str) -> Any:
        """One command per device of the group, sent to those online now and to the others
        when they are back."""
        refused = self._no_group(group)
        if refused is not None:
            return refused
        configured = {d for ids in self.config.groups.values() for d in ids}
        members, now = self._members(group), self.clock()

        def add(store: FleetStore) -> list[int]:
            devices = members if members is not None else set(store.devices()) | configured
            return store.add_commands(sorted(devices), group, verb, payload, now)

        ids = await self._read(add)
        if not ids:
            return _json({"error": f"group {group!r} has no devices: nothing was sent"}, 409)
        return _json({"queued": len(ids)}, 202)


GROUP_VERBS = ("volume", "pause", "resume", "skip", "ban", "announce", "mood", "auto")


def command_status(row: Mapping[str, Any]) -> str:
    if row["acked_at"] is not None:
        return "done" if row["ok"] else f"refused: {row['reason']}"
    if row["sent_at"]:
        return "sent, waiting for the device"
    return "waiting for the device to be online"


REPORT_COLUMNS = ("device", "started", "seconds", "kind", "title", "artist", "album", "isrc",
                  "label", "mood")  # fmt: skip


def report_span(start: str | None, end: str | None, today: dt.date) -> tuple[float, float]:
    """[from 00:00, the day after 'to') in local time as Unix times; a ValueError in words
    for a date that is not one (31 February) or a range that runs backwards."""

    def day(text: str) -> dt.date:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{safe_text(text)[:40]!r} is not a date: give YYYY-MM-DD") from None

    last = day(end) if end else today
    first = day(start) if start else last - dt.timedelta(days=30)
    if first > last:
        raise ValueError(f"from {first} is after to {last}: give 'from' before 'to'")
    return local_days(first, last)


def plays_csv(plays: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    for p in plays:
        started = dt.datetime.fromtimestamp(p["started_at"]).astimezone()
        values = {**p, "started": started.isoformat(timespec="seconds")}
        writer.writerow([values["seconds"] if c == "seconds" else spreadsheet_cell(values[c])
                         for c in REPORT_COLUMNS])  # fmt: skip
    return out.getvalue()


_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline';"
    " style-src 'self' 'unsafe-inline'; img-src 'none'",
}


def _json(data: Any, status: int = 200) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse(data, status_code=status, headers=_HEADERS)


def _owner(stored: str) -> Check:
    """The fleet has one role: whoever knows its password."""
    return lambda password: "owner" if check_password(password, stored) else None
