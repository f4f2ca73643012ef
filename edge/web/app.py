"""The dashboard page: Starlette on uvicorn, on a thread of its own inside the daemon.

The page reads the :class:`StateBoard` (copies, under its lock) and sends commands through
the same :class:`CommandGate` as MQTT; an accepted command is put on the daemon's queue and
nothing else happens on the web server's threads. Safe by default: 127.0.0.1 unless
configured; elsewhere a password; every change needs the session's token in a header, which
a cross-site page cannot send; no camera image is ever kept, so none can be served.
"""

from __future__ import annotations

import asyncio
import functools
import html
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any, Protocol

from moodcast.config.errors import MoodcastError
from moodcast.config.settings import WebSettings
from moodcast.config.text import is_loopback, whole_number
from moodcast.edge.commands.command_gate import CommandGate
from moodcast.edge.commands.remote_commands import CommandError
from moodcast.edge.events import EventQueue
from moodcast.edge.status.device_state import safe_value
from moodcast.edge.web.auth import RequestBudget, Session, check_password, check_token
from moodcast.edge.web.board import StateBoard
from moodcast.edge.web.forms import MAX_BODY, form_value, read_body, same_origin
from moodcast.edge.web.login import Check, Login

logger = logging.getLogger(__name__)

MAX_STREAMS = 8  # live pages at once
MAX_STREAMS_PER_CLIENT = 3  # one client cannot lock every other browser out
COOKIE = "moodcast_session"
STATIC = {"app.js": "text/javascript", "style.css": "text/css", "library.js": "text/javascript"}
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # no-referrer makes browsers send "Origin: null"
    "Cache-Control": "no-store",
}

LibraryMap = Callable[[], list[dict[str, Any]]]
RecentPlays = Callable[[int], list[dict[str, Any]]]


@functools.lru_cache(maxsize=16)
def _asset(name: str) -> str:
    """A file of the page, read from the package once."""
    return (files("moodcast.edge.web") / "static" / name).read_text(encoding="utf-8")


STAFF_VERBS = frozenset({"skip", "ban", "pause", "resume", "volume"})


