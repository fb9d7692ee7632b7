"""Creators' commissions over real HTTP: a purchase from a creator's video accrues the merchant's rate on the
price without VAT, a refund takes back its share, the merchant's own video earns nothing, delivery plus the
return window makes it payable, the admin pays it, and nobody else reads it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from etalage.affiliates import accrual
from etalage.core import jobs
from etalage.db import utcnow
from tests.commerce.helpers import buy
from tests.factories import make_video


def _setup(api, factory, psp, price=2420):  # type: ignore[no-untyped-def]
    merchant = factory.verified_merchant()
    product = factory.product(merchant, prices={"BE": price}, stock=10)
    creator = factory.user("shopper", "creator")
    video = make_video(factory, creator, products=[product["product_id"]])
    shopper = factory.shopper("BE", psp=psp)
    return merchant, product, creator, video, shopper


def _buy_from(api, shopper, product, video, quantity=1):  # type: ignore[no-untyped-def]
    r = buy(api, shopper, product["variant_id"], quantity, source={"video_id": video})
    assert r.status_code == 201, r.text
    return r.json()["orders"][0]


def _move(api, merchant, order_id, *steps):  # type: ignore[no-untyped-def]
    for step in steps:
        r = api.post(f"/api/v1/merchants/{merchant.merchant_id}/orders/{order_id}/transitions",
                     json={"to": step, "reason": f"{step} now"}, headers=merchant.headers)  # fmt: skip
        assert r.status_code == 200, r.text


def test_purchase_from_a_creators_video_accrues_then_refund_reverses_its_share(api, factory, psp, db):
    merchant, product, creator, video, shopper = _setup(api, factory, psp)
    base = f"/api/v1/merchants/{merchant.merchant_id}"
    r = api.put(f"{base}/commission-rates", json={"rate_bp": 1500, "reason": "launch offer"},
                headers=merchant.headers)  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["merchant_rate_bp"] == 1500
    assert (
        r.json()["changes"][0]["reason"] == "launch offer" and r.json()["changes"][0]["actor"] == merchant.id
    )

    order = _buy_from(api, shopper, product, video, quantity=2)
    mine = api.get("/api/v1/me/commissions", headers=creator.headers).json()["items"]
    assert len(mine) == 1
    c = mine[0]
    # 2 × 24.20 incl. 21 % VAT = 40.00 net; 15 % of it; shipping earns nothing
    assert (c["base_amount"], c["rate_bp"], c["amount"], c["status"]) == (4000, 1500, 600, "pending")
    assert (c["order_id"], c["video_id"], c["merchant_id"], c["currency"]) == (
        order["id"], video, merchant.merchant_id, "EUR")  # fmt: skip

    # The ledger moved the commission from the merchant's payable to the creators' account, balanced.
    journal = api.get(f"{base}/orders/{order['id']}/ledger", headers=merchant.headers).json()
    commission = [e for e in journal if e["kind"] == "commission"]
    assert len(commission) == 1
    assert {ln["account"]: ln["amount"] for ln in commission[0]["lines"]} == {
        "merchant_pending": 600, "creator_commissions_payable": -600}  # fmt: skip

    # A partial refund takes back the commission's share of what was refunded.
    total = order["total"]["amount"]
    r = api.post(f"{base}/orders/{order['id']}/refunds", json={"amount": {"amount": 1000, "currency": "EUR"},
                 "reason": "one was scratched"}, headers={**merchant.headers, "Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 202, r.text
    jobs.drain(db)
    c = api.get(f"/api/v1/commissions/{c['id']}", headers=creator.headers).json()
    assert c["reversed_amount"] == 600 * 1000 // total and c["net_amount"] == 600 - 600 * 1000 // total
    assert c["status"] == "pending"

    # Totals per video and per month; the merchant's liability to this creator.
    per_video = api.get("/api/v1/me/commissions/totals", headers=creator.headers).json()
    assert [(t["key"], t["orders"], t["pending"]) for t in per_video] == [(video, 1, c["net_amount"])]
    per_month = api.get("/api/v1/me/commissions/totals", params={"group": "month"}, headers=creator.headers)
    assert per_month.json()[0]["key"] == utcnow().strftime("%Y-%m")
    owed = api.get(f"{base}/commissions", headers=merchant.headers).json()
    assert [(o["creator_id"], o["pending"]) for o in owed] == [(creator.id, c["net_amount"])]

    # Delivered, then payable once the return window is over; the admin records the transfer.
    _move(api, merchant, order["id"], "fulfilling", "shipped", "delivered")
    with db.session() as s:
        assert accrual.make_payable_due(s, utcnow() + timedelta(days=13)) == 0
    with db.session() as s:
        assert accrual.make_payable_due(s, utcnow() + timedelta(days=15)) == 1
    assert api.get(f"/api/v1/commissions/{c['id']}", headers=creator.headers).json()["status"] == "payable"
    admin = factory.admin()
    pay = f"/api/v1/admin/creators/{creator.id}/commission-payments"
    assert api.post(pay, json={"reference": "SEPA-9"}, headers=merchant.headers).status_code == 403
    paid = api.post(pay, json={"reference": "SEPA-9"}, headers=admin.headers).json()
    assert paid == [
        {"creator_id": creator.id, "currency": "EUR", "commissions": 1, "amount": c["net_amount"]}
    ]
    assert api.get(f"/api/v1/commissions/{c['id']}", headers=creator.headers).json()["status"] == "paid"
    tb = api.get("/api/v1/admin/ledger/trial-balance", headers=admin.headers).json()
    assert tb["balanced"] is True


def test_full_refund_reverses_all_and_a_replayed_payment_accrues_once(api, factory, psp, db):
    merchant, product, creator, video, shopper = _setup(api, factory, psp)
    order = _buy_from(api, shopper, product, video)
    c = api.get("/api/v1/me/commissions", headers=creator.headers).json()["items"][0]
    assert (c["base_amount"], c["rate_bp"], c["amount"]) == (2000, 1000, 200)  # the BE platform default
    from etalage.core import bus

    with db.session() as s:  # the same order.paid again (a replay) adds nothing
        accrual.on_order_paid(s, "order.paid", {"order_id": order["id"], "merchant_id": merchant.merchant_id,
                                               "source_video_id": video, "items": []})  # fmt: skip
    assert bus  # the module is what publishes; the row is unique per order and source
    assert len(api.get("/api/v1/me/commissions", headers=creator.headers).json()["items"]) == 1
    base = f"/api/v1/merchants/{merchant.merchant_id}"
    r = api.post(f"{base}/orders/{order['id']}/refunds",
                 json={"amount": order["total"], "reason": "never mind"},
                 headers={**merchant.headers, "Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 202, r.text
    jobs.drain(db)
    c = api.get(f"/api/v1/commissions/{c['id']}", headers=creator.headers).json()
    assert (c["reversed_amount"], c["net_amount"], c["status"]) == (200, 0, "reversed")


def test_per_product_rate_and_the_merchants_own_video_earns_nothing(api, factory, psp, db):
    merchant, product, creator, video, shopper = _setup(api, factory, psp)
    base = f"/api/v1/merchants/{merchant.merchant_id}"
    r = api.put(f"{base}/commission-rates", json={"rate_bp": 2500, "product_id": product["product_id"]},
                headers=merchant.headers)  # fmt: skip
    assert r.status_code == 200 and r.json()["products"][0]["rate_bp"] == 2500
    _buy_from(api, shopper, product, video)
    assert api.get("/api/v1/me/commissions", headers=creator.headers).json()["items"][0]["amount"] == 500

    own = make_video(factory, merchant, merchant_id=merchant.merchant_id, products=[product["product_id"]])
    _buy_from(api, shopper, product, own)
    assert len(api.get("/api/v1/me/commissions", headers=creator.headers).json()["items"]) == 1
    assert len(api.get("/api/v1/me/commissions", headers=merchant.headers).json()["items"]) == 0
    assert [o["orders"] for o in api.get(f"{base}/commissions", headers=merchant.headers).json()] == [1]


def test_nobody_else_reads_a_commission_and_bad_rates_are_422(api, factory, psp, db):
    merchant, product, creator, video, shopper = _setup(api, factory, psp)
    _buy_from(api, shopper, product, video)
    cid = api.get("/api/v1/me/commissions", headers=creator.headers).json()["items"][0]["id"]
    other_creator = factory.user("shopper", "creator")
    other_shop = factory.verified_merchant()
    for who in (other_creator, other_shop, shopper):
        r = api.get(f"/api/v1/commissions/{cid}", headers=who.headers)
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
        assert api.get("/api/v1/me/commissions", headers=who.headers).json()["items"] == []
    assert api.get(f"/api/v1/commissions/{cid}", headers=merchant.headers).status_code == 200
    base = f"/api/v1/merchants/{merchant.merchant_id}"
    assert api.get(f"{base}/commissions", headers=other_shop.headers).status_code == 404
    assert api.put(f"{base}/commission-rates", json={"rate_bp": 100},
                   headers=other_shop.headers).status_code == 404  # fmt: skip
    for body in ({"rate_bp": 5001}, {"rate_bp": -1}, {"rate_bp": "ten"}, {}, {"rate_bp": 100, "x": 1},
                 {"rate_bp": 100, "product_id": "prd_01M8000000000000000000000A"}):  # fmt: skip
        r = api.put(f"{base}/commission-rates", json=body, headers=merchant.headers)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert api.get(f"{base}/commission-rates", headers=merchant.headers).json()["merchant_rate_bp"] is None
    for params in (
        {"group": "year"},
        {"since": "yesterday"},
        {"since": "2026-02-01T00:00:00", "until": "2026-01-01"},
    ):
        r = api.get("/api/v1/me/commissions/totals", params=params, headers=creator.headers)
        assert r.status_code == 422, (params, r.text)
    naive = api.get(
        "/api/v1/me/commissions/totals", params={"since": "2026-01-01T00:00:00"}, headers=creator.headers
    )
    assert naive.status_code == 200 and naive.json()[0]["orders"] == 1  # a time without a zone is UTC


def test_a_creators_live_room_earns_and_the_merchants_own_room_or_staff_do_not(api, factory, psp, db):
    from tests.factories import make_room

    merchant, product, creator, _video, shopper = _setup(api, factory, psp)
    room = make_room(factory, creator)
    r = buy(api, shopper, product["variant_id"], 1, source={"live_room_id": room})
    assert r.status_code == 201, r.text
    items = api.get("/api/v1/me/commissions", headers=creator.headers).json()["items"]
    assert [(c["live_room_id"], c["video_id"], c["amount"]) for c in items] == [(room, None, 200)]
    totals = api.get("/api/v1/me/commissions/totals", params={"group": "live_room"}, headers=creator.headers)
    assert [t["key"] for t in totals.json()] == [room]

    shop_room = make_room(factory, merchant, merchant_id=merchant.merchant_id)
    from etalage.accounts import service as accounts

    staff = factory.user("shopper", "creator")  # a creator who is also on the shop's staff
    with db.session() as s:
        accounts.add_member(s, merchant.principal, merchant.merchant_id or "", staff.email, "staff")
        s.flush()
        staff.principal = accounts.principal_for_user(s, staff.id)
    staff_video = make_video(factory, staff, products=[product["product_id"]])
    for source in ({"live_room_id": shop_room}, {"video_id": staff_video}):
        r = buy(api, shopper, product["variant_id"], 1, source=source)
        assert r.status_code == 201, r.text
    owed = api.get(f"/api/v1/merchants/{merchant.merchant_id}/commissions", headers=merchant.headers).json()
    assert [(o["creator_id"], o["orders"]) for o in owed] == [(creator.id, 1)]


def test_the_base_is_net_of_vouchers_as_well_as_vat(api, factory, psp, db):
    from tests.promotions.helpers import voucher

    merchant, product, creator, video, shopper = _setup(api, factory, psp, price=12_100)  # 100.00 + 21 % VAT
    voucher(factory, merchant, "CREATOR10", percent=10)
    r = buy(api, shopper, product["variant_id"], 1, source={"video_id": video}, voucher_code="creator10")
    assert r.status_code == 201, r.text
    c = api.get("/api/v1/me/commissions", headers=creator.headers).json()["items"][0]
    # 121.00 less 10 % is 108.90 with 18.90 of VAT in it: 90.00 net, of which 10 %
    assert (c["base_amount"], c["amount"]) == (9_000, 900)
