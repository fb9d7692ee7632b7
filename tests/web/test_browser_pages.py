"""Every page in a real browser (Debian's chromium): it loads without script errors under the CSP, every
button has an accessible name, and a screenshot is saved for review."""

from __future__ import annotations

from tests.web.conftest import LAPTOP, PHONE
from tests.web.pagelist import FRAGMENTS, build_world, pages_for

DESK_PREFIXES = ("/seller", "/studio", "/moderation")


def test_every_page_loads_cleanly_and_is_screenshotted(browse, factory, psp):
    world = build_world(factory, psp)
    visitors = {}
    for name, path, role in pages_for(world):
        if name in FRAGMENTS:
            continue
        viewport = LAPTOP if path.startswith(DESK_PREFIXES) else PHONE
        key = (role, viewport["width"])
        if key not in visitors:
            visitors[key] = browse(viewport)
            if role != "visitor":
                visitors[key].sign_in(world.actors[role].email)
        b = visitors[key]
        response = b.goto(path)
        assert response.status == 200, f"{name}: {response.status}"
        b.page.wait_for_load_state("load")
        nameless = b.page.evaluate(
            """() => [...document.querySelectorAll('button, a[href], [role=button]')]
                .filter(el => el.offsetParent !== null)
                .filter(el => !(el.getAttribute('aria-label') || el.textContent.trim() || el.title
                               || el.querySelector('img[alt]:not([alt=""])')))
                .map(el => el.outerHTML.slice(0, 120))"""
        )
        assert not nameless, f"{name}: controls without an accessible name: {nameless}"
        b.shot(name)
        assert not b.errors, f"{name}: {b.errors}"


def test_sign_in_with_the_keyboard_only(visitor, factory):
    shopper = factory.user("shopper", name="Kim Keys")
    visitor.goto("/signin?next=/me")
    page = visitor.page
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip"
    page.locator("#f-email").focus()
    page.keyboard.type(shopper.email)
    page.keyboard.press("Tab")
    page.keyboard.type("correct-horse-battery")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: url.endswith("/me") and "signin" not in url)
    assert "Kim Keys" in page.content()
