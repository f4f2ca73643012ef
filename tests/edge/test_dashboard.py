"""The dashboard in a real browser (Debian's headless Chromium, driven by Playwright) against
a real daemon: Mosquitto, libVLC writing a file, OpenCV reading a real video."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from moodcast.edge.web.auth import hash_password
from tests.conftest import free_port, require
from tests.edge.test_daemon import BASE, setup, start  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery"


@pytest.fixture
def browser():
    require(CHROMIUM.is_file(), "chromium (apt install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright (pip install playwright)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


def until(page: Any, expression: str, timeout: float = 15.0) -> None:
    """Polls a JS expression from here: the page's own CSP forbids the eval that
    Playwright's wait_for_function polls with (and the test keeps the CSP on)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate(expression):
            return
        time.sleep(0.1)
    raise AssertionError(f"never true: {expression}")


def _events(mq: Any, name: str) -> list[bytes]:
    with mq.lock:
        return [p for t, p, _ in mq.messages if t == f"{BASE}/event/{name}"]


def _starts(mq: Any) -> list[bytes]:
    return _events(mq, "track_started")


def _log_in(page: Any, url: str) -> None:
    """A wrong password is refused; the right one opens the dashboard."""
    page.goto(url)
    assert page.url.endswith("/login")
    page.fill("input[name=password]", "wrong horse")
    page.click("button[type=submit]")
    page.wait_for_url("**/login?failed=1")
    assert "Wrong password" in page.inner_text("#message")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def _screenshots(browser: Any, page: Any, url: str, out: Path) -> None:
    """The pictures kept in docs/ (MOODCAST_SCREENSHOTS=docs): phone, desktop, library."""
    page.wait_for_timeout(1500)
    page.screenshot(path=str(out / "dashboard-phone.png"), full_page=True)
    wide = browser.new_page(viewport={"width": 1280, "height": 900})
    wide.context.add_cookies(page.context.cookies())
    wide.goto(url)
    until(wide, "document.getElementById('link').textContent === 'live'")
    wide.wait_for_timeout(1500)
    wide.screenshot(path=str(out / "dashboard.png"), full_page=True)
    wide.goto(f"{url}/library")
    wide.wait_for_selector("#map circle")
    wide.screenshot(path=str(out / "dashboard-library.png"), full_page=True)


def test_the_page_shows_the_mood_and_the_track_and_steers_the_daemon(
    setup,  # noqa: F811 (the daemon tests' fixture)
    browser,
    media_video: Path,
    make_tone: Any,
    tmp_path: Path,
) -> None:
    from moodcast.config.settings import AnnouncementSettings

    config, mq, _ = setup
    make_tone(tmp_path / "announcements" / "hello.ogg", seconds=2.0, freq=880)
    announcements = AnnouncementSettings.model_validate(
        {"folder": str(tmp_path / "announcements"),
         "items": [{"name": "hello", "file": "hello.ogg"}]})  # fmt: skip
    port = free_port()
    hashed = SecretStr(hash_password(PASSWORD))
    web = config.web.model_copy(update={"enabled": True, "port": port, "password_hash": hashed})
    camera = config.camera.model_copy(update={"source": str(media_video)})
    config = config.model_copy(
        update={"web": web, "camera": camera, "announcements": announcements}
    )
    daemon, thread = start(config)
    url = f"http://127.0.0.1:{port}"
    try:
        mq.wait(lambda: (mq.state(BASE).get("now_playing") or {}).get("title") is not None, 30)
        page = browser.new_page(viewport={"width": 412, "height": 915})  # a phone
        _log_in(page, url)
        until(page, "document.getElementById('link').textContent === 'live'")
        until(page, "!['—', 'nothing playing'].includes("
                               "document.getElementById('title').textContent)")  # fmt: skip
        assert page.inner_text("#mood-label") in {*config_moods(daemon)}
        assert page.inner_text("#camera").startswith("ok")
        assert page.locator("#chart circle").count() >= 2  # reading, smoothed (and target)

        # The page follows a track change by itself (4 s tracks), without a reload.
        shown = page.inner_text("#title")
        until(page, f"document.getElementById('title').textContent !== {shown!r}", 20)

        before = len(_starts(mq))
        page.click("#skip")
        mq.wait(lambda: len(_starts(mq)) > before)

        _ban_and_read_the_log(page, mq, config.library.path)

        page.locator("#volume").fill("25")
        mq.wait(lambda: mq.state(BASE).get("volume") == 25)
        until(page, "document.getElementById('volume-out').textContent === '25'")

        page.select_option("#override", "calm")
        page.click("#set-override")
        mq.wait(lambda: mq.state(BASE).get("override") == "calm")
        until(page, "document.getElementById('override-info').textContent"
                               ".startsWith('override: calm')")  # fmt: skip

        page.click("text=Announce hello")
        mq.wait(lambda: mq.state(BASE).get("announcing") == "hello")
        until(page, "document.getElementById('announcing').textContent === 'hello'")

        out = os.environ.get("MOODCAST_SCREENSHOTS")
        if out:
            _screenshots(browser, page, url, Path(out))
        page.goto(f"{url}/library")
        until(page, "document.getElementById('counts').textContent.endsWith('tracks')")
        assert page.locator("#map circle").count() >= 8  # the tagged tracks, placed
    finally:
        daemon.stop()
        thread.join(timeout=15)
    assert not thread.is_alive()


def _ban_and_read_the_log(page: Any, mq: Any, library_path: Path) -> None:
    """ "Not this track": the one playing goes at once and the library holds the ban; the
    play log on the page lists what was heard."""
    from moodcast.player.library import Library

    # Which track the click bans is the daemon's to say (the retained state can lag a skip,
    # and the 4 s tracks change by themselves): its "banned" event names it, once the
    # library holds the ban.
    before = len(_events(mq, "banned"))
    page.click("#ban")
    mq.wait(lambda: len(_events(mq, "banned")) > before)
    banned = json.loads(_events(mq, "banned")[-1])["id"]
    mq.wait(lambda: (mq.state(BASE).get("now_playing") or {}).get("id") not in {banned, None})
    with Library(library_path) as library:
        assert [path for _, path, *_ in library.bans()]
    until(page, "document.querySelectorAll('#plays li').length >= 3", 20)
    assert "–" in page.inner_text("#plays li >> nth=0")


def config_moods(daemon: Any) -> set[str]:
    from moodcast.models.readers import active_taxonomy

    taxonomy = active_taxonomy(daemon.config)
    return set(taxonomy.names) | set(daemon.config.mood.labels or {}) | {
        "tense", "intense", "mellow"}  # fmt: skip
