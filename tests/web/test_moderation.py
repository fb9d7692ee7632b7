"""Moderation console: reported content queued by notices, decisions with a statement of reasons (through
the compliance domain, enacted by the owning domain), own-initiative decisions, appeals, traders."""

from __future__ import annotations

from etalage.content import comments
from etalage.core.ratelimit import MemoryRateLimiter
from tests.factories import make_video
from tests.web.conftest import LAPTOP, csrf_from, sign_in_http


def decide_in_browser(
    page, action: str = "remove", clause: str = "4.2", facts: str = "Counterfeit watches sold as genuine."
):  # type: ignore[no-untyped-def]
    page.locator("#f-action").select_option(action)
    page.locator("#ground-terms").check()
    page.locator("#f-terms_clause").fill(clause)
    page.locator("#f-facts").fill(facts)
    page.locator("form.form button[type=submit]").click()


def test_reported_video_is_decided_and_leaves_the_feed(browse, factory):
    creator = factory.user("shopper", "creator", name="@cleo")
    keep = make_video(factory, creator, caption="Fine video")
    bad = make_video(factory, creator, caption="Counterfeit watches")
    reporter = factory.user("shopper", name="Rita")
    r = browse()
    r.sign_in(reporter.email)
    r.goto(f"/report?kind=video&id={bad}")
    r.page.locator("#cat-counterfeit").check()
    r.page.locator("#f-explanation").fill("These watches copy a registered brand and are sold as real.")
    r.page.locator("#f-good_faith").check()
    r.page.locator("form.form button[type=submit]").click()
    r.page.locator("#report-received").wait_for()
    r.shot("report-received")

    moderator = factory.user("shopper", "moderator", name="Mo")
    m = browse(LAPTOP)
    m.sign_in(moderator.email)
    m.goto("/moderation")
    case = m.page.locator(f"#case-video-{bad}")
    assert "Counterfeit" in case.inner_text()
    m.shot("moderation-cases")
    case.locator("a", has_text="Review and decide").click()
    assert "These watches copy a registered brand" in m.page.content()
    m.shot("moderation-case")
    decide_in_browser(m.page)
    m.page.locator(".alert.ok").wait_for()
    assert m.page.locator(f"#case-video-{bad}").count() == 0

    r.goto("/")
    assert r.page.locator(f".clip[data-video='{bad}']").count() == 0
    assert r.page.locator(f".clip[data-video='{keep}']").count() == 1
    assert not m.errors and not r.errors


def test_reports_need_what_the_law_asks(web, factory):
    creator = factory.user("shopper", "creator")
    video = make_video(factory, creator)
    page = web.get(f"/report?kind=video&id={video}")
    token = csrf_from(page.text)
    # an anonymous notice of illegal content needs an explanation, good faith and a name and e-mail
    bad = web.post("/report", data={"kind": "video", "id": video, "category": "scam", "csrf_token": token})
    assert bad.status_code == 422 and bad.text.count('aria-invalid="true"') >= 2
    ok = web.post(
        "/report",
        data={"kind": "video", "id": video, "category": "other", "explanation": "Not the product shown.",
              "csrf_token": token},
    )  # fmt: skip
    assert ok.status_code == 200 and 'id="report-received"' in ok.text
    assert web.get("/report?kind=video&id=vid_00000000000000000000000000").status_code == 200  # the form
    missing = web.post(
        "/report", data={"kind": "video", "id": "vid_00000000000000000000000000", "category": "other",
                         "csrf_token": token},
    )  # fmt: skip
    assert missing.status_code == 404
    assert web.get("/report?kind=bogus&id=x").status_code == 404


def test_own_initiative_decision_needs_a_ground_and_facts(web, factory):
    creator = factory.user("shopper", "creator")
    video = make_video(factory, creator)
    moderator = factory.user("shopper", "moderator")
    sign_in_http(web, moderator.email)
    page = web.get(f"/moderation/decide?kind=video&id={video}")
    assert page.status_code == 200
    token = csrf_from(page.text)
    resp = web.post(
        "/moderation/decisions",
        data={"kind": "video", "id": video, "action": "remove", "ground": "terms", "terms_clause": "",
              "facts": "too short", "csrf_token": token},
    )  # fmt: skip
    assert resp.headers["location"].endswith("error=invalid")
    assert f"/v/{video}" in web.get("/moderation/videos").text  # still published


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
    decide = web.get(f"/moderation/decide?kind=comment&id={comment_id}")
    token = csrf_from(decide.text)
    resp = web.post(
        "/moderation/decisions",
        data={"kind": "comment", "id": comment_id, "action": "remove", "ground": "terms", "terms_clause": "3.1",
              "facts": "Advertises counterfeit goods in comments.", "csrf_token": token},
    )  # fmt: skip
    assert resp.headers["location"].endswith("done=decided")
    assert "buy fake stuff here" not in web.get("/moderation/comments").text

    from etalage.merchants import service as merchants
    from tests.commerce.builders import TRADER

    shop = factory.merchant(name="New Shop")
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
    for path in (
        "/moderation/cases",
        "/moderation/appeals",
        "/moderation/videos",
        f"/moderation/decide?kind=video&id={video}",
    ):
        assert web.get(path).status_code == 403, path
    token = csrf_from(web.get("/me").text)
    resp = web.post(
        "/moderation/decisions",
        data={"kind": "video", "id": video, "action": "remove", "ground": "terms", "terms_clause": "1",
              "facts": "because I say so", "csrf_token": token},
    )  # fmt: skip
    assert resp.status_code == 403