class WebApp:
    """The routes, the login rules and the budgets; :meth:`asgi` is the ASGI application."""

    def __init__(self, settings: WebSettings, board: StateBoard, gate: CommandGate,
                 events: EventQueue, library_map: LibraryMap, moods: Sequence[str],
                 clock: Callable[[], float] = time.monotonic,
                 announcements: Sequence[str] = (),
                 plays: RecentPlays | None = None, max_volume: int = 100) -> None:  # fmt: skip
        self.settings, self.board, self.gate, self.events = settings, board, gate, events
        self.moods, self.announcements = list(moods), list(announcements)
        self.library_map, self.clock = library_map, clock
        self.plays, self.max_volume = plays, max_volume
        self.requests = RequestBudget(burst=60, per_second=20)
        self.logins = Login(_password_check(settings), COOKIE, settings.session_minutes, clock)
        self._hosts = _own_names(settings)
        self.streams = 0
        self._client_streams: dict[str, int] = {}
        self.stopping = False
        self._library_cache: tuple[float, list[dict[str, Any]]] = (-1e9, [])
        self.asgi = self._build()

    def _build(self) -> Any:
        from starlette.applications import Starlette
        from starlette.middleware import Middleware
        from starlette.routing import Route

        routes = [
            Route("/", self.page, methods=["GET"]),
            Route("/library", self.page, methods=["GET"]),
            Route("/login", self.login_page, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/static/{name}", self.static, methods=["GET"]),
            Route("/api/state", self.api_state, methods=["GET"]),
            Route("/api/events", self.api_events, methods=["GET"]),
            Route("/api/library", self.api_library, methods=["GET"]),
            Route("/api/plays", self.api_plays, methods=["GET"]),
            Route("/api/cmd/{verb}", self.api_command, methods=["POST"]),
        ]
        return Starlette(
            routes=routes,
            middleware=[Middleware(_Guard, app_state=self)],
            exception_handlers={404: _not_found, 405: _not_allowed},
        )

    def host_allowed(self, host_header: str) -> bool:
        """Against DNS rebinding: a page of another site whose name now points here sends its
        own name as Host. Loopback, the listening address and the configured names pass; the
        password-less page answers loopback names only."""
        name = _host_name(host_header)
        if is_loopback(name):
            return True
        if self.logins.open_session is not None:
            return False
        everywhere = self.settings.host in {"0.0.0.0", "::"}
        return name in self._hosts or (everywhere and _is_address(name))

    def view(self) -> dict[str, Any]:
        return {**self.board.view(), "mood_names": self.moods,
                "announcement_names": self.announcements}  # fmt: skip

    # -- who is asking ---------------------------------------------------------------------

    def session(self, request: Any) -> Session | None:
        return self.logins.session(request)

    def _changing_allowed(self, request: Any) -> Session | None:
        """The session, when this change comes from the page itself (token and origin)."""
        session = self.session(request)
        if session is None or request.headers.get("x-csrf-token") != session.csrf:
            return None
        return session if same_origin(request) else None

    # -- pages -----------------------------------------------------------------------------

    async def page(self, request: Any) -> Any:
        from starlette.responses import HTMLResponse, RedirectResponse

        session = self.session(request)
        if session is None:
            return RedirectResponse("/login", status_code=303)
        name = "library.html" if request.url.path == "/library" else "index.html"
        body = _asset(name).replace("{{csrf}}", html.escape(session.csrf))
        body = body.replace("{{role}}", session.role)
        body = body.replace("{{logout}}", "" if self.logins.open_session else "1")
        body = body.replace("{{max_volume}}", str(int(self.max_volume)))
        return HTMLResponse(body, headers=_HEADERS)

    async def login_page(self, request: Any) -> Any:
        from starlette.responses import HTMLResponse, RedirectResponse

        if self.logins.open_session is not None:
            return RedirectResponse("/", status_code=303)
        failed = request.query_params.get("failed") == "1"
        body = _asset("login.html").replace("{{message}}", "Wrong password." if failed else "")
        return HTMLResponse(body, headers=_HEADERS)

    async def login(self, request: Any) -> Any:
        return await self.logins.login(request, "/login?failed=1", _refused)

    async def logout(self, request: Any) -> Any:
        return self.logins.logout(request, "/login")

    async def static(self, request: Any) -> Any:
        from starlette.responses import Response

        name = request.path_params["name"]
        if name not in STATIC:
            return await _not_found(request, None)
        return Response(_asset(name), media_type=STATIC[name], headers=_HEADERS)

    # -- the API ---------------------------------------------------------------------------

    async def api_state(self, request: Any) -> Any:
        if self.session(request) is None:
            return _error("log in first", 401)
        return _json(self.view())

    async def api_library(self, request: Any) -> Any:
        if self.session(request) is None:
            return _error("log in first", 401)
        from starlette.concurrency import run_in_threadpool

        at, cached = self._library_cache
        if self.clock() - at > 30:
            try:
                cached = await run_in_threadpool(self.library_map)
            except MoodcastError as exc:
                return _error(str(exc), 503)
            self._library_cache = (self.clock(), cached)
        return _json({"tracks": cached})

    async def api_plays(self, request: Any) -> Any:
        """The newest plays of the play log (``?limit=N``, 1 to 500, default 20)."""
        if self.session(request) is None:
            return _error("log in first", 401)
        raw = request.query_params.get("limit", "20")
        limit = whole_number(raw)
        if limit is None or not 1 <= limit <= 500:
            return _error("limit must be a whole number from 1 to 500", 400)
        if self.plays is None:
            return _json({"plays": []})
        from starlette.concurrency import run_in_threadpool

        try:
            return _json({"plays": await run_in_threadpool(self.plays, int(raw))})
        except MoodcastError as exc:
            return _error(str(exc), 503)

    async def api_command(self, request: Any) -> Any:
        from moodcast.edge.commands.command_gate import CommandAccepted

        session = self._changing_allowed(request)
        if session is None:
            return _error("refused: log in, and send changes from the page itself", 403)
        verb = request.path_params["verb"]
        if session.role == "staff" and verb not in STAFF_VERBS:
            return _error(f"staff may skip, ban, pause and set the volume: log in as the owner"
                          f" to {verb.replace('_', ' ')[:40]}", 403)  # fmt: skip
        body = await read_body(request)
        value = form_value(body, "value")
        payload = (value if value is not None else "").encode()
        try:
            command = self.gate.parse(verb, payload)
        except CommandError as exc:
            return _error(str(exc), 400)
        self.events.put(CommandAccepted(command))
        return _json({"accepted": verb}, 202)

    async def api_events(self, request: Any) -> Any:
        from starlette.responses import StreamingResponse

        if self.session(request) is None:
            return _error("log in first", 401)
        if self.streams >= MAX_STREAMS:
            return _error(f"too many open pages (at most {MAX_STREAMS})", 503)
        client = request.client.host if request.client else "?"
        if self._client_streams.get(client, 0) >= MAX_STREAMS_PER_CLIENT:
            return _error(f"too many open pages from {client} (at most"
                          f" {MAX_STREAMS_PER_CLIENT}): close one", 429)  # fmt: skip
        return StreamingResponse(self._stream(request, client), media_type="text/event-stream",
                                 headers={**_HEADERS, "X-Accel-Buffering": "no"})  # fmt: skip

    async def _stream(self, request: Any, client: str) -> AsyncIterator[str]:
        """Server-sent events: the whole view when it changed (checked twice a second),
        a comment every 15 s so that proxies and phones keep the stream open; the stream
        ends with its session (logged out or expired)."""
        self.streams += 1
        self._client_streams[client] = self._client_streams.get(client, 0) + 1
        try:
            sent, quiet = -1, 0.0
            while not self.stopping and self.session(request) is not None:
                version = self.board.version
                if version != sent:
                    sent, quiet = version, 0.0
                    yield f"event: view\ndata: {json.dumps(safe_value(self.view()))}\n\n"
                elif quiet >= 15.0:
                    quiet = 0.0
                    yield ": still here\n\n"
                await asyncio.sleep(0.5)
                quiet += 0.5
        finally:
            self.streams -= 1
            left = self._client_streams.pop(client, 1) - 1
            if left:
                self._client_streams[client] = left


class _Guard:
    """Before any route: a request budget per client and a cap on the body's size."""

    def __init__(self, app: Any, app_state: WebApp) -> None:
        self.app, self.web = app, app_state

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
        if not self.web.host_allowed(host):
            await _plain(send, 421, "unknown Host: reach the page by its address or a name in"
                                    " web.allowed_hosts")  # fmt: skip
            return
        client = (scope.get("client") or ("?", 0))[0]
        if not self.web.requests.take(client, self.web.clock()):
            await _plain(send, 429, "too many requests: slow down")
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            await _plain(send, 413, f"request body over {MAX_BODY} bytes")
            return
        await self.app(scope, _capped(receive), send)


def _capped(receive: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
    """A body sent without a length is cut off (and refused by the route) past MAX_BODY."""
    seen = 0

    async def wrapped() -> Any:
        nonlocal seen
        message = await receive()
        if message.get("type") == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                return {"type": "http.request", "body": b"", "more_body": False}
        return message

    return wrapped


async def _plain(send: Any, status: int, text: str) -> None:
    body = json.dumps({"error": text}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


def _own_names(settings: WebSettings) -> set[str]:
    """The names the page answers to besides loopback: the listening address, this machine's
    host name (and its mDNS name, ``<hostname>.local``), and ``web.allowed_hosts``."""
    import socket

    host = socket.gethostname().lower()
    names = {host, f"{host}.local", *(h.lower() for h in settings.allowed_hosts)}
    if settings.host not in {"0.0.0.0", "::"}:
        names.add(settings.host.lower())
    return names


def _host_name(header: str) -> str:
    """'example.com:8470' → 'example.com', '[::1]:8470' → '::1'."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _is_address(name: str) -> bool:
    """An IP address (a browser that typed the box's address): no name to rebind."""
    import ipaddress

    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _json(data: Any, status: int = 200) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse(safe_value(data), status, headers=_HEADERS)


def _error(message: str, status: int) -> Any:
    return _json({"error": message}, status)


async def _not_found(request: Any, _exc: Any) -> Any:
    return _error(f"no such page: {request.url.path[:100]}", 404)


async def _not_allowed(request: Any, _exc: Any) -> Any:
    return _error(f"{request.method} is not allowed on {request.url.path[:100]}", 405)


def _password_check(settings: WebSettings) -> Check | None:
    """A password's role: owner (the password or token) or staff (their password); None
    when the page needs no password (127.0.0.1, none set)."""
    if settings.password_hash is not None:
        stored = settings.password_hash.get_secret_value()
        owner: Callable[[str], bool] = lambda password: check_password(password, stored)  # noqa: E731
    elif settings.token_file is not None:
        token = _read_token(settings.token_file)
        owner = lambda password: check_token(password, token)  # noqa: E731
    else:
        return None
    staff = settings.staff_password_hash

    def check(password: str) -> str | None:
        if owner(password):
            return "owner"
        if staff is not None and check_password(password, staff.get_secret_value()):
            return "staff"
        return None

    return check


def _refused(text: str, status: int) -> Any:
    from starlette.responses import PlainTextResponse

    headers = {**_HEADERS, "Retry-After": "60"} if status == 429 else _HEADERS
    return PlainTextResponse(text, status, headers=headers)


def _read_token(path: Path) -> str:
    try:
        lines = Path(path).expanduser().read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise MoodcastError(f"web.token_file {path} cannot be read ({exc})",
                            "write the password on its first line") from exc  # fmt: skip
    token = lines[0].strip() if lines else ""
    if len(token) < 8:
        raise MoodcastError(f"web.token_file {path}: the password is shorter than 8 characters",
                            "write a longer one on its first line")  # fmt: skip
    return token


def library_map(path: Path) -> list[dict[str, Any]]:
    """Every playable track's mood position and where it came from, read on a connection of
    its own (SQLite's WAL lets it read while the daemon writes)."""
    from moodcast.player.library import Library
    from moodcast.player.tags import shown

    with Library(path) as library:
        return [
            {"title": shown(t.title), "artist": shown(t.artist or ""),
             "mood": t.mood.mood if t.mood else None,
             "valence": round(t.mood.valence, 3) if t.mood else None,
             "arousal": round(t.mood.arousal, 3) if t.mood else None,
             "source": t.mood.source if t.mood else None}
            for t in library.tracks(playable_only=True)
        ]  # fmt: skip


def recent_plays(path: Path, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` plays, newest first, read on a connection of its own."""
    import sqlite3

    from moodcast.player.library import Library

    try:
        with Library(path) as library:
            plays = library.plays(0.0, float("inf"), limit=limit)
    except sqlite3.Error as exc:
        raise MoodcastError(f"the play log cannot be read now ({exc})", "try again") from exc
    return [safe_value(p.to_dict()) for p in reversed(plays)]


class Served(Protocol):
    """What :class:`WebServer` serves: the device's page, or the fleet's."""

    settings: Any  # host and port
    asgi: Any
    stopping: bool


class WebServer:
    """uvicorn on its own thread, started and stopped by the daemon (or the fleet service)."""

    def __init__(self, app: Served, guard: dict[str, float] | None = None) -> None:
        """``guard``: the connection caps and header deadline (edge/web/guard.py) if not the
        defaults."""
        self.app = app
        self._guard = guard or {}
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.problem = ""

    def start(self, timeout: float = 5.0) -> None:
        """Serve; a port in use or an address not here becomes :attr:`problem`, not a crash."""
        import uvicorn

        from moodcast.edge.web.guard import guarded_protocol

        s = self.app.settings
        config = uvicorn.Config(
            self.app.asgi, host=s.host, port=s.port, log_level="warning", access_log=False,
            lifespan="off", timeout_graceful_shutdown=1, limit_concurrency=64,
            h11_max_incomplete_event_size=16 * 1024, timeout_keep_alive=5,
            http=guarded_protocol(**self._guard),  # type: ignore[arg-type]
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="web", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        pause = threading.Event()  # its wait, not time.sleep: see edge/schedule.py
        while time.monotonic() < deadline and self._thread.is_alive():
            if self._server.started:
                logger.info("dashboard on http://%s:%d/", s.host, s.port)
                return
            pause.wait(0.02)
        if not self.problem:
            self.problem = f"the page cannot listen on {s.host}:{s.port} (in use? not here?)"

    def _serve(self) -> None:
        try:
            self._server.run()
        except (OSError, SystemExit) as exc:
            self.problem = f"the page cannot listen on {self.app.settings.host}:" \
                           f"{self.app.settings.port} ({exc})"  # fmt: skip

    def stop(self) -> None:
        self.app.stopping = True
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=3.0)
        self._thread = None
