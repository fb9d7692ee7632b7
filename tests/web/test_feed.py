"""The For You feed in a real browser: real transcoded videos play muted, swipe/keys/wheel move one clip,
the next clip is preloaded, product chips open the sheet, "Why am I seeing this?" explains, and the page
reports interactions to the event API in batches."""

from __future__ import annotations

import pytest

from tests.factories import make_video
from tests.web.conftest import record_timing


@pytest.fixture
def catalogue(factory):  # type: ignore[no-untyped-def]
    """A verified shop with a product, and three published videos by a creator, the newest tagging it."""
    shop = factory.verified_merchant(name="Atelier Zuid")
    item = factory.product(shop, prices={"BE": 2499}, title="Linen shirt", stock=3)
    creator = factory.user("shopper", "creator", name="@cleo")
    videos = [
        make_video(
            factory, creator, caption=f"Clip {n} #linen", products=[item["product_id"]] if n == 3 else []
        )
        for n in (1, 2, 3)
    ]
    return {"shop": shop, "product": item, "creator": creator, "videos": list(reversed(videos))}


def stored_events(server, user_key: str, until: set[str], timeout: float = 5.0) -> list[dict]:  # type: ignore[no-untyped-def]
    """The user's events as the server's event log holds them (waiting for ``until`` types to arrive)."""
    import time

    log = server.server.config.app.state.event_log  # the log this server appends to
    deadline = time.monotonic() + timeout
    while True:
        mine = [e.data for e in log.read(0, 100_000) if e.data.get("user") == user_key]
        if until <= {e["type"] for e in mine} or time.monotonic() > deadline:
            return mine
        time.sleep(0.1)


def current_time(page, index: int) -> float:  # type: ignore[no-untyped-def]
    return page.evaluate(f"document.querySelectorAll('.clip video')[{index}].currentTime")


def test_feed_plays_swipes_and_explains(browse, factory, catalogue, live_server):
    shopper = factory.user("shopper", name="Sam")
    b = browse()
    b.sign_in(shopper.email)
    page = b.page
    b.goto("/")
    page.wait_for_function("() => document.getElementById('feed').dataset.ready === '1'")
    clips = page.locator(".clip")
    assert clips.count() == 3
    assert clips.nth(0).get_attribute("data-video") == catalogue["videos"][0]  # newest first
    # the first clip plays, muted, and its time advances
    page.wait_for_function("() => document.querySelector('.clip video').currentTime > 0.3")
    assert page.evaluate("document.querySelector('.clip video').muted") is True
    first = current_time(page, 0)
    page.wait_for_timeout(400)
    assert current_time(page, 0) > first
    # the next clip is already loading
    assert page.evaluate("document.querySelectorAll('.clip video')[1].getAttribute('src')")
    assert page.evaluate("document.querySelectorAll('.clip video')[1].preload") == "auto"
    timing = page.evaluate(
        """() => { const n = performance.getEntriesByType('navigation')[0];
                   const p = performance.getEntriesByName('feed-first-play')[0];
                   return {dom_interactive_ms: n.domInteractive, first_play_ms: p ? p.startTime : null}; }"""
    )
    record_timing("feed", timing)
    b.shot("feed-playing")

    # the product chip on the clip opens the sheet: price with VAT, stock, seller
    chip = clips.nth(0).locator("button.chip")
    assert "Linen shirt" in chip.inner_text()
    chip.click()
    sheet = page.locator("#product-sheet")
    sheet.locator(".product").wait_for()
    text = sheet.inner_text()
    assert "€24.99" in text.replace("\u00a0", "") and "VAT" in text and "Atelier Zuid" in text
    assert "Only 3 left" in text
    b.shot("feed-product-sheet")
    page.keyboard.press("Escape")
    assert not sheet.is_visible()

    # "Why am I seeing this?" explains, and closes with Esc, giving focus back
    why = clips.nth(0).locator("button.why")
    why.click()
    assert page.locator("#why-sheet").is_visible()
    assert page.locator("#why-sheet li").count() >= 1
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.classList.contains('why')")
    # "Not interested" from the same panel: the next clip comes up
    why.click()
    page.locator("#why-sheet [data-not-interested]").click()
    page.wait_for_function("() => !document.querySelectorAll('.clip video')[1].paused")
    page.evaluate("document.getElementById('feed').scrollTo({top: 0})")
    page.wait_for_function("() => !document.querySelectorAll('.clip video')[0].paused")

    # arrow key: the next clip plays, the first pauses
    page.locator("body").press("ArrowDown")
    page.wait_for_function("() => document.querySelectorAll('.clip video')[1].currentTime > 0.2")
    assert page.evaluate("document.querySelectorAll('.clip video')[0].paused") is True
    # wheel: one clip per gesture
    page.mouse.move(200, 400)
    for _ in range(6):
        page.mouse.wheel(0, 120)
    page.wait_for_function("() => document.querySelectorAll('.clip video')[2].currentTime > 0.2")
    # swipe up (touch scroll): back to the second clip
    page.evaluate("document.getElementById('feed').scrollBy({top: -innerHeight})")
    page.wait_for_function("() => !document.querySelectorAll('.clip video')[1].paused")

    # like, then leave the page: what is still queued goes out by beacon as the page unloads
    clips.nth(1).locator("button.like").click()
    b.goto("/me")
    wanted = {
        "impression",
        "view_start",
        "view_end",
        "product_click",
        "like",
        "scroll",
        "skip",
        "not_interested",
    }
    stored = stored_events(live_server, shopper.principal.pseudonym, until=wanted)
    kinds = {e["type"] for e in stored}

    assert wanted <= kinds, wanted - kinds
    ends = [e for e in stored if e["type"] == "view_end"]
    assert all(e["dwell_ms"] > 0 and e["video_id"] in catalogue["videos"] for e in ends)
    assert any(e.get("watch_ratio", 0) > 0 for e in ends)
    assert not b.errors, b.errors


