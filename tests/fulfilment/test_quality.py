"""The after-sale quality signals the feed reads: orders, returns and ratings per product."""

from __future__ import annotations

from etalage.feed.quality import AfterSaleProvider
from etalage.fulfilment import service
from tests.fulfilment.helpers import delivered_order, paid_order


def test_product_quality_counts_orders_and_returns_as_the_feed_expects(api, factory, psp, db):
    merchant, shopper, product, order = delivered_order(api, factory, psp, quantity=2)
    paid_order(
        api, factory, psp, merchant=merchant, shopper=factory.shopper("BE", psp=psp)
    )  # another product
    body = {"lines": [{"variant_id": product["variant_id"], "quantity": 1}], "reason": "colour differs"}
    assert (
        api.post(f"/api/v1/orders/{order['id']}/returns", json=body, headers=shopper.headers).status_code
        == 201
    )
    review = {"variant_id": product["variant_id"], "rating": 2, "text": "runs small"}
    r = api.post(f"/api/v1/orders/{order['id']}/reviews", json=review, headers=shopper.headers)
    assert r.status_code == 201, r.text  # reviews (another domain) answer ratings through rating_counts
    unknown = "prd_01M8000000000000000000000A"
    with db.read() as s:
        q = service.product_quality(s, [product["product_id"], unknown])
        assert unknown not in q
        got = q[product["product_id"]]
        assert (got.orders, got.returns, got.ratings, got.low_ratings) == (1, 1, 1, 1)
        feed_view = AfterSaleProvider().product_quality(s, [product["product_id"]])
    seen = feed_view[product["product_id"]]
    assert (seen.orders, seen.returns, seen.ratings, seen.low_ratings) == (1.0, 1.0, 1.0, 1.0)
