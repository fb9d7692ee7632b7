"""Moderation console: decisions with a reason, recorded by the owning domain; removed videos leave the feed."""

from __future__ import annotations

from etalage.content import comments
from etalage.core.ratelimit import MemoryRateLimiter
from tests.factories import make_video
from tests.web.conftest import LAPTOP, csrf_from, sign_in_http


def test_moderator_removes_a_video_and_it_leaves_the_feed(browse, factory, db):
    creator = factory.user("shopper", "creator", name="@cleo")
    keep = make_video(factory, creator, caption="Fine video")
    bad = make_video(factory, creator, caption="Counterfeit watches")
    shopper = b = browse()
    b.goto("/")
    assert b.page.locator(f".clip[data-video='{bad}']").count() == 1
    moderator = factory.user("shopper", "moderator", name="Mo")
    m = browse(LAPTOP)
    m.sign_in(moderator.email)
    m.goto("/moderation")
    item = m.page.locator(f"#video-{bad}")
    item.locator("select").select_option("remove")
    item.locator("input[name=reason]").fill("Counterfeit goods (notice 42)")
    m.shot("moderation-videos")
    item.locator("button[type=submit]").click()
    m.page.locator(".alert.ok").wait_for()
    assert m.page.locator(f"#video-{bad}").count() == 0
    shopper.goto("/")
    assert shopper.page.locator(f".clip[data-video='{bad}']").count() == 0
    assert shopper.page.locator(f".clip[data-video='{keep}']").count() == 1
    assert not m.errors, m.errors


def test_a_decision_needs_a_reason(web, factory):
    creator = factory.user("shopper", "creator")
    video = make_video(factory, creator)
    moderator = factory.user("shopper", "moderator")
    sign_in_http(web, moderator.email)
    token = csrf_from(web.get("/moderation/videos").text)
    resp = web.post(
        f"/moderation/videos/{video}", data={"action": "remove", "reason": " ", "csrf_token": token}
    )
    assert resp.headers["location"].endswith("done=noreason")
    assert f'id="video-{video}"' in web.get("/moderation/videos").text


def test_reported_comments_and_traders_queues(web, factory, db):
    creator = factory.user("shopper", "creator")
    video = make_video(factory, creator)
    author = factory.user("shopper", name="Troll")
    reporter = factory.user("shopper")
    with db.session() as s:
        comment = comments.create(
            s,
            author.principal,
            video,
            text="buy fake stuff here",
            parent_id=None,
            limiter=MemoryRateLimiter(),
        )
        s.flush()
        comments.report(s, reporter.principal, comment.id, "spam", MemoryRateLimiter())
        comment_id = comment.id
    moderator = factory.user("shopper", "moderator")
    sign_in_http(web, moderator.email)
    queue = web.get("/moderation/comments")
    assert "buy fake stuff here" in queue.text
    token = csrf_from(queue.text)
    resp = web.post(
        f"/moderation/comments/{comment_id}", data={"action": "remove", "reason": "spam", "csrf_token": token}
    )
    assert resp.status_code == 303
    assert "buy fake stuff here" not in web.get("/moderation/comments").text

    shop = factory.merchant(name="New Shop")
    from etalage.merchants import service as merchants
    from tests.commerce.builders import TRADER

    with db.session() as s:
        merchants.update_profile(s, shop.principal, shop.merchant_id, {**TRADER, "self_certification": True})
        merchants.submit_profile(s, shop.principal, shop.merchant_id)
    page = web.get("/moderation/traders")
    assert "New Shop" in page.text
    resp = web.post(
        f"/moderation/traders/{shop.merchant_id}",
        data={"decision": "verify", "reason": "documents checked", "csrf_token": token},
    )
    assert resp.status_code == 303
    with db.read() as s:
        assert merchants.trader_status(s, shop.merchant_id) == "verified"


def test_console_is_for_moderators_only(web, factory):
    creator = factory.user("shopper", "creator")
    video = make_video(factory, creator, transcode=False)
    shopper = factory.user("shopper")
    sign_in_http(web, shopper.email)
    assert web.get("/moderation/videos").status_code == 403
    token = csrf_from(web.get("/me").text)
    resp = web.post(
        f"/moderation/videos/{video}", data={"action": "remove", "reason": "because", "csrf_token": token}
    )
    assert resp.status_code == 403
