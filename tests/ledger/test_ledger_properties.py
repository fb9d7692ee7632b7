"""Property: whatever shoppers and merchants do, in whatever order (checkout, 3-D Secure capture, cancel,
ship, deliver, return, refund, the worker running, the return window passing, payouts), the ledger balances,
refunds never exceed payments, the provider account reconciles, and stock matches its ledger.

Hypothesis drives random sequences over real HTTP with the test PSP; bounded to a few examples (< 60 s)."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from etalage.commerce.models import Order
from etalage.core import jobs
from etalage.db import utcnow
from etalage.ledger import accounts as acc
from etalage.ledger import postings
from etalage.ledger.models import JournalEntry, JournalLine, Payout, Settlement
from etalage.payments.models import Payment, Refund
from tests.commerce.helpers import assert_stock_consistent, buy, eventually
from tests.ledger.helpers import assert_ledger_balanced
from tests.payments.psp import CARDS

OK_OR_REFUSED = {200, 201, 202, 409, 422}


def _assert_money_adds_up(db) -> None:  # type: ignore[no-untyped-def]
    assert_ledger_balanced(db)
    with db.read() as s:
        for o in s.scalars(select(Order)):
            assert 0 <= o.refunded_amount <= o.total_amount
        for p in s.scalars(select(Payment)):
            succeeded = s.scalar(select(func.coalesce(func.sum(Refund.amount), 0)).where(
                Refund.payment_id == p.id, Refund.status == "succeeded"))  # fmt: skip
            in_flight = s.scalar(select(func.coalesce(func.sum(Refund.amount), 0)).where(
                Refund.payment_id == p.id, Refund.status.in_(("pending", "succeeded"))))  # fmt: skip
            assert p.refunded_amount == succeeded <= p.captured_amount
            assert in_flight <= p.captured_amount  # never more promised back than was taken
        for st_ in s.scalars(select(Settlement)):
            assert 0 <= st_.refunded_amount <= st_.paid_amount
            assert 0 <= st_.fee_reversed <= st_.fee_amount
        # The provider account in the ledger is what the provider holds for us.
        captured = s.scalar(select(func.coalesce(func.sum(Payment.captured_amount), 0)))
        refunded = s.scalar(select(func.coalesce(func.sum(Payment.refunded_amount), 0)))
        paid_out = s.scalar(select(func.coalesce(func.sum(Payout.amount), 0)).where(Payout.status == "paid"))
        clearing = s.scalar(
            select(func.coalesce(func.sum(JournalLine.amount), 0)).where(
                JournalLine.account == acc.PSP_CLEARING
            )
        )
        assert clearing == captured - refunded - paid_out
    assert_stock_consistent(db)


# What happens to orders, weighted: buying is the most common thing, the rest follows from it.
OPS = (
    ["checkout"] * 3
    + ["capture_or_abandon", "cancel", "refund", "time_passes"]
    + ["ship", "deliver", "return_goods"] * 2
)
# Each step is a seed that picks the operation and its details: Hypothesis' own choice of list elements
# leans towards the first one, which would make nearly every step a checkout.
Step = st.integers(0, 2**32 - 1)


class Shop:
    """One example's world: a product in two variants, the orders bought, parcels, deliveries."""

    def __init__(self, api, factory, psp, db, merchant, admin, steps):  # type: ignore[no-untyped-def]
        self.api, self.factory, self.psp, self.db = api, factory, psp, db
        self.merchant, self.admin, self.steps = merchant, admin, steps
        self.m = f"/api/v1/merchants/{merchant.merchant_id}"
        self.product = factory.product(merchant, prices={"BE": 1250}, stock=6, variants=2)
        self.orders: dict[str, object] = {}  # order id -> its shopper
        self.waiting: list[tuple[object, dict]] = []  # checkouts waiting for 3-D Secure
        self.shipments: list[str] = []
        self.delivered: set[str] = set()
        self.days = 0

    def run(self, seed: int) -> None:
        rnd = random.Random(seed)
        op = rnd.choice(OPS)
        if getattr(self, op)(rnd) is not False:
            self.steps[op] += 1

    def checkout(self, rnd) -> None:  # type: ignore[no-untyped-def]
        three_ds = rnd.random() < 0.4
        shopper = self.factory.shopper("BE", psp=self.psp, card=CARDS["three_ds" if three_ds else "success"])
        r = buy(self.api, shopper, rnd.choice(self.product["variant_ids"]), rnd.randint(1, 3))
        assert r.status_code in (201, 202, 409, 422), r.text
        if r.status_code >= 400:  # sold out: a problem, nothing written
            assert r.headers["content-type"].startswith("application/problem+json")
            return
        body = r.json()
        if body.get("next_action"):
            self.waiting.append((shopper, body))
        else:
            self.orders[body["orders"][0]["id"]] = shopper

    def capture_or_abandon(self, rnd):  # type: ignore[no-untyped-def]
        if not self.waiting:
            return False
        shopper, body = self.waiting.pop(rnd.randrange(len(self.waiting)))
        url = f"/api/v1/checkouts/{body['checkout_id']}"
        if rnd.random() < 0.7:
            self.psp.approve(body["next_action"]["url"])
            eventually(lambda: self.api.get(url, headers=shopper.headers).json()["status"] == "paid")
            self.orders[body["orders"][0]["id"]] = shopper
        else:
            r = self.api.post(f"{url}/cancel", headers=shopper.headers)
            assert r.status_code in (200, 409), r.text

    def _order(self, rnd):  # type: ignore[no-untyped-def]
        order_id = rnd.choice(sorted(self.orders))
        return order_id, self.orders[order_id]

    def cancel(self, rnd):  # type: ignore[no-untyped-def]
        if not self.orders:
            return False
        order_id, shopper = self._order(rnd)
        headers = {**shopper.headers, "Idempotency-Key": uuid.uuid4().hex}
        r = self.api.post(
            f"/api/v1/orders/{order_id}/cancel", json={"reason": "changed my mind"}, headers=headers
        )
        assert r.status_code in (200, 409), r.text

    def ship(self, rnd):  # type: ignore[no-untyped-def]
        if not self.orders:
            return False
        order_id, _ = self._order(rnd)
        r = self.api.post(f"{self.m}/orders/{order_id}/shipments", json={"carrier": "bpost",
                          "tracking_number": uuid.uuid4().hex[:12].upper()}, headers=self.merchant.headers)  # fmt: skip
        assert r.status_code in OK_OR_REFUSED, r.text
        if r.status_code == 201:
            self.shipments.append(r.json()["id"])

    def deliver(self, rnd):  # type: ignore[no-untyped-def]
        if not self.shipments:
            return False
        shipment_id = self.shipments.pop(rnd.randrange(len(self.shipments)))
        r = self.api.post(
            f"{self.m}/shipments/{shipment_id}/delivered", json={}, headers=self.merchant.headers
        )
        assert r.status_code in OK_OR_REFUSED, r.text
        if r.status_code == 200:
            self.delivered.add(r.json()["order_id"])

    def return_goods(self, rnd):  # type: ignore[no-untyped-def]
        if not self.delivered:
            return False
        order_id = rnd.choice(sorted(self.delivered))
        shopper = self.orders[order_id]
        line = self.api.get(f"/api/v1/orders/{order_id}", headers=shopper.headers).json()["lines"][0]
        r = self.api.post(f"/api/v1/orders/{order_id}/returns", json={"lines": [{"variant_id": line["variant_id"],
                          "quantity": 1}], "reason": "does not fit"}, headers=shopper.headers)  # fmt: skip
        assert r.status_code in OK_OR_REFUSED, r.text
        if r.status_code != 201:
            return
        url = f"{self.m}/returns/{r.json()['id']}"
        approve = rnd.random() < 0.8
        decision = {"decision": "approve" if approve else "reject", "reason": "checked the photos"}
        assert (
            self.api.post(f"{url}/decision", json=decision, headers=self.merchant.headers).status_code == 200
        )
        if not approve:
            return
        assert self.api.post(f"{url}/receipt", json={}, headers=self.merchant.headers).status_code == 200
        value = r.json()["value"]["amount"]
        body = {"amount": {"amount": max(1, value * rnd.randint(1, 100) // 100), "currency": "EUR"}}
        headers = {**self.merchant.headers, "Idempotency-Key": uuid.uuid4().hex}
        assert self.api.post(f"{url}/refund", json=body, headers=headers).status_code in OK_OR_REFUSED

    def refund(self, rnd):  # type: ignore[no-untyped-def]
        if not self.orders:
            return False
        order_id, _ = self._order(rnd)
        body = {"amount": {"amount": rnd.randint(1, 6000), "currency": "EUR"}, "reason": "goodwill"}
        headers = {**self.merchant.headers, "Idempotency-Key": uuid.uuid4().hex}
        r = self.api.post(f"{self.m}/orders/{order_id}/refunds", json=body, headers=headers)
        assert r.status_code in OK_OR_REFUSED, r.text  # above what is left: a 422, nothing written

    def time_passes(self, rnd) -> None:  # type: ignore[no-untyped-def]
        """The worker runs (refunds reach the provider), days pass (return windows close), payouts."""
        jobs.drain(self.db)
        self.days += rnd.randint(0, 40)
        with self.db.session() as s:
            postings.release_due(s, utcnow() + timedelta(days=self.days))
        if rnd.random() < 0.5:
            made = self.api.post("/api/v1/admin/payouts/run", json={}, headers=self.admin.headers)
            assert made.status_code == 200, made.text
            for p in made.json() if rnd.random() < 0.7 else []:
                r = self.api.post(f"/api/v1/admin/payouts/{p['id']}/paid", json={"reference": f"SEPA-{p['id']}"},
                                  headers=self.admin.headers)  # fmt: skip
                assert r.status_code == 200, r.text


def test_money_and_stock_always_add_up(api, factory, psp, db):  # type: ignore[no-untyped-def]
    steps: Counter[str] = Counter()
    merchant, admin = factory.verified_merchant(), factory.admin()

    @settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(seeds=st.lists(Step, min_size=8, max_size=20))
    def sequence(seeds: list[int]) -> None:
        shop = Shop(api, factory, psp, db, merchant, admin, steps)
        for seed in seeds:
            shop.run(seed)
            _assert_money_adds_up(db)
        jobs.drain(db)  # refunds in flight land
        _assert_money_adds_up(db)

    sequence()
    with db.read() as s:
        kinds = dict(s.execute(select(JournalEntry.kind, func.count()).group_by(JournalEntry.kind)).all())
    print(dict(steps), kinds)
    # the sequences did reach every kind of step and posting (not a vacuous pass)
    assert all(steps[op] > 0 for op in set(OPS)), steps
    assert all(kinds.get(k, 0) > 0 for k in ("sale", "refund", "release", "payout")), kinds
