"""Notice → queue → decision with a statement of reasons → appeal, over real HTTP, for a video (which must
leave the feed and the API at once) and the other kinds of target."""

from __future__ import annotations

import pytest

from etalage.content import live_chat, media
from etalage.content import service as content
from etalage.core import bus
from etalage.core.ratelimit import MemoryRateLimiter
from tests.compliance.helpers import ILLEGAL, decide, notice, problem
from tests.factories import make_room, make_video

needs_ffmpeg = pytest.mark.skipif(not media.ffmpeg_available(), reason="ffmpeg/ffprobe not installed")


@needs_ffmpeg
def test_notice_decision_and_appeal_on_a_video(api, factory, db):
    creator = factory.user("shopper", "creator")
    reporter, other = factory.user("shopper"), factory.user("shopper")
    mod_a, mod_b = factory.user("moderator"), factory.user("moderator")
    video_id = make_video(factory, creator, caption="Miracle pills #cure")

    first = notice(
        api, reporter, "video", video_id, "illegal_product", legal_reference="EU 2017/745", **ILLEGAL
    )
    assert first.status_code == 201, first.text
    n = first.json()
    assert (
        n["status"] == "open"
        and n["id"].startswith("ntc_")
        and n["illegal_claim"]
        and n["receipt_token"] is None
    )
    again = notice(api, reporter, "video", video_id, "illegal_product", explanation="Still on sale today, "
                   "please act on it quickly.", good_faith=True)  # fmt: skip
    assert again.status_code == 200 and again.json()["merged"] and again.json()["id"] == n["id"]
    assert again.json()["submissions"] == 2
    anon = notice(api, None, "video", video_id, "scam", contact_email="Anon@Example.org", contact_name="A. Non",
                  **ILLEGAL)  # fmt: skip
    assert anon.status_code == 201 and anon.json()["receipt_token"]
    terms = notice(api, other, "video", video_id, "other", explanation="spammy")
    assert terms.status_code == 201 and not terms.json()["illegal_claim"]

    problem(api.get("/api/v1/moderation/queue", headers=reporter.headers), 403)
    queue = api.get("/api/v1/moderation/queue", params={"order": "severity"}, headers=mod_a.headers).json()
    [case] = [c for c in queue["items"] if c["target"]["id"] == video_id]
    assert case["open_notices"] == 3 and case["categories"] == {"illegal_product": 1, "scam": 1, "other": 1}
    assert case["severity"] == 2 and case["preview"]["text"] == "Miracle pills #cure"
    assert case["preview"]["author_id"] == creator.id and case["preview"]["state"] == "published"
    detail = api.get(f"/api/v1/moderation/cases/{case['id']}", headers=mod_a.headers).json()
    assert len(detail["notices"]) == 3 and "Anon@Example.org".lower() not in str(detail).lower()
    assert api.post(f"/api/v1/moderation/cases/{case['id']}/claim", headers=mod_a.headers).status_code == 200
    problem(api.post(f"/api/v1/moderation/cases/{case['id']}/claim", headers=mod_b.headers), 409)

    problem(decide(api, mod_b, "video", video_id, "remove"), 409)  # mod_a is on it
    removed: list[dict] = []
    listener = lambda _t, p: removed.append(p)  # noqa: E731
    bus.subscribe("content.video.removed", listener)
    try:
        made = decide(
            api, mod_a, "video", video_id, "remove", ground="illegal", legal_reference="EU 2017/745 Art. 5"
        )
    finally:
        bus.unsubscribe("content.video.removed", listener)
    assert made.status_code == 201, made.text
    statement = made.json()
    decision_id = statement["id"]
    assert (
        statement["status"] == "in_force"
        and statement["source"] == "notice"
        and statement["notice_count"] == 3
    )
    assert statement["enacted"]["after"] == "removed" and statement["affected_user_id"] == creator.id
    # the video left everything at once: the API, the published list the feed reads, the bus
    assert [p["video_id"] for p in removed] == [video_id]
    assert api.get(f"/api/v1/videos/{video_id}").status_code == 404
    with db.read() as s:
        assert video_id not in content.published_video_ids(s)
    # the notifiers see the outcome; the anonymous one with the receipt token
    seen = api.get(f"/api/v1/notices/{n['id']}", headers=reporter.headers).json()
    assert seen["status"] == "decided" and seen["decision"]["action"] == "remove" and seen["redress"]
    token = anon.json()["receipt_token"]
    assert (
        api.get(f"/api/v1/notices/{anon.json()['id']}", params={"receipt_token": token}).json()["status"]
        == "decided"
    )
    problem(api.get(f"/api/v1/notices/{anon.json()['id']}", params={"receipt_token": "wrong"}), 404)
    problem(api.get(f"/api/v1/notices/{n['id']}", headers=other.headers), 404)
    # the creator reads the statement of reasons and appeals it
    mine = api.get("/api/v1/me/decisions", headers=creator.headers).json()["items"]
    assert [d["id"] for d in mine] == [decision_id] and mine[0]["legal_reference"] == "EU 2017/745 Art. 5"
    assert "appeal" in mine[0]["redress"] and mine[0]["enacted"] is None
    stranger = factory.user("shopper")
    problem(api.post(f"/api/v1/decisions/{decision_id}/appeals", json={"statement": "I am not involved at all."},
                     headers=stranger.headers), 404)  # fmt: skip
    appeal = api.post(f"/api/v1/decisions/{decision_id}/appeals",
                      json={"statement": "These are vitamins, legally sold; see the label."}, headers=creator.headers)  # fmt: skip
    assert appeal.status_code == 201, appeal.text
    problem(api.post(f"/api/v1/decisions/{decision_id}/appeals", json={"statement": "Once more, please look."},
                     headers=creator.headers), 409)  # fmt: skip
    appeal_id = appeal.json()["id"]
    queue = api.get("/api/v1/moderation/appeals", headers=mod_b.headers).json()["items"]
    assert [a["id"] for a in queue] == [appeal_id] and queue[0]["decision"]["id"] == decision_id
    verdict = {"outcome": "reversed", "reason": "The label shows a food supplement, not a medical device."}
    own = problem(
        api.post(f"/api/v1/moderation/appeals/{appeal_id}/decision", json=verdict, headers=mod_a.headers), 403
    )
    assert "own decision" in own["detail"]
    done = api.post(f"/api/v1/moderation/appeals/{appeal_id}/decision", json=verdict, headers=mod_b.headers)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "reversed" and done.json()["restored"] == {
        "restored": True,
        "state": "published",
    }
    assert api.get(f"/api/v1/videos/{video_id}").status_code == 200
    assert api.get(f"/api/v1/decisions/{decision_id}", headers=creator.headers).json()["status"] == "reversed"
    assert api.get(f"/api/v1/notices/{n['id']}", headers=reporter.headers).json()["decision"]["reversed"]
    problem(
        api.post(f"/api/v1/moderation/appeals/{appeal_id}/decision", json=verdict, headers=mod_b.headers), 409
    )
    history = api.get(f"/api/v1/videos/{video_id}/history", headers=creator.headers).json()
    assert [h["to_state"] for h in history][-2:] == ["removed", "published"]


