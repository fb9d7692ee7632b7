"""Verified-purchase reviews over HTTP: only the buyer of a delivered order, one per order line, photos
checked like product images, one merchant reply, reports and moderation, quality signals."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select

from etalage.reviews import service
from etalage.reviews.models import Review, ReviewEvent
from tests.fulfilment.helpers import delivered_order, paid_order


def _png(size=(64, 48)) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def _count(db) -> int:  # type: ignore[no-untyped-def]
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Review)) or 0


def test_a_buyer_reviews_a_delivered_item_with_a_photo_and_the_shop_replies_once(api, factory, psp, db):
    merchant, shopper, product, order = delivered_order(api, factory, psp)
    url = f"/api/v1/orders/{order['id']}/reviews"
    r = api.post(
        url,
        json={"variant_id": product["variant_id"], "rating": 4, "text": "Fits well"},
        headers=shopper.headers,
    )
    assert r.status_code == 201, r.text
    review = r.json()
    assert review["rating"] == 4 and review["verified_purchase"] and review["reply"] is None
    again = api.post(url, json={"variant_id": product["variant_id"], "rating": 1}, headers=shopper.headers)
    assert again.status_code == 409 and again.json()["type"].endswith("/already-reviewed")

    photo = api.post(f"/api/v1/reviews/{review['id']}/photos", files={"file": ("p.png", _png(), "image/png")},
                     headers=shopper.headers)  # fmt: skip
    assert photo.status_code == 201, photo.text
    (p,) = photo.json()["photos"]
    served = api.get(p["url"])
    assert served.status_code == 200 and served.content[:3] == b"\xff\xd8\xff"  # re-encoded as JPEG
    bad = api.post(f"/api/v1/reviews/{review['id']}/photos", files={"file": ("x.png", b"not an image", "image/png")},
                   headers=shopper.headers)  # fmt: skip
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")

    reply_url = f"/api/v1/merchants/{merchant.merchant_id}/reviews/{review['id']}/reply"
    rep = api.post(reply_url, json={"text": "Thank you!"}, headers=merchant.headers)
    assert rep.status_code == 200 and rep.json()["reply"]["text"] == "Thank you!"
    assert api.post(reply_url, json={"text": "Again"}, headers=merchant.headers).status_code == 409
    other = factory.verified_merchant()
    other_url = f"/api/v1/merchants/{other.merchant_id}/reviews/{review['id']}/reply"
    assert api.post(other_url, json={"text": "Not mine"}, headers=other.headers).status_code == 404

    page = api.get(f"/api/v1/products/{product['product_id']}/reviews").json()
    assert [x["id"] for x in page["items"]] == [review["id"]] and page["items"][0]["reply"][
        "text"
    ] == "Thank you!"
    q = api.get(f"/api/v1/products/{product['product_id']}/quality").json()
    assert (
        q["ratings"] == 1 and q["average_rating"] == 4.0 and q["low_rating_share"] == 0.0 and q["orders"] == 1
    )
    with db.read() as s:
        assert service.rating_counts(s, [product["product_id"]]) == {product["product_id"]: (1, 0)}
        actions = [e.action for e in s.scalars(select(ReviewEvent).order_by(ReviewEvent.id))]
    assert actions == ["written", "replied"]


def test_only_buyers_of_delivered_orders_may_review(api, factory, psp, db):
    merchant, shopper, product, order = paid_order(api, factory, psp)
    url = f"/api/v1/orders/{order['id']}/reviews"
    body = {"variant_id": product["variant_id"], "rating": 5, "text": "Great"}
    r = api.post(url, json=body, headers=shopper.headers)
    assert r.status_code == 409 and r.json()["type"].endswith("/not-delivered-yet"), r.text
    stranger = factory.shopper("BE", psp=psp)
    assert api.post(url, json=body, headers=stranger.headers).status_code == 404  # did not buy it
    assert api.post(url, json=body, headers=merchant.headers).status_code in (403, 404)
    for bad in ({**body, "rating": 0}, {**body, "rating": 6}, {**body, "rating": "five"}, {**body, "text": "x" * 2001},
                {**body, "variant_id": "var_01M8000000000000000000000A"}, {**body, "extra": 1}, {"rating": 3}):  # fmt: skip
        resp = api.post(url, json=bad, headers=shopper.headers)
        assert resp.status_code in (404, 409, 422), (bad, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
    assert _count(db) == 0


def test_reports_and_moderation_hide_a_review_and_the_signals_follow(api, factory, psp, db):
    merchant, shopper, product, order = delivered_order(api, factory, psp)
    r = api.post(f"/api/v1/orders/{order['id']}/reviews", json={"variant_id": product["variant_id"], "rating": 1,
                 "text": "Broke on day one"}, headers=shopper.headers)  # fmt: skip
    review_id = r.json()["id"]
    q = api.get(f"/api/v1/merchants/{merchant.merchant_id}/quality").json()
    assert q["ratings"] == 1 and q["low_rating_share"] == 1.0 and q["average_rating"] == 1.0
    reporter = factory.user()
    rep = api.post(
        f"/api/v1/reviews/{review_id}/reports", json={"reason": "insulting"}, headers=reporter.headers
    )
    assert rep.status_code == 202, rep.text
    assert (
        api.post(
            f"/api/v1/reviews/{review_id}/reports", json={"reason": "again"}, headers=reporter.headers
        ).status_code
        == 409
    )
    assert (
        api.post(
            f"/api/v1/reviews/{review_id}/reports", json={"reason": "mine"}, headers=shopper.headers
        ).status_code
        == 403
    )
    mod_url = f"/api/v1/moderation/reviews/{review_id}"
    assert (
        api.post(mod_url, json={"action": "remove", "reason": "abuse"}, headers=reporter.headers).status_code
        == 403
    )
    mod = factory.moderator()
    done = api.post(mod_url, json={"action": "remove", "reason": "insulting language"}, headers=mod.headers)
    assert done.status_code == 200 and done.json()["status"] == "removed"
    assert api.get(f"/api/v1/products/{product['product_id']}/reviews").json()["items"] == []
    assert api.get(f"/api/v1/products/{product['product_id']}/quality").json()["ratings"] == 0
    assert (
        api.post(mod_url, json={"action": "remove", "reason": "twice"}, headers=mod.headers).status_code
        == 409
    )
    assert (
        api.post(
            mod_url, json={"action": "restore", "reason": "appeal upheld"}, headers=mod.headers
        ).status_code
        == 200
    )


def test_reviews_page_by_cursor(api, factory, psp):
    merchant = factory.verified_merchant()
    product = factory.product(merchant, stock=10)
    ids = []
    from tests.commerce.helpers import buy
    from tests.fulfilment.helpers import deliver, ship

    for i in range(3):
        shopper = factory.shopper("BE", psp=psp)
        order = buy(api, shopper, product["variant_id"]).json()["orders"][0]
        assert deliver(api, merchant, ship(api, merchant, order["id"]).json()["id"]).status_code == 200
        r = api.post(f"/api/v1/orders/{order['id']}/reviews", json={"variant_id": product["variant_id"], "rating": 3 + i},
                     headers=shopper.headers)  # fmt: skip
        ids.append(r.json()["id"])
    first = api.get(f"/api/v1/products/{product['product_id']}/reviews", params={"limit": 2}).json()
    second = api.get(f"/api/v1/products/{product['product_id']}/reviews",
                     params={"limit": 2, "cursor": first["next_cursor"]}).json()  # fmt: skip
    assert [x["id"] for x in first["items"] + second["items"]] == ids[::-1] and second["next_cursor"] is None
    assert (
        api.get(f"/api/v1/products/{product['product_id']}/reviews", params={"cursor": "junk!"}).status_code
        == 400
    )
