"""What every page must respect: the byte budget, the CSP (no inline script or style), labelled controls,
alt text, one h1/h2 structure, and a palette with WCAG AA contrast."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from tests.web.conftest import sign_in_http
from tests.web.pagelist import FRAGMENTS, build_world, pages_for

BUDGET_BYTES = 150 * 1024
CSS = Path(__file__).resolve().parents[2] / "src/etalage/web/static/css/app.css"


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []
        self.problems: list[str] = []
        self.labels: set[str] = set()
        self.controls: list[tuple[str, str | None, bool]] = []
        self._in_label = 0
        self._json_script = False

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = dict(attrs)
        if "style" in a:
            self.problems.append(f"inline style on <{tag}>")
        if any(name.startswith("on") for name in a):
            self.problems.append(f"inline event handler on <{tag}>")
        if tag == "script":
            if a.get("src"):
                self.assets.append(a["src"])
            elif a.get("type") != "application/json":
                self.problems.append("inline <script>")
        if tag == "link" and a.get("rel") in ("stylesheet", "modulepreload"):
            self.assets.append(a["href"] or "")
        if tag == "img" and "alt" not in a:
            self.problems.append(f"<img src={a.get('src')}> without alt")
        if tag == "label":
            self._in_label += 1
            if a.get("for"):
                self.labels.add(a["for"] or "")
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            named = bool(a.get("aria-label") or a.get("aria-labelledby") or self._in_label)
            self.controls.append((tag, a.get("id"), named))
        if tag == "button" and not a.get("aria-label") and not a.get("aria-labelledby"):
            self.controls.append(("button", None, True))  # checked for text by the browser test

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag == "label":
            self._in_label -= 1

    def unlabelled(self) -> list[str]:
        return [
            f"<{tag} id={cid}>" for tag, cid, named in self.controls if not named and cid not in self.labels
        ]


def _walk(live_server, factory, psp):  # type: ignore[no-untyped-def]
    world = build_world(factory, psp)
    clients: dict[str, httpx.Client] = {}
    try:
        for name, path, role in pages_for(world):
            if role not in clients:
                clients[role] = httpx.Client(base_url=live_server.url, timeout=30)
                if role != "visitor":
                    sign_in_http(clients[role], world.actors[role].email)
            resp = clients[role].get(path)
            assert resp.status_code == 200, f"{name} {path}: {resp.status_code} {resp.text[:200]}"
            yield name, resp, clients[role]
    finally:
        for client in clients.values():
            client.close()


def test_every_page_keeps_the_csp_labels_and_budget(live_server, factory, db, psp):
    sizes = {}
    for name, resp, client in _walk(live_server, factory, psp):
        audit = _Audit()
        audit.feed(resp.text)
        assert not audit.problems, f"{name}: {audit.problems}"
        assert not audit.unlabelled(), f"{name}: controls without a label: {audit.unlabelled()}"
        if name not in FRAGMENTS:
            assert re.search(r"<h1[ >]", resp.text), f"{name} has no h1"
        total = 0
        pending, fetched = list(audit.assets), set()
        while pending:  # the page's own files and every module they import
            url = pending.pop()
            if url in fetched:
                continue
            fetched.add(url)
            asset = client.get(url)
            assert asset.status_code == 200, url
            assert "immutable" in asset.headers["cache-control"], f"{url} is not a current versioned URL"
            total += len(asset.content)
            if url.endswith(".js"):
                pending += re.findall(r"['\"](/static/[0-9a-f]{12}/[\w/.-]+\.js)['\"]", asset.text)
        sizes[name] = total
        assert total < BUDGET_BYTES, f"{name}: its own JS+CSS weigh {total} bytes (budget {BUDGET_BYTES})"
    assert sizes


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# (foreground, background) pairs the stylesheet uses for text
PAIRS = [
    ("--fg", "--bg"),
    ("--fg", "--surface"),
    ("--muted", "--surface"),
    ("--muted", "--bg"),
    ("--accent", "--surface"),
    ("--accent-fg", "--accent"),
    ("--ok", "--ok-bg"),
    ("--err", "--err-bg"),
    ("--err", "--surface"),
]


@pytest.mark.db_agnostic
def test_palette_meets_wcag_aa():
    variables = dict(re.findall(r"(--[a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS.read_text()))
    for fg, bg in PAIRS:
        ratio = contrast(variables[fg], variables[bg])
        assert ratio >= 4.5, f"{fg} on {bg}: {ratio:.2f}:1 is below 4.5:1"
    assert contrast("#ffffff", variables["--dark"]) >= 4.5
    assert contrast("#c9c9d4", variables["--dark"]) >= 4.5  # inactive tab labels
