"""After checkout: each side sees its orders, the merchant moves them on, shoppers cancel, money goes back."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from etalage.core import jobs
from etalage.payments.models import Payment
from tests.commerce.helpers import assert_stock_consistent, buy, stock_of


def _paid_order(api, factory, psp, price=2000, stock=3):  # type: ignore[no-untyped-def]
    merchant = factory.verified_merchant()
    product = factory.product(merchant, prices={"BE": price}, stock=stock)
    shopper = factory.shopper("BE", psp=psp)
    resp = buy(api, shopper, product["variant_id"])
    assert resp.status_code == 201, resp.text
    return merchant, shopper, product, resp.json()["orders"][0]


def test_the_merchant_moves_the_order_through_fulfilment(api, factory, psp):
    merchant, shopper, _, order = _paid_order(api, factory, psp)
    url = f"/api/v1/merchants/{merchant.merchant_id}/orders/{order['id']}"
    for step in ("fulfilling", "shipped", "delivered", "completed"):
        r = api.post(f"{url}/transitions", json={"to": step, "reason": f"{step} by the warehouse"}, headers=merchant.headers)
        assert r.status_code == 200 and r.json()["status"] == step, r.text
    r = api.post(f"{url}/transitions", json={"to": "shipped", "reason": "again?"}, headers=merchant.headers)
    assert r.status_code == 409 and r.json()["allowed"] == ["partially_refunded", "refunded"]
    history = api.get(f"/api/v1/orders/{order['id']}", headers=shopper.headers).json()["events"]
    assert [e["to_status"] for e in history] == ["awaiting_payment", "paid", "fulfilling", "shipped", "delivered", "completed"]
    assert history[2]["actor"] == merchant.id and history[2]["reason"] == "fulfilling by the warehouse"
    # The shopper cannot drive the merchant's side, and another merchant cannot see it.
    assert api.post(f"{url}/transitions", json={"to": "shipped", "reason": "me"}, headers=shopper.headers).status_code in (403, 404)
    other = factory.merchant()
    assert api.get(url.replace(merchant.merchant_id, other.merchant_id), headers=other.headers).status_code == 404
    assert api.post(f"{url}/transitions", json={"to": "paid", "reason": "sneaky"}, headers=merchant.headers).status_code == 422


def test_a_shopper_cancels_before_fulfilment_and_is_refunded(api, factory, psp, db):
    merchant, shopper, product, order = _paid_order(api, factory, psp)
    url = f"/api/v1/orders/{order['id']}/cancel"
    assert api.post(url, json={"reason": "ordered twice"}, headers=shopper.headers).status_code == 400  # no key
    headers = {**shopper.headers, "Idempotency-Key": uuid.uuid4().hex}
    r = api.post(url, json={"reason": "ordered twice"}, headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    assert api.post(url, json={"reason": "ordered twice"}, headers=headers).status_code == 200  # a replay
    assert stock_of(db, product["variant_id"]) == (3, 0)  # back on the shelf
    jobs.drain(db)  # the refund is durable work: the worker asks the PSP
    with db.read() as s:
        payment = s.scalar(select(Payment).where(Payment.checkout_id == order["checkout_id"]))
        assert payment.refunded_amount == order["total"]["amount"]
    detail = api.get(f"/api/v1/orders/{order['id']}", headers=shopper.headers).json()
    assert detail["refunded"]["amount"] == order["total"]["amount"] and detail["status"] == "cancelled"
    refunded_at_psp = [p for p in psp.payments() if p["idempotency_key"] == payment.id][0]["refunded_amount"]
    assert refunded_at_psp == order["total"]["amount"]  # once, however often the job or a webhook ran
    assert_stock_consistent(db)
    # Once the merchant has started, cancelling is no longer the shopper's call.
    merchant2, shopper2, _, order2 = _paid_order(api, factory, psp)
    api.post(f"/api/v1/merchants/{merchant2.merchant_id}/orders/{order2['id']}/transitions",
             json={"to": "fulfilling", "reason": "picking"}, headers=merchant2.headers)  # fmt: skip
    r = api.post(f"/api/v1/orders/{order2['id']}/cancel", json={}, headers={**shopper2.headers, "Idempotency-Key": "c2"})
    assert r.status_code == 409 and "return" in r.json()["detail"]


def test_merchant_refunds_partial_then_full(api, factory, psp, db):
    merchant, shopper, _, order = _paid_order(api, factory, psp, price=3000)
    total = order["total"]["amount"]
    url = f"/api/v1/merchants/{merchant.merchant_id}/orders/{order['id']}/refunds"
    key = {**merchant.headers, "Idempotency-Key": uuid.uuid4().hex}
    body = {"amount": {"amount": 1000, "currency": "EUR"}, "reason": "scratched box"}
    first = api.post(url, json=body, headers=key)
    assert first.status_code == 202 and first.json()["status"] == "pending", first.text
    assert api.post(url, json=body, headers=key).json()["id"] == first.json()["id"]  # replay: the same refund
    too_much = {"amount": {"amount": total, "currency": "EUR"}, "reason": "everything"}
    r = api.post(url, json=too_much, headers={**merchant.headers, "Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 422 and r.json()["refundable"] == total - 1000
    wrong = {"amount": {"amount": 10, "currency": "GBP"}, "reason": "pounds"}
    assert api.post(url, json=wrong, headers={**merchant.headers, "Idempotency-Key": uuid.uuid4().hex}).status_code == 422
    negative = {"amount": {"amount": -10, "currency": "EUR"}, "reason": "negative"}
    assert api.post(url, json=negative, headers={**merchant.headers, "Idempotency-Key": uuid.uuid4().hex}).status_code == 422
    jobs.drain(db)
    assert api.get(f"/api/v1/orders/{order['id']}", headers=shopper.headers).json()["status"] == "partially_refunded"
    rest = {"amount": {"amount": total - 1000, "currency": "EUR"}, "reason": "lost in transit"}
    assert api.post(url, json=rest, headers={**merchant.headers, "Idempotency-Key": uuid.uuid4().hex}).status_code == 202
    jobs.drain(db)
    detail = api.get(f"/api/v1/orders/{order['id']}", headers=shopper.headers).json()
    assert detail["status"] == "refunded" and detail["refunded"]["amount"] == total
    listed = api.get(url, headers=merchant.headers).json()
    assert [x["status"] for x in listed] == ["succeeded", "succeeded"]
    other = factory.merchant()
    assert api.post(url.replace(merchant.merchant_id, other.merchant_id), json=body,
                    headers={**other.headers, "Idempotency-Key": "x"}).status_code == 404  # fmt: skip


def test_abandoning_a_checkout_that_waits_for_the_shopper(api, factory, psp, db):
    product = factory.product(factory.verified_merchant(), stock=1)
    shopper = factory.shopper("BE", psp=psp, card="4000000000003220")
    body = buy(api, shopper, product["variant_id"]).json()
    r = api.post(f"/api/v1/checkouts/{body['checkout_id']}/cancel", headers=shopper.headers)
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    assert r.json()["orders"][0]["status"] == "cancelled"
    assert stock_of(db, product["variant_id"]) == (1, 0)
    assert api.post(f"/api/v1/checkouts/{body['checkout_id']}/cancel", headers=factory.user().headers).status_code == 404


def test_each_side_sees_only_its_own(api, factory, psp):
    merchant, shopper, _, order = _paid_order(api, factory, psp)
    stranger = factory.user("shopper")
    assert api.get("/api/v1/orders", headers=stranger.headers).json()["items"] == []
    assert api.get(f"/api/v1/orders/{order['id']}", headers=stranger.headers).status_code == 404
    assert [o["id"] for o in api.get("/api/v1/orders", headers=shopper.headers).json()["items"]] == [order["id"]]
    paid = api.get(f"/api/v1/merchants/{merchant.merchant_id}/orders", params={"status": "paid"}, headers=merchant.headers)
    assert [o["id"] for o in paid.json()["items"]] == [order["id"]]
    assert api.get(f"/api/v1/merchants/{merchant.merchant_id}/orders", params={"status": "lost"},
                   headers=merchant.headers).status_code == 422  # fmt: skip
