"""Logging in and out of a page (the device's and the fleet's): the password's check, the
session cookie, and a budget of tries per client. Starlette is imported when a request
comes, never at import time."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from moodcast.edge.web.auth import RequestBudget, Session, Sessions
from moodcast.edge.web.forms import form_value, read_body, same_origin

logger = logging.getLogger(__name__)

Check = Callable[[str], str | None]  # a password -> its role, or None when it is wrong


class Login:
    def __init__(self, check: Check | None, cookie: str, minutes: float,
                 clock: Callable[[], float]) -> None:  # fmt: skip
        """``check``: None when the page needs no password (it listens on loopback only);
        then every local browser shares one session, still with a token, so that a web
        site open in the same browser cannot send commands."""
        self._check, self._cookie, self._minutes, self._clock = check, cookie, minutes, clock
        self.sessions = Sessions(minutes)
        self._tries = RequestBudget(burst=5, per_second=1 / 12)  # 5 a minute after 5 tries
        self.open_session = (
            Session(secrets.token_urlsafe(24), float("inf")) if check is None else None
        )

    def session(self, request: Any) -> Session | None:
        if self.open_session is not None:
            return self.open_session
        return self.sessions.get(request.cookies.get(self._cookie), self._clock())

    async def login(self, request: Any, wrong: str, refused: Callable[[str, int], Any]) -> Any:
        """POST of the login form: to ``/`` with a session, to ``wrong`` without; a form
        from another site or past the budget gets ``refused(text, status)``."""
        from starlette.responses import RedirectResponse

        if self._check is None:
            return RedirectResponse("/", status_code=303)
        if not same_origin(request):
            return refused("cross-site login refused", 403)
        client = request.client.host if request.client else "?"
        if not self._tries.take(client, self._clock()):
            return refused("too many login attempts: wait a minute", 429)
        password = (form_value(await read_body(request), "password") or "")[:1024]
        role = self._check(password) if password else None
        if role is None:
            logger.warning("web: wrong password from %s", client)
            return RedirectResponse(wrong, status_code=303)
        key, _ = self.sessions.open(self._clock(), role)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(self._cookie, key, max_age=int(self._minutes * 60), httponly=True,
                            samesite="strict", path="/")  # fmt: skip
        return response

    def logout(self, request: Any, to: str) -> Any:
        """The server's session ends whatever the form carried: a logout is never refused,
        and a strict same-site cookie is not sent by another site's form."""
        from starlette.responses import RedirectResponse

        self.sessions.close(request.cookies.get(self._cookie))
        response = RedirectResponse(to, status_code=303)
        response.delete_cookie(self._cookie, path="/")
        return response
