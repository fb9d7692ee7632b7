"""Statements of reasons reach the people concerned, who can appeal; another moderator reverses on appeal."""

from __future__ import annotations

from etalage.compliance import decisions, notices
from etalage.compliance.schemas import DecisionIn, NoticeIn
from etalage.core.ratelimit import MemoryRateLimiter
from tests.factories import make_video
from tests.web.conftest import csrf_from, sign_in_http


def test_statement_appeal_and_reversal(web, factory, db):
    creator = factory.user("shopper", "creator", name="@cleo")
    video = make_video(factory, creator, caption="Big deal")
    reporter = factory.user("shopper")
    mod_a = factory.user("shopper", "moderator")
    mod_b = factory.user("shopper", "moderator")
    with db.session() as s:
        body = NoticeIn.model_validate({"target": {"kind": "video", "id": video}, "category": "other",
                                        "explanation": "Misleading price."})  # fmt: skip
        notices.submit(s, reporter.principal, body, client_ip="127.0.0.1", limiter=MemoryRateLimiter())
        s.flush()
        decision = decisions.decide(s, mod_a.principal, DecisionIn.model_validate(
            {"target": {"kind": "video", "id": video}, "action": "remove", "ground": "terms", "terms_clause": "4.2",
             "facts": "The price shown is not the price charged."}))  # fmt: skip
        decision_id = decision.id
    # the reporter sees the outcome of their report
    sign_in_http(web, reporter.email)
    mine = web.get("/me/reports")
    assert f"/decisions/{decision_id}" in mine.text
    web.cookies.clear()
    # the creator reads the statement of reasons and appeals
    sign_in_http(web, creator.email)
    listing = web.get("/me/decisions")
    assert f'id="decision-{decision_id}"' in listing.text
    statement = web.get(f"/decisions/{decision_id}")
    assert "The price shown is not the price charged." in statement.text and "4.2" in statement.text
    token = csrf_from(statement.text)
    short = web.post(f"/decisions/{decision_id}/appeal", data={"statement": "no", "csrf_token": token})
    assert short.headers["location"].endswith("done=short")
    filed = web.post(
        f"/decisions/{decision_id}/appeal",
        data={"statement": "The price in the video is the price at checkout.", "csrf_token": token},
    )
    assert filed.headers["location"].endswith("done=appealed")
    web.cookies.clear()
    # another moderator reverses it: the video is back in the feed
    assert f'data-video="{video}"' not in web.get("/").text
    sign_in_http(web, mod_b.email)
    queue = web.get("/moderation/appeals")
    assert "The price in the video is the price at checkout." in queue.text
    appeal_id = queue.text.split('id="appeal-')[1].split('"')[0]
    token = csrf_from(queue.text)
    resp = web.post(
        f"/moderation/appeals/{appeal_id}",
        data={"outcome": "reversed", "reason": "The checkout price matches the video.", "csrf_token": token},
    )
    assert resp.headers["location"].endswith("done=reversed")
    assert f'data-video="{video}"' in web.get("/").text


def test_statements_are_only_for_the_people_concerned(web, factory, db):
    creator = factory.user("shopper", "creator")
    video = make_video(factory, creator)
    mod = factory.user("shopper", "moderator")
    with db.session() as s:
        decision = decisions.decide(s, mod.principal, DecisionIn.model_validate(
            {"target": {"kind": "video", "id": video}, "action": "remove", "ground": "terms", "terms_clause": "1",
             "facts": "Own initiative removal for the test."}))  # fmt: skip
        decision_id = decision.id
    stranger = factory.user("shopper")
    sign_in_http(web, stranger.email)
    assert web.get(f"/decisions/{decision_id}").status_code == 404
    token = csrf_from(web.get("/me").text)
    resp = web.post(
        f"/decisions/{decision_id}/appeal", data={"statement": "let me appeal this", "csrf_token": token}
    )
    assert resp.status_code == 404
    assert decision_id not in web.get("/me/decisions").text
