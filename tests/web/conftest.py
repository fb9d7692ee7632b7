"""Browser harness: Playwright's Python package driving Debian's chromium against the live test server.

The browser is shared by the whole session (starting it costs a second or two); every test gets a fresh
context, so cookies never leak between tests. Screenshots of the main pages go to
``test-artifacts/screenshots/`` (gitignored), and page timings to ``test-artifacts/web-timings.json``
where ``bench/bench_web.py`` can report them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT
from tests.factories import PASSWORD
from tests.payments.psp import psp, psp_server  # noqa: F401  (the test PSP, a real subprocess)

CHROMIUM = os.environ.get("ETALAGE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
TIMINGS = ARTIFACTS / "web-timings.json"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"no chromium at {CHROMIUM}: install Debian's 'chromium' package (dev.py test does, as root)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class Browse:
    """One browser context (a visitor) against the live server, with helpers the journey tests share."""

    def __init__(self, browser: Any, base_url: str, viewport: dict[str, int], locale: str = "en-GB") -> None:
        self.base_url = base_url
        self.context = browser.new_context(
            base_url=base_url, viewport=viewport, locale=locale, has_touch=viewport is PHONE
        )
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "console",
            lambda msg: self.errors.append(msg.text) if msg.type == "error" else None,
        )

    def goto(self, path: str) -> Any:
        response = self.page.goto(path)
        assert response is not None
        return response

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        self.goto("/signin")
        self.page.get_by_label(re.compile("e-mail", re.I)).fill(email)
        self.page.locator("#f-password").fill(password)
        self.page.locator("form.form button[type=submit]").click()
        self.page.wait_for_url(lambda url: "/signin" not in url)

    def shot(self, name: str, full_page: bool = False) -> Path:
        from playwright.sync_api import Error as PlaywrightError

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        for attempt in range(3):
            try:
                self.page.screenshot(path=str(path), full_page=full_page)
                return path
            except PlaywrightError as error:
                # Chromium sometimes answers "Unable to capture screenshot" while a video on the page is
                # starting up (seen once, on the studio page, under CI load); a moment later it can
                if attempt == 2 or "Unable to capture screenshot" not in str(error):
                    raise
                self.page.wait_for_timeout(500)
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visitor(browser, live_server, db) -> Iterator[Browse]:  # type: ignore[no-untyped-def]
    """A phone-sized browser; the database is emptied after the test."""
    b = Browse(browser, live_server.url, PHONE)
    yield b
    b.close()


@pytest.fixture
def desk(browser, live_server, db) -> Iterator[Browse]:  # type: ignore[no-untyped-def]
    """A laptop-sized browser, for the seller center, studio and moderation console."""
    b = Browse(browser, live_server.url, LAPTOP)
    yield b
    b.close()


@pytest.fixture
def browse(browser, live_server, db):  # type: ignore[no-untyped-def]
    """Open more visitors in one test: ``browse(PHONE)``; all are closed at the end."""
    opened: list[Browse] = []

    def open_one(viewport: dict[str, int] = PHONE, locale: str = "en-GB") -> Browse:
        b = Browse(browser, live_server.url, viewport, locale)
        opened.append(b)
        return b

    yield open_one
    for b in opened:
        b.close()


@pytest.fixture
def web(live_server, db) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    """A cookie-keeping HTTP client that does not follow redirects (for page-level tests)."""
    with httpx.Client(base_url=live_server.url, timeout=30, follow_redirects=False) as client:
        yield client


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the form"
    return match.group(1)


def sign_in_http(client: httpx.Client, email: str, password: str = PASSWORD) -> None:
    token = csrf_from(client.get("/signin").text)
    resp = client.post("/signin", data={"email": email, "password": password, "csrf_token": token})
    assert resp.status_code == 303, resp.text[:500]


def record_timing(name: str, values: dict[str, Any]) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    data = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    data[name] = values
    TIMINGS.write_text(json.dumps(data, indent=2))


@pytest.fixture(autouse=True)
def _server_event_log(request):  # type: ignore[no-untyped-def]
    """The process-wide default event log is the one the server started with (other suites' servers may
    have replaced it), so jobs run by a test (exports, purchases) read the log the pages write to."""
    if "live_server" not in request.fixturenames:
        yield
        return
    from etalage.events import service

    server = request.getfixturevalue("live_server")
    service.set_default_log(server.server.config.app.state.event_log)
    engine = getattr(server.server.config.app.state, "feed_engine", None)
    if engine is not None:  # the last test emptied the database: the feed forgets its videos too
        engine.resync()
    yield
