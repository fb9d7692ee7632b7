"""Flash sales end to end (created, priced, claimed, given back on cancellation, ended) and the EU
lowest-30-day price next to a reduced price."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from etalage.db import utcnow
from etalage.promotions import prices
from etalage.promotions.models import FlashSale, PriceChange
from tests.commerce.helpers import buy


def _price(api, variant_id, region="BE"):  # type: ignore[no-untyped-def]
    r = api.get("/api/v1/prices", params={"region": region, "variant_id": variant_id})
    assert r.status_code == 200, r.text
    return r.json()[0]


def test_a_flash_sale_prices_checkout_and_its_units_come_back_on_cancellation(api, factory, psp, db):
    shop = factory.verified_merchant()
    product = factory.product(shop, prices={"BE": 2_000}, stock=10)
    url = f"/api/v1/merchants/{shop.merchant_id}/flash-sales"
    ends = (utcnow() + timedelta(hours=1)).isoformat()
    body = {
        "variant_id": product["variant_id"],
        "region_code": "BE",
        "price": 1_500,
        "quantity": 2,
        "ends_at": ends,
    }
    r = api.post(url, json=body, headers=shop.headers)
    assert r.status_code == 201, r.text
    sale = r.json()
    assert sale["left"] == 2 and sale["status"] == "active"
    assert api.post(url, json=body, headers=shop.headers).status_code == 409  # overlapping sale
    for bad in ({**body, "price": 2_000}, {**body, "price": 0}, {**body, "quantity": 0}, {**body, "quantity": -1},
                {**body, "region_code": "US"}, {**body, "ends_at": (utcnow() - timedelta(hours=1)).isoformat()}):  # fmt: skip
        assert api.post(url, json=bad, headers=shop.headers).status_code == 422, bad
    other = factory.verified_merchant()
    assert (
        api.post(
            f"/api/v1/merchants/{other.merchant_id}/flash-sales", json=body, headers=other.headers
        ).status_code
        == 404
    )

    seen = _price(api, product["variant_id"])
    assert seen["price"]["amount"] == 1_500 and seen["regular_price"]["amount"] == 2_000 and seen["reduced"]
    assert seen["lowest_price_30d"]["amount"] == 2_000  # BE is in the EU: the prior price is shown
    assert seen["flash_sale"]["left"] == 2
    public = api.get(f"/api/v1/products/{product['product_id']}", params={"region": "BE"}).json()
    public = public["variants"][0]
    assert public["price"]["amount"] == 1_500 and public["regular_price"]["amount"] == 2_000
    assert public["lowest_price_30d"]["amount"] == 2_000 and public["sale_left"] == 2

    shopper = factory.shopper("BE", psp=psp)
    r = buy(api, shopper, product["variant_id"], 2, expected_unit_amount=1_500)
    assert r.status_code == 201, r.text
    order = r.json()["orders"][0]
    assert order["lines"][0]["unit_price"]["amount"] == 1_500
    assert (
        _price(api, product["variant_id"])["price"]["amount"] == 2_000
    )  # sold out: back to the regular price
    c = api.post(
        f"/api/v1/orders/{order['id']}/cancel", json={}, headers={**shopper.headers, "Idempotency-Key": "c"}
    )
    assert c.status_code == 200, c.text
    with db.read() as s:
        assert s.scalar(select(FlashSale.sold).where(FlashSale.id == sale["id"])) == 0
    assert _price(api, product["variant_id"])["price"]["amount"] == 1_500

    end = api.post(f"{url}/{sale['id']}/end", json={"reason": "stock needed elsewhere"}, headers=shop.headers)
    assert end.status_code == 200 and end.json()["status"] == "ended"
    assert api.get(url, headers=shop.headers).json()["items"][0]["status"] == "ended"
    assert _price(api, product["variant_id"])["reduced"] is False


def test_price_history_is_kept_and_a_lowered_price_shows_the_lowest_of_30_days(api, factory, db):
    shop = factory.verified_merchant(regions=("BE", "US"))
    product = factory.product(shop, prices={"BE": 3_000, "US": 3_000})
    vid = product["variant_id"]
    set_url = f"/api/v1/merchants/{shop.merchant_id}/variants/{vid}/prices/BE"
    with db.session() as s:  # what it cost before: 25.00 two months ago, 28.00 for the last 20 days
        now = utcnow()
        s.query(PriceChange).filter_by(variant_id=vid).delete()
        prices.record_price(s, vid, "BE", 2_500, "EUR", at=now - timedelta(days=60))
        prices.record_price(s, vid, "BE", 2_800, "EUR", at=now - timedelta(days=20))
        prices.record_price(s, vid, "BE", 3_000, "EUR", at=now - timedelta(days=5))
    r = api.put(set_url, json={"amount": 2_700, "currency": "EUR"}, headers=shop.headers)
    assert r.status_code in (200, 201), r.text
    seen = _price(api, vid)
    assert seen["price"]["amount"] == 2_700 and seen["reduced"]
    # In the 30 days before the reduction it cost 25.00 (until day 20), 28.00, then 30.00: the lowest is 25.00.
    assert seen["lowest_price_30d"]["amount"] == 2_500
    with db.read() as s:
        assert [a for (a,) in s.execute(select(PriceChange.amount).where(PriceChange.variant_id == vid,
                PriceChange.region_code == "BE").order_by(PriceChange.effective_from))] == [2_500, 2_800, 3_000, 2_700]  # fmt: skip
    us = _price(api, vid, "US")
    assert us["lowest_price_30d"] is None and us["reduced"] is False  # not an EU region, not reduced
    assert api.get("/api/v1/prices", params={"region": "XX", "variant_id": vid}).status_code == 422


def test_a_cart_shows_and_checks_out_at_the_flash_price_and_tells_when_the_sale_ends(api, factory, psp, db):
    """The cart prices lines as checkout does: during a sale the line, the cart and the order carry the flash
    price; once it ends, checkout reports the change and the cart shows the new price to accept."""
    import uuid

    shop = factory.verified_merchant()
    product = factory.product(shop, prices={"BE": 2_000}, stock=10)
    url = f"/api/v1/merchants/{shop.merchant_id}/flash-sales"
    sale = api.post(url, json={"variant_id": product["variant_id"], "region_code": "BE", "price": 1_500,
                               "quantity": 5, "ends_at": (utcnow() + timedelta(hours=1)).isoformat()},
                    headers=shop.headers)  # fmt: skip
    assert sale.status_code == 201, sale.text
    shopper = factory.shopper("BE", psp=psp)
    line = f"/api/v1/cart/lines/{product['variant_id']}"
    assert api.put(line, json={"quantity": 2}, headers=shopper.headers).status_code == 200
    cart = api.get("/api/v1/cart", headers=shopper.headers).json()
    assert cart["lines"][0]["unit_price"]["amount"] == 1_500 and cart["lines"][0]["current_price"]["amount"] == 1_500
    assert cart["subtotal"]["amount"] == 3_000
    r = api.post("/api/v1/cart/checkout", json={}, headers={**shopper.headers, "Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 201, r.text
    assert r.json()["orders"][0]["lines"][0]["unit_price"]["amount"] == 1_500

    assert api.put(line, json={"quantity": 1}, headers=shopper.headers).status_code == 200  # at 15.00 again
    end = api.post(f"{url}/{sale.json()['id']}/end", json={"reason": "over"}, headers=shop.headers)
    assert end.status_code == 200, end.text
    r = api.post("/api/v1/cart/checkout", json={}, headers={**shopper.headers, "Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 409 and r.json()["changes"][0]["now"]["amount"] == 2_000, r.text
    cart = api.get("/api/v1/cart", headers=shopper.headers).json()
    assert cart["lines"][0]["unit_price"]["amount"] == 1_500 and cart["lines"][0]["current_price"]["amount"] == 2_000
