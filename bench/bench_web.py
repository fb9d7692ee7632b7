"""The web app in a real browser: the feed page's time to interactive, and each page's own JS + CSS bytes.

Builds the small demo marketplace on a scratch SQLite database, serves it, and drives Debian's chromium
(Playwright's Python package) over loopback. Reported, not asserted: the target is the feed page
interactive in under a second, and every page's own JS + CSS under 150 KB. The browser test suite also
records the feed timings it sees in ``test-artifacts/web-timings.json``; they are reported when present.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from bench.common import ROOT, BenchContext, row, scratch_database, server

CHROMIUM = os.environ.get("ETALAGE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
DEMO_PASSWORD = "demo-password"
# (page, path, demo account or None for a visitor)
PAGES = [
    ("feed", "/", None),
    ("feed (signed in)", "/", "shopper@etalage.test"),
    ("shop", "/shop", None),
    ("search", "/search?q=a", None),
    ("live", "/live", None),
    ("orders", "/orders", "shopper@etalage.test"),
    ("cart", "/cart", "shopper@etalage.test"),
    ("settings", "/settings", "shopper@etalage.test"),
    ("seller center", "/seller", "merchant@etalage.test"),
    ("creator studio", "/studio", "creator@etalage.test"),
    ("moderation", "/moderation", "moderator@etalage.test"),
]
TIMING_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const mark = (name) => { const m = performance.getEntriesByName(name)[0]; return m ? m.startTime : null; };
  return { domInteractive: nav.domInteractive, domContentLoaded: nav.domContentLoadedEventEnd,
           load: nav.loadEventEnd, feedReady: mark('feed-ready'), firstPlay: mark('feed-first-play') };
}"""


def _sign_in(client: httpx.Client, email: str) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text)
    assert token, "no sign-in form"
    client.post("/signin", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token.group(1)})


def page_bytes(base_url: str) -> list[dict]:
    rows = []
    clients: dict[str | None, httpx.Client] = {}
    try:
        for name, path, account in PAGES:
            if account not in clients:
                clients[account] = httpx.Client(base_url=base_url, timeout=30)
                if account:
                    _sign_in(clients[account], account)
            client = clients[account]
            resp = client.get(path, follow_redirects=True)
            if resp.status_code != 200:
                rows.append(row("web", f"{name}: own JS+CSS", None, "KB", notes=f"HTTP {resp.status_code}"))
                continue
            pending = re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', resp.text)
            seen: set[str] = set()
            total = gzipped = 0
            while pending:
                url = pending.pop()
                if url in seen:
                    continue
                seen.add(url)
                body = client.get(url, headers={"accept-encoding": "identity"})
                total += len(body.content)
                packed = client.get(url, headers={"accept-encoding": "gzip"})
                gzipped += int(packed.headers.get("content-length", len(packed.content)))
                if url.endswith(".js"):
                    pending += re.findall(r"['\"](/static/[0-9a-f]{12}/[\w/.-]+\.js)['\"]", body.text)
            rows.append(
                row(
                    "web",
                    f"{name}: own JS+CSS",
                    round(total / 1024, 1),
                    "KB",
                    target="< 150",
                    notes=f"{len(seen)} files, {round(gzipped / 1024, 1)} KB gzipped",
                )  # fmt: skip
            )
    finally:
        for client in clients.values():
            client.close()
    return rows


def feed_timings(base_url: str, runs: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    results: dict[str, list[dict]] = {"visitor": [], "signed in": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            for who in results:
                context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844})
                page = context.new_page()
                if who == "signed in":
                    page.goto("/signin")
                    page.fill("#f-email", "shopper@etalage.test")
                    page.fill("#f-password", DEMO_PASSWORD)
                    page.click("form.form button[type=submit]")
                    page.wait_for_url(lambda url: "/signin" not in url)
                page.goto("/")  # warm: static files cached, as on a returning visit
                for _ in range(runs):
                    page.goto("/")
                    page.wait_for_function("() => document.getElementById('feed')?.dataset.ready === '1'")
                    with contextlib.suppress(Exception):  # no video in the feed: report what there is
                        page.wait_for_function(
                            "() => performance.getEntriesByName('feed-first-play').length > 0", timeout=5000
                        )
                    results[who].append(page.evaluate(TIMING_JS))
                context.close()
        finally:
            browser.close()
    rows = []
    for who, samples in results.items():
        for key, label in (("domInteractive", "DOM interactive"), ("feedReady", "feed script ready"),
                           ("firstPlay", "first clip playing")):  # fmt: skip
            values = [s[key] for s in samples if s.get(key) is not None]
            rows.append(
                row(
                    "web",
                    f"feed page, {who}: {label}",
                    round(statistics.median(values), 1) if values else None,
                    "ms",
                    target="< 1000" if key == "domInteractive" else "",
                    notes=f"median of {len(values)} loads over loopback",
                )  # fmt: skip
            )
    return rows


def recorded_by_tests() -> list[dict]:
    path = ROOT / "test-artifacts" / "web-timings.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    return [
        row("web", f"browser test: {name} {key}", value, "ms", notes="recorded by tests/web")
        for name, values in data.items()
        for key, value in values.items()
        if isinstance(value, int | float)
    ]


def run(ctx: BenchContext) -> list[dict]:
    if not Path(CHROMIUM).exists():
        return [row("web", "skipped", None, "", notes=f"no chromium at {CHROMIUM}")]
    rows: list[dict] = []
    with scratch_database("sqlite") as url, tempfile.TemporaryDirectory(prefix="etalage-bench-web-") as tmp:
        env = dict(os.environ, ETALAGE_DATA_DIR=tmp, ETALAGE_DATABASE_URL=url, ETALAGE_LOG_LEVEL="WARNING")
        subprocess.run(
            [sys.executable, "-m", "etalage.cli", "demo", "--scale", "small"],
            env=env, check=True, capture_output=True, cwd=ROOT, timeout=900,
        )  # fmt: skip
        with server(url, workers=1, data_dir=Path(tmp)) as srv:
            rows += feed_timings(srv.url, runs=3 if ctx.quick else 10)
            rows += page_bytes(srv.url)
    return rows + recorded_by_tests()
