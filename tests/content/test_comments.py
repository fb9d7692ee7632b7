"""Comments: written and read over HTTP, scored for sentiment, aggregated per video, reported, moderated."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from etalage.content import media
from etalage.content import service as content
from etalage.content.models import ModerationAction
from tests.content.helpers import is_problem
from tests.factories import make_video

pytestmark = pytest.mark.skipif(
    not media.ffmpeg_available(), reason="ffmpeg/ffprobe not installed (dev.py test installs them)"
)


def _comment(api, actor, video_id, text, **extra):  # type: ignore[no-untyped-def]
    return api.post(
        f"/api/v1/videos/{video_id}/comments", json={"text": text, **extra}, headers=actor.headers
    )


def test_comments_carry_sentiment_and_the_video_keeps_the_mean(api, factory, db):
    creator = factory.user("shopper", "creator")
    ann, bob = factory.user("shopper"), factory.user("shopper")
    video_id = make_video(factory, creator, language="nl")

    love = _comment(api, ann, video_id, "Echt super mooi 😍")
    assert love.status_code == 201, love.text
    assert love.json()["sentiment"] > 0.5 and love.json()["language"] == "nl"
    hate = _comment(api, bob, video_id, "Na twee dagen al kapot, zonde van je geld")
    assert hate.json()["sentiment"] < -0.5
    question = _comment(api, bob, video_id, "Welke maat draag je?")
    assert question.json()["sentiment"] == 0.0
    reply = _comment(api, creator, video_id, "Thank you so much!", parent_id=love.json()["id"])
    assert reply.json()["parent_id"] == love.json()["id"] and reply.json()["language"] == "en"
    deeper = _comment(api, ann, video_id, "haha", parent_id=reply.json()["id"])
    assert deeper.json()["parent_id"] == love.json()["id"]  # replies stay one level deep

    page = api.get(f"/api/v1/videos/{video_id}/comments", params={"limit": 2}).json()
    assert [c["text"] for c in page["items"]] == [
        "Welke maat draag je?",
        "Na twee dagen al kapot, zonde van je geld",
    ]
    rest = api.get(
        f"/api/v1/videos/{video_id}/comments", params={"limit": 2, "cursor": page["next_cursor"]}
    ).json()
    assert [c["id"] for c in rest["items"]] == [love.json()["id"]] and rest["next_cursor"] is None
    assert rest["items"][0]["reply_count"] == 2 and rest["items"][0]["author"]
    replies = api.get(f"/api/v1/videos/{video_id}/comments", params={"parent_id": love.json()["id"]}).json()
    assert len(replies["items"]) == 2

    scores = [c.json()["sentiment"] for c in (love, hate, question, reply, deeper)]
    stats = api.get(f"/api/v1/videos/{video_id}").json()["comments"]
    assert stats["count"] == 5 and stats["mean_sentiment"] == pytest.approx(sum(scores) / 5, abs=1e-3)
    with db.read() as s:
        assert content.get_video(s, video_id).comment_count == 5
        assert content.video_sentiment(s, [video_id])[video_id][0] == 5
        assert content.comments_exist(s, [love.json()["id"], "cmt_01M8000000000000000000000A"]) == {
            love.json()["id"]
        }

    # The author takes theirs back: it leaves the mean too.
    assert api.delete(f"/api/v1/comments/{hate.json()['id']}", headers=ann.headers).status_code == 403
    assert api.delete(f"/api/v1/comments/{hate.json()['id']}", headers=bob.headers).status_code == 204
    stats = api.get(f"/api/v1/videos/{video_id}").json()["comments"]
    assert stats["count"] == 4 and stats["mean_sentiment"] > 0


def test_who_may_comment_where(api, factory):
    creator = factory.user("shopper", "creator")
    shopper = factory.user("shopper")
    draft = make_video(factory, creator, publish=False)
    is_problem(api.post(f"/api/v1/videos/{draft}/comments", json={"text": "hi"}), 401)
    is_problem(_comment(api, shopper, draft, "first!"), 404)  # not published: not there for others
    is_problem(_comment(api, creator, draft, "note to self"), 409)
    video_id = make_video(factory, creator)
    is_problem(_comment(api, shopper, video_id, "   "), 422)
    is_problem(_comment(api, shopper, video_id, "x" * 1001), 422)
    is_problem(_comment(api, shopper, video_id, "reply", parent_id="cmt_01M8000000000000000000000A"), 422)
    blocked = is_problem(_comment(api, shopper, video_id, "click my bio for FREE iPhone"), 422)
    assert blocked["reason"] == "blocked-word"
    assert is_problem(_comment(api, shopper, video_id, "k y s"), 422)["reason"] == "blocked-word"
    assert _comment(api, shopper, video_id, "\u202eevil\u202c text").json()["text"] == "evil text"


def test_a_comment_flood_is_rate_limited(api, factory):
    creator = factory.user("shopper", "creator")
    spammer = factory.user("shopper")
    video_id = make_video(factory, creator)
    codes = [_comment(api, spammer, video_id, f"buy #{i}").status_code for i in range(12)]
    assert codes[:10] == [201] * 10 and codes[10:] == [429, 429]
    assert api.get(f"/api/v1/videos/{video_id}").json()["comments"]["count"] == 10


def test_reports_and_moderation_are_recorded(api, factory, db):
    creator = factory.user("shopper", "creator")
    ann, bob = factory.user("shopper"), factory.user("shopper")
    moderator = factory.user("moderator")
    video_id = make_video(factory, creator)
    rude = _comment(api, ann, video_id, "This shop is run by clowns").json()
    nice = _comment(api, bob, video_id, "love it").json()

    for _ in range(2):  # a second report by the same person changes nothing
        resp = api.post(
            f"/api/v1/comments/{rude['id']}/reports", json={"reason": "insulting"}, headers=bob.headers
        )
        assert resp.status_code == 202
    queue = api.get("/api/v1/moderation/comments", headers=moderator.headers).json()["items"]
    assert [c["id"] for c in queue] == [rude["id"]]
    is_problem(api.get("/api/v1/moderation/comments", headers=bob.headers), 403)

    is_problem(
        api.post(
            f"/api/v1/comments/{rude['id']}/moderation",
            json={"action": "remove", "reason": "insult"},
            headers=bob.headers,
        ),
        403,
    )
    resp = api.post(
        f"/api/v1/comments/{rude['id']}/moderation",
        json={"action": "remove", "reason": "Insults the merchant (rule 3)"},
        headers=moderator.headers,
    )
    assert resp.json() == {"id": rude["id"], "state": "removed"}
    # The video's creator may hide comments under their own video too.
    resp = api.post(
        f"/api/v1/comments/{nice['id']}/moderation",
        json={"action": "remove", "reason": "off topic"},
        headers=creator.headers,
    )
    assert resp.status_code == 200
    assert api.get(f"/api/v1/videos/{video_id}/comments").json()["items"] == []
    assert api.get(f"/api/v1/videos/{video_id}").json()["comments"] == {"count": 0, "mean_sentiment": None}
    resp = api.post(
        f"/api/v1/comments/{nice['id']}/moderation",
        json={"action": "restore", "reason": "my mistake"},
        headers=creator.headers,
    )
    assert api.get(f"/api/v1/videos/{video_id}").json()["comments"]["count"] == 1

    with db.read() as s:
        log = [
            (a.subject_id, a.action, a.actor_id, a.actor_role, a.reason)
            for a in s.scalars(select(ModerationAction).order_by(ModerationAction.id))
        ]
    assert log == [
        (rude["id"], "remove", moderator.id, "moderator", "Insults the merchant (rule 3)"),
        (nice["id"], "remove", creator.id, "owner", "off topic"),
        (nice["id"], "restore", creator.id, "owner", "my mistake"),
    ]
