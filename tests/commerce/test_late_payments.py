"""Payments that settle late or never: after the stock hold expired, abandoned approvals, requests that never
reached the provider. Each ends with consistent stock, orders and money."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update

from etalage.commerce import checkout
from etalage.commerce.checkout import CheckoutRequest, LineIn
from etalage.commerce.models import Order
from etalage.core import jobs
from etalage.db import utcnow
from etalage.inventory import stock
from etalage.inventory.models import StockReservation
from etalage.payments import recovery
from etalage.payments.models import Payment, Refund
from tests.commerce.helpers import assert_stock_consistent, buy, eventually, stock_of
from tests.payments.psp import CARDS


def _expire_holds(db) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        s.execute(update(StockReservation).values(expires_at=utcnow() - timedelta(seconds=1)))
    with db.session() as s:
        stock.release_expired(s)


def test_paid_after_the_hold_expired_takes_the_units_again(api, factory, psp, db):
    product = factory.product(factory.verified_merchant(), stock=2)
    shopper = factory.shopper("BE", psp=psp, card=CARDS["three_ds"])
    body = buy(api, shopper, product["variant_id"]).json()
    _expire_holds(db)  # the shopper took their time with 3-D Secure
    assert stock_of(db, product["variant_id"]) == (2, 0)
    psp.approve(body["next_action"]["url"])
    url = f"/api/v1/checkouts/{body['checkout_id']}"
    eventually(lambda: api.get(url, headers=shopper.headers).json()["status"] == "paid")
    assert stock_of(db, product["variant_id"]) == (1, 0)
    assert api.get(url, headers=shopper.headers).json()["orders"][0]["status"] == "paid"
    assert_stock_consistent(db)


def test_paid_after_the_last_unit_went_elsewhere_is_refunded(api, factory, psp, db):
    product = factory.product(factory.verified_merchant(), stock=1)
    slow = factory.shopper("BE", psp=psp, card=CARDS["three_ds"])
    body = buy(api, slow, product["variant_id"]).json()
    _expire_holds(db)
    assert buy(api, factory.shopper("BE", psp=psp), product["variant_id"]).status_code == 201  # someone faster
    psp.approve(body["next_action"]["url"])
    url = f"/api/v1/checkouts/{body['checkout_id']}"
    eventually(lambda: api.get(url, headers=slow.headers).json()["orders"][0]["status"] == "cancelled")
    jobs.drain(db)  # the refund is durable work
    with db.read() as s:
        payment = s.get(Payment, body["payment"]["id"])
        assert payment.status == "captured" and payment.refunded_amount == payment.amount
        assert s.scalar(select(Refund.status).where(Refund.payment_id == payment.id)) == "succeeded"
    assert stock_of(db, product["variant_id"]) == (0, 0)  # sold once, to the faster shopper
    assert_stock_consistent(db)


def test_an_abandoned_approval_is_cancelled_after_the_hold_window(api, factory, psp, db, settings, monkeypatch):
    product = factory.product(factory.verified_merchant(), stock=1)
    shopper = factory.shopper("BE", psp=psp, card=CARDS["three_ds"])
    body = buy(api, shopper, product["variant_id"]).json()
    monkeypatch.setattr(settings, "reservation_seconds", 0)
    with db.session() as s:
        s.execute(update(Payment).values(created_at=utcnow() - timedelta(minutes=1)))
    assert recovery.reconcile_open_payments(db, older_than_seconds=0) == 1
    with db.read() as s:
        assert s.get(Payment, body["payment"]["id"]).status == "cancelled"
        assert s.scalar(select(Order.status)) == "cancelled"
    assert stock_of(db, product["variant_id"]) == (1, 0)
    cancelled = [p for p in psp.payments() if p["idempotency_key"] == body["payment"]["id"]][0]
    assert cancelled["status"] == "cancelled"  # voided at the provider too


def test_a_payment_that_never_reached_the_provider_is_failed_and_can_never_charge(factory, psp, db):
    product = factory.product(factory.verified_merchant(), stock=1)
    shopper = factory.shopper("BE", psp=psp)
    with db.session() as s:  # step 1 committed, then the server died before calling the provider
        checkout_id, prep = checkout.begin_checkout(
            s, shopper.id, CheckoutRequest([LineIn(product["variant_id"], 1)]), uuid.uuid4().hex, "fp"
        )
    assert prep is not None and stock_of(db, product["variant_id"]) == (1, 1)
    assert recovery.reconcile_open_payments(db, older_than_seconds=0) == 1
    with db.read() as s:
        assert s.get(Payment, prep.payment_id).status == "failed"
        assert s.scalar(select(Order.status).where(Order.checkout_id == checkout_id)) == "cancelled"
    assert stock_of(db, product["variant_id"]) == (1, 0)
    # The key is tombstoned at the provider: the lost request, arriving now, charges nothing.
    from etalage.payments.provider import provider

    late = provider().authorise(key=prep.payment_id, amount=prep.amount, currency="EUR", token=prep.token,
                                capture=True, reference=checkout_id, webhook_url=None)  # fmt: skip
    assert late.status == "cancelled" and late.captured_amount == 0