def test_products_chat_rooms_and_merchants(api, factory, db):
    shop = factory.verified_merchant()
    item = factory.product(shop)
    shopper, mod_a, mod_b = factory.user("shopper"), factory.user("moderator"), factory.user("moderator")
    product_id = item["product_id"]

    # a product: blocked (off sale, and its merchant cannot put it back), then restored on appeal
    assert notice(api, shopper, "product", product_id, "counterfeit", **ILLEGAL).status_code == 201
    made = decide(
        api, mod_a, "product", product_id, "remove", ground="illegal", legal_reference="EU 2017/1001 Art. 9"
    )
    assert made.status_code == 201, made.text
    assert api.get(f"/api/v1/products/{product_id}", params={"region": "BE"}).status_code == 404
    patch = api.patch(f"/api/v1/merchants/{shop.merchant_id}/products/{product_id}", json={"status": "active"},
                      headers=shop.headers)  # fmt: skip
    assert problem(patch, 409)["status_now"] == "blocked"
    mine = api.get(
        "/api/v1/me/decisions", params={"merchant_id": shop.merchant_id}, headers=shop.headers
    ).json()
    assert [d["id"] for d in mine["items"]] == [made.json()["id"]]
    appeal = api.post(f"/api/v1/decisions/{made.json()['id']}/appeals", json={"statement": "We are the brand owner."},
                      headers=shop.headers).json()  # fmt: skip
    out = api.post(f"/api/v1/moderation/appeals/{appeal['id']}/decision", headers=mod_b.headers,
                   json={"outcome": "reversed", "reason": "The trader showed its trademark registration."})  # fmt: skip
    assert out.json()["restored"] == {"restored": True, "state": "active"}
    assert api.get(f"/api/v1/products/{product_id}", params={"region": "BE"}).status_code == 200

    # a live chat message: removed and its author banned from chatting in the room, undone on appeal
    host = factory.user("shopper", "creator")
    room_id = make_room(factory, host)
    chatter = factory.user("shopper")
    message = live_chat.post_chat(
        db, chatter.principal, room_id, "buy fake watches at my site", MemoryRateLimiter()
    )
    assert notice(api, shopper, "live_message", message["id"], "scam", **ILLEGAL).status_code == 201
    problem(decide(api, mod_a, "live_message", message["id"], "suspend_merchant"), 422)  # a creator's room
    made = decide(api, mod_a, "live_message", message["id"], "ban_from_live", duration_days=7)
    assert made.status_code == 201 and made.json()["ends_at"] is not None
    assert made.json()["enacted"]["muted_user_id"] == chatter.id
    texts = [m["text"] for m in api.get(f"/api/v1/live/rooms/{room_id}/messages").json()["items"]]
    assert "buy fake watches at my site" not in texts
    appeal = api.post(f"/api/v1/decisions/{made.json()['id']}/appeals", json={"statement": "It was a joke, sorry."},
                      headers=chatter.headers).json()  # fmt: skip
    out = api.post(f"/api/v1/moderation/appeals/{appeal['id']}/decision", headers=mod_b.headers,
                   json={"outcome": "upheld", "reason": "Advertising counterfeits is not a joke here."}).json()  # fmt: skip
    assert out["status"] == "upheld" and out["restored"] == {}

    # a merchant: suspended (it stops selling), reinstated on appeal
    made = decide(api, mod_a, "merchant", shop.merchant_id, "suspend_merchant")
    assert made.status_code == 201, made.text
    trader = api.get(f"/api/v1/merchants/{shop.merchant_id}/trader-profile", headers=shop.headers)
    assert trader.json()["status"] == "suspended"
    assert api.get(f"/api/v1/products/{product_id}", params={"region": "BE"}).status_code == 404
    appeal = api.post(f"/api/v1/decisions/{made.json()['id']}/appeals", json={"statement": "Please review again."},
                      headers=shop.headers).json()  # fmt: skip
    out = api.post(f"/api/v1/moderation/appeals/{appeal['id']}/decision", headers=mod_b.headers,
                   json={"outcome": "reversed", "reason": "Suspended by mistake for another shop."}).json()  # fmt: skip
    assert out["restored"] == {"restored": True, "state": "verified"}
    assert api.get(f"/api/v1/products/{product_id}", params={"region": "BE"}).status_code == 200

    # a "no action" reversed on the notifier's appeal reopens the notices
    room_notice = notice(api, shopper, "live_room", room_id, "hate_speech", **ILLEGAL).json()
    made = decide(api, mod_a, "live_room", room_id, "no_action").json()
    assert made["ground"] is None and made["restriction"] == "no restriction"
    appeal = api.post(f"/api/v1/decisions/{made['id']}/appeals", json={"statement": "Listen from minute 3 on."},
                      headers=shopper.headers).json()  # fmt: skip
    assert appeal["appellant_role"] == "notifier"
    api.post(f"/api/v1/moderation/appeals/{appeal['id']}/decision", headers=mod_b.headers,
             json={"outcome": "reversed", "reason": "The host insults a group at 3:10."})  # fmt: skip
    assert api.get(f"/api/v1/notices/{room_notice['id']}", headers=shopper.headers).json()["status"] == "open"
    queue = api.get("/api/v1/moderation/queue", params={"kind": "live_room"}, headers=mod_a.headers).json()
    assert [c["target"]["id"] for c in queue["items"]] == [room_id]
    ended = decide(
        api, mod_b, "live_room", room_id, "remove", ground="illegal", legal_reference="Penal code 20"
    )
    assert ended.status_code == 201 and ended.json()["notice_count"] == 1
    assert api.get(f"/api/v1/live/rooms/{room_id}").json()["state"] == "ended"
