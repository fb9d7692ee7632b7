"""Vouchers at checkout: the discount, VAT on the discounted price, who funds it, limits, and every kind
of bad code answered with a problem that changes nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from etalage.commerce.models import Order
from etalage.db import utcnow
from etalage.promotions import service
from etalage.promotions.models import Voucher, VoucherRedemption
from tests.commerce.helpers import buy
from tests.promotions.helpers import voucher


def _counts(db):  # type: ignore[no-untyped-def]
    with db.read() as s:
        return (
            s.scalar(select(func.count()).select_from(Order)),
            s.scalar(select(func.count()).select_from(VoucherRedemption)),
            s.scalar(select(func.coalesce(func.sum(Voucher.used_count), 0))),
        )


def test_a_percent_voucher_takes_off_before_vat_and_is_recorded(api, factory, psp, db):
    shop = factory.verified_merchant()
    product = factory.product(shop, prices={"BE": 10_000})  # 100.00 EUR incl. 21 % VAT
    vid = voucher(factory, shop, "TENOFF", percent=10)
    shopper = factory.shopper("BE", psp=psp)
    r = buy(api, shopper, product["variant_id"], voucher_code="tenoff")
    assert r.status_code == 201, r.text
    order = r.json()["orders"][0]
    assert order["subtotal"]["amount"] == 10_000 and order["discount"]["amount"] == 1_000
    assert order["lines"][0]["total"]["amount"] == 9_000
    # VAT is on the discounted price: 90.00 gross at 21 % holds 15.62 of VAT (shipping's VAT on top).
    shipping = order["shipping"]["amount"]
    assert order["total"]["amount"] == 9_000 + shipping
    line_vat = order["lines"][0]["tax"]["amount"]
    assert line_vat == round(9_000 * 2100 / 12_100)
    assert r.json()["payment"]["amount"]["amount"] == order["total"]["amount"]
    with db.read() as s:
        (d,) = service.discounts_for_order(s, order["id"])
    assert (d.voucher_id, d.amount, d.currency, d.funded_by, d.merchant_id, d.released) == (
        vid, 1_000, "EUR", "merchant", shop.merchant_id, False,
    )  # fmt: skip


def test_a_platform_voucher_is_shared_over_the_shops_of_a_cart(api, factory, psp, db):
    a, b = factory.verified_merchant(), factory.verified_merchant()
    pa, pb = factory.product(a, prices={"BE": 3_000}), factory.product(b, prices={"BE": 1_000})
    voucher(factory, None, "PLATFORM8", amount=800, currency="EUR", min_spend=2_000)
    shopper = factory.shopper("BE", psp=psp)
    for p in (pa, pb):
        assert (
            api.put(
                f"/api/v1/cart/lines/{p['variant_id']}", json={"quantity": 1}, headers=shopper.headers
            ).status_code
            == 200
        )
    r = api.post("/api/v1/cart/checkout", json={"voucher_code": "PLATFORM8"},
                 headers={**shopper.headers, "Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 201, r.text
    by_shop = {o["merchant_id"]: o for o in r.json()["orders"]}
    assert (
        by_shop[a.merchant_id]["discount"]["amount"] == 600
        and by_shop[b.merchant_id]["discount"]["amount"] == 200
    )
    with db.read() as s:
        d = service.discounts_for_order(s, by_shop[a.merchant_id]["id"])
    assert [x.funded_by for x in d] == ["platform"]
    assert _counts(db)[2] == 1  # one checkout, one use


def test_a_us_order_taxes_the_discounted_net(api, factory, psp):
    shop = factory.verified_merchant(regions=("US",))
    product = factory.product(shop, prices={"US": 10_000}, stock={"US": 5})
    voucher(factory, shop, "US20", amount=2_000, currency="USD")
    shopper = factory.shopper("US", psp=psp)
    r = buy(api, shopper, product["variant_id"], voucher_code="US20")
    assert r.status_code == 201, r.text
    o = r.json()["orders"][0]
    assert o["lines"][0]["total"]["amount"] == 8_000
    assert o["total"]["amount"] == 8_000 + o["shipping"]["amount"] + o["tax"]["amount"]
    assert o["tax"]["amount"] == round(8_000 * o["lines"][0]["tax_rate_bp"] / 10_000)


def test_a_cancelled_order_gives_the_use_back(api, factory, psp, db):
    shop = factory.verified_merchant()
    product = factory.product(shop)
    vid = voucher(factory, shop, "ONCE", percent=5, per_user_limit=1, max_uses=1)
    shopper = factory.shopper("BE", psp=psp)
    r = buy(api, shopper, product["variant_id"], voucher_code="ONCE")
    assert r.status_code == 201, r.text
    order_id = r.json()["orders"][0]["id"]
    again = buy(api, shopper, product["variant_id"], voucher_code="ONCE")
    assert again.status_code == 409 and again.json()["type"].endswith("/voucher-used-up"), again.text
    c = api.post(
        f"/api/v1/orders/{order_id}/cancel", json={}, headers={**shopper.headers, "Idempotency-Key": "x1"}
    )
    assert c.status_code == 200, c.text
    with db.read() as s:
        assert s.scalar(select(Voucher.used_count).where(Voucher.id == vid)) == 0
        assert service.discounts_for_order(s, order_id)[0].released
    assert buy(api, shopper, product["variant_id"], voucher_code="ONCE").status_code == 201


def test_a_declined_payment_gives_the_use_back(api, factory, psp, db):
    shop = factory.verified_merchant()
    product = factory.product(shop)
    vid = voucher(factory, shop, "DECL", percent=5, max_uses=1)
    shopper = factory.shopper("BE", psp=psp, card="4000000000000002")
    r = buy(api, shopper, product["variant_id"], voucher_code="DECL")
    assert r.status_code == 402, r.text
    with db.read() as s:
        assert s.scalar(select(Voucher.used_count).where(Voucher.id == vid)) == 0


def test_bad_vouchers_are_clear_problems_and_write_nothing(api, factory, psp, db):
    shop, other = factory.verified_merchant(), factory.verified_merchant()
    product = factory.product(shop, prices={"BE": 1_000}, stock=20)
    factory.product(other)
    shopper = factory.shopper("BE", psp=psp)
    voucher(factory, shop, "TWICE", percent=10, per_user_limit=1)
    assert buy(api, shopper, product["variant_id"], voucher_code="TWICE").status_code == 201
    voucher(factory, shop, "MIN50", amount=100, currency="EUR", min_spend=5_000)
    voucher(factory, other, "OTHERSHOP", percent=10)
    voucher(factory, shop, "LATER", percent=10, starts_at=utcnow() + timedelta(days=1))
    voucher(factory, shop, "NLONLY", percent=10, region_code="NL")
    expired = voucher(factory, shop, "GONE", percent=10)
    with db.session() as s:
        v = s.get(Voucher, expired)
        v.starts_at, v.ends_at = utcnow() - timedelta(days=2), utcnow() - timedelta(seconds=1)
    before = _counts(db)
    cases = {
        "TWICE": (409, "voucher-limit-reached"),
        "MIN50": (422, "voucher-minimum-spend"),
        "OTHERSHOP": (422, "voucher-not-applicable"),
        "LATER": (422, "voucher-not-valid-now"),
        "NLONLY": (422, "voucher-not-applicable"),
        "GONE": (422, "voucher-not-valid-now"),
        "NOSUCHCODE": (422, "voucher-unknown"),
    }
    for code, (status, slug) in cases.items():
        r = buy(api, shopper, product["variant_id"], voucher_code=code)
        assert r.status_code == status, (code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"].endswith("/" + slug), (code, r.text)
    for junk in ("", "x", "a b c", "💥💥💥", "A" * 40):
        assert buy(api, shopper, product["variant_id"], voucher_code=junk).status_code == 422
    assert _counts(db) == before  # nothing half-written


def test_bad_voucher_definitions_are_refused(api, factory):
    shop = factory.verified_merchant()
    url = f"/api/v1/merchants/{shop.merchant_id}/vouchers"
    ends = (utcnow() + timedelta(days=1)).isoformat()
    good = {"code": "GOOD1", "percent": 10, "ends_at": ends}
    for bad in (
        {**good, "percent": 101},
        {**good, "percent": 0},
        {**good, "percent": None, "amount": -5, "currency": "EUR"},
        {**good, "percent": None, "amount": 0, "currency": "EUR"},
        {**good, "amount": 100, "currency": "EUR"},  # both
        {**good, "min_spend": -1},
        {**good, "per_user_limit": 0},
        {**good, "max_uses": -3},
        {**good, "ends_at": (utcnow() - timedelta(days=1)).isoformat()},
        {**good, "percent": None, "amount": 100},  # no currency
        {**good, "region_code": "NL", "currency": "USD"},
        {**good, "ends_at": "2030-01-01T00:00:00"},  # no zone
        {**good, "surprise": 1},
    ):
        r = api.post(url, json=bad, headers=shop.headers)
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert api.post(url, json=good, headers=shop.headers).status_code == 201
    r = api.post(url, json=good, headers=shop.headers)
    assert r.status_code == 409 and "taken" in r.json()["detail"]
    listed = api.get(url, headers=shop.headers).json()["items"]
    assert [v["code"] for v in listed] == ["GOOD1"] and listed[0]["status"] == "active"
    end = api.post(f"{url}/{listed[0]['id']}/end", json={"reason": "campaign over"}, headers=shop.headers)
    assert end.status_code == 200 and end.json()["status"] == "ended"
    assert api.post(f"{url}/{listed[0]['id']}/end", json={}, headers=shop.headers).status_code == 409
    # A shopper cannot make platform vouchers, nor another merchant's.
    assert api.post("/api/v1/admin/vouchers", json=good, headers=factory.user().headers).status_code == 403
    other = factory.verified_merchant()
    assert api.post(url, json={**good, "code": "X123"}, headers=other.headers).status_code == 404
