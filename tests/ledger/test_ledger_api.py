"""The ledger over real HTTP: a sale posts balanced entries, delivery plus the return window makes the money
payable, refunds come back out of it, a payout run pays it, and the statement tells the merchant so."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

from etalage.core import jobs
from etalage.db import utcnow
from etalage.ledger import postings
from etalage.ledger.models import Settlement
from tests.commerce.helpers import buy
from tests.ledger.helpers import account_balances, assert_ledger_balanced


def _paid(api, factory, psp, price=2000):  # type: ignore[no-untyped-def]
    merchant = factory.verified_merchant()
    product = factory.product(merchant, prices={"BE": price}, stock=5)
    shopper = factory.shopper("BE", psp=psp)
    resp = buy(api, shopper, product["variant_id"])
    assert resp.status_code == 201, resp.text
    return merchant, shopper, resp.json()["orders"][0]


def _move(api, merchant, order_id, *steps):  # type: ignore[no-untyped-def]
    for step in steps:
        r = api.post(f"/api/v1/merchants/{merchant.merchant_id}/orders/{order_id}/transitions",
                     json={"to": step, "reason": f"{step} now"}, headers=merchant.headers)  # fmt: skip
        assert r.status_code == 200, r.text


def test_sale_delivery_release_refund_payout_and_statement(api, factory, psp, db):
    merchant, shopper, order = _paid(api, factory, psp)
    total = order["total"]["amount"]  # 2000 + 4.95 shipping
    base = f"/api/v1/merchants/{merchant.merchant_id}"
    journal = api.get(f"{base}/orders/{order['id']}/ledger", headers=merchant.headers).json()
    assert [e["kind"] for e in journal] == ["sale"]
    lines = {ln["account"]: ln["amount"] for ln in journal[0]["lines"]}
    fee = 140  # 7 % (the default rate) of the 20.00 line; shipping carries no fee
    assert lines == {"psp_clearing": total, "merchant_pending": -(total - fee), "fee_revenue": -fee}
    bal = api.get(f"{base}/balance", headers=merchant.headers).json()
    assert bal == [{"currency": "EUR", "pending": total - fee, "available": 0, "in_payout": 0}]
    assert_ledger_balanced(db)

    # Delivered: payable only once the region's 14-day window has passed.
    _move(api, merchant, order["id"], "fulfilling", "shipped", "delivered")
    with db.read() as s:
        st = s.get(Settlement, order["id"])
        assert st.available_at - st.delivered_at == timedelta(days=14)
    with db.session() as s:
        assert postings.release_due(s, utcnow() + timedelta(days=13)) == 0
    with db.session() as s:
        assert postings.release_due(s, utcnow() + timedelta(days=15)) == 1
    with db.session() as s:
        assert postings.release_due(s, utcnow() + timedelta(days=16)) == 0  # once
    assert api.get(f"{base}/balance", headers=merchant.headers).json()[0]["available"] == total - fee

    # A partial refund after release comes out of what is available; the fee goes back in proportion.
    r = api.post(f"{base}/orders/{order['id']}/refunds", json={"amount": {"amount": 500, "currency": "EUR"},
                 "reason": "scratched"}, headers={**merchant.headers, "Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 202, r.text
    jobs.drain(db)
    fee_back = fee * 500 // total
    owed = total - fee - (500 - fee_back)
    assert api.get(f"{base}/balance", headers=merchant.headers).json()[0]["available"] == owed
    assert_ledger_balanced(db)

    # The admin's payout run pays it; confirming the transfer moves the money out of the provider account.
    admin = factory.admin()
    assert api.post("/api/v1/admin/payouts/run", json={}, headers=merchant.headers).status_code == 403
    made = api.post("/api/v1/admin/payouts/run", json={}, headers=admin.headers).json()
    mine = [p for p in made if p["merchant_id"] == merchant.merchant_id]
    assert len(mine) == 1 and mine[0]["amount"] == owed and mine[0]["status"] == "created"
    again = api.post("/api/v1/admin/payouts/run", json={}, headers=admin.headers).json()
    assert [p for p in again if p["merchant_id"] == merchant.merchant_id] == []  # nothing left to pay
    pid = mine[0]["id"]
    paid = api.post(f"/api/v1/admin/payouts/{pid}/paid", json={"reference": "SEPA-1"}, headers=admin.headers)
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    assert (
        api.post(
            f"/api/v1/admin/payouts/{pid}/paid", json={"reference": "SEPA-1"}, headers=admin.headers
        ).status_code
        == 200
    )
    assert (
        api.post(
            f"/api/v1/admin/payouts/{pid}/paid", json={"reference": "other"}, headers=admin.headers
        ).status_code
        == 409
    )
    assert api.get(f"{base}/balance", headers=merchant.headers).json()[0] == {
        "currency": "EUR", "pending": 0, "available": 0, "in_payout": 0}  # fmt: skip
    listed = api.get(f"{base}/payouts", headers=merchant.headers).json()["items"]
    assert [p["id"] for p in listed] == [pid]
    assert api.get(f"{base}/payouts/{pid}", headers=merchant.headers).json()["reference"] == "SEPA-1"
    tb = api.get("/api/v1/admin/ledger/trial-balance", headers=admin.headers).json()
    assert tb["balanced"] is True
    assert api.get("/api/v1/admin/ledger/trial-balance", headers=merchant.headers).status_code == 403
    assert_ledger_balanced(db)

    # The statement for this month, as CSV and PDF, for the merchant (and the admin), nobody else.
    period = utcnow().strftime("%Y-%m")
    r = api.get(f"{base}/statement", params={"period": period}, headers=merchant.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    header = rows.index(["date", "entry", "type", "order", "description", "currency", "gross", "fee", "net",
                         "pending_change", "available_change", "in_payout_change"])  # fmt: skip
    movements = rows[header + 1 :]
    assert [m[2] for m in movements] == ["sale", "release", "refund", "payout", "payout"]
    assert sum(int(m[8]) for m in movements) == 0  # everything earned was paid out
    assert int(movements[0][6]) == total and int(movements[0][7]) == fee
    pdf = api.get(f"{base}/statement", params={"period": period, "format": "pdf"}, headers=admin.headers)
    assert (
        pdf.status_code == 200
        and pdf.content.startswith(b"%PDF")
        and pdf.headers["content-type"] == "application/pdf"
    )
    assert (
        api.get(f"{base}/statement", params={"period": "2026-13"}, headers=merchant.headers).status_code
        == 422
    )
    other = factory.merchant()
    assert api.get(f"{base}/statement", params={"period": period}, headers=other.headers).status_code == 404
    assert api.get(f"{base}/orders/{order['id']}/ledger", headers=other.headers).status_code == 404
    assert api.get(f"{base}/payouts/{pid}", headers=other.headers).status_code == 404


def test_cancelled_order_is_reversed_and_an_event_applied_twice_posts_once(api, factory, psp, db):
    merchant, shopper, order = _paid(api, factory, psp, price=1000)
    headers = {**shopper.headers, "Idempotency-Key": uuid.uuid4().hex}
    assert (
        api.post(
            f"/api/v1/orders/{order['id']}/cancel", json={"reason": "twice"}, headers=headers
        ).status_code
        == 200
    )
    jobs.drain(db)
    bal = account_balances(db, merchant.merchant_id)
    assert bal[("merchant_pending", merchant.merchant_id)] == 0
    # Replaying the sale and the refund changes nothing.
    from etalage.payments import refunds

    with db.session() as s:
        postings.on_order_paid(
            s, "order.paid", {"order_id": order["id"], "merchant_id": merchant.merchant_id}
        )
        refund = refunds.refunds_for_order(s, order["id"])[0]
        state = refunds.RefundState(refund.id, refund.payment_id, refund.order_id, refund.amount,
                                    refund.currency, refund.reason, refund.actor)  # fmt: skip
        postings.on_refund(s, state)
    journal = api.get(
        f"/api/v1/merchants/{merchant.merchant_id}/orders/{order['id']}/ledger", headers=merchant.headers
    ).json()
    assert [e["kind"] for e in journal] == ["sale", "refund"]
    assert account_balances(db)[("psp_clearing", None)] == 0
    assert_ledger_balanced(db)
    # A cancelled order is never delivered, so nothing is ever released.
    with db.session() as s:
        assert postings.release_due(s, utcnow() + timedelta(days=400)) == 0