def test_event_batches_are_accepted_by_the_event_api(browse, factory, catalogue):
    shopper = factory.user("shopper")
    b = browse()
    b.sign_in(shopper.email)
    page = b.page
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if "/api/v1/events" in r.url else None)
    b.goto("/")
    page.wait_for_function("() => document.querySelector('.clip video').currentTime > 0.2")
    page.locator("body").press("ArrowDown")
    page.wait_for_timeout(200)
    with page.expect_response(lambda r: "/api/v1/events" in r.url) as answer:
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        page.evaluate(
            "Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});"
            "document.dispatchEvent(new Event('visibilitychange'))"
        )
    body = answer.value.json()
    assert answer.value.status in (200, 207), body
    assert body["accepted"] >= 3 and not body["rejected"], body


def test_visitors_see_the_feed_without_being_tracked(visitor, catalogue):
    page = visitor.page
    sent: list[str] = []
    page.on("request", lambda req: sent.append(req.url) if "/api/v1/events" in req.url else None)
    visitor.goto("/")
    page.wait_for_function("() => document.querySelector('.clip video').currentTime > 0.2")
    page.locator("body").press("ArrowDown")
    page.wait_for_timeout(500)
    visitor.goto("/signin")
    assert sent == []


def test_feed_mode_switch_and_more_clips(browse, factory, catalogue, web):
    # a visitor has the feed that is not based on profiling; "For You" asks them to sign in
    b = browse()
    page = b.page
    b.goto("/")
    assert page.locator(".mode-switch button[aria-pressed=true]").get_attribute("value") == "non_profiled"
    assert page.locator(".mode-switch a.mode-link").get_attribute("href") == "/signin?next=/"
    page.locator(".mode-switch button[value=non_profiled]").click()
    page.wait_for_load_state()
    assert any(c["name"] == "etalage_feed" and c["value"] == "non_profiled" for c in b.context.cookies())
    # a signed-in shopper starts personalised; the choice is kept by the feed, for every device
    shopper = factory.user("shopper")
    b = browse()
    b.sign_in(shopper.email)
    page = b.page
    b.goto("/")
    assert page.locator(".mode-switch button[aria-pressed=true]").get_attribute("value") == "personalised"
    page.locator(".mode-switch button[value=non_profiled]").click()
    page.wait_for_load_state()
    assert page.locator(".mode-switch button[aria-pressed=true]").get_attribute("value") == "non_profiled"
    remembered = web.get("/api/v1/feed/settings", headers={"Authorization": f"Bearer {shopper.token}"}).json()
    assert remembered["mode"] == "non_profiled" and remembered["remembered"] is True
    assert not any(c["name"] == "etalage_feed" for c in b.context.cookies())


def test_reduced_motion_waits_for_play(browse, catalogue):
    b = browse()
    b.page.emulate_media(reduced_motion="reduce")
    b.goto("/")
    page = b.page
    play = page.locator(".clip").nth(0).locator(".clip-play")
    play.wait_for()
    page.wait_for_timeout(400)
    assert page.evaluate("document.querySelector('.clip video').paused")
    play.click()
    page.wait_for_function("() => document.querySelector('.clip video').currentTime > 0.2")


def test_more_clips_arrive_as_the_end_nears(browse, factory):
    creator = factory.user("shopper", "creator", name="@many")
    ids = [make_video(factory, creator, caption=f"Clip {n}") for n in range(8)]
    b = browse()
    b.goto("/")
    page = b.page
    assert page.locator(".clip").count() == 6  # the first page, rendered by the server
    for _ in range(4):
        page.locator("body").press("ArrowDown")
        page.wait_for_timeout(250)
    page.wait_for_function("() => document.querySelectorAll('.clip').length === 8")
    shown = page.evaluate(
        "[...document.querySelectorAll('.clip')].map(c => [c.dataset.video, c.dataset.pos])"
    )
    assert sorted(vid for vid, _pos in shown) == sorted(ids)  # each once, in the feed's order
    assert [pos for _vid, pos in shown] == [str(n) for n in range(8)]
    assert page.evaluate("document.getElementById('feed').dataset.more") == ""


def test_the_ranking_page_shows_the_live_parameters(web):
    live = web.get("/api/v1/feed/ranking-parameters").json()
    html = web.get("/about/ranking").text
    assert f"version {live['version']}" in html and live["preset"] in html
    for outcome in live["outcomes"]:
        assert f"<code>{outcome['name']}</code>" in html and f"{outcome['weight']:g}" in html
    for source in live["sources"]:
        assert f"<code>{source['name']}</code>" in html
    assert all(f"<code>{p['name']}</code>" in html for p in live["parameters"])
