"""The demo's shops open it with a ledger: every past sale posted (on the day it was paid), creators'
commissions taken from pending balances, and orders past their return window released."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from etalage.affiliates.models import Commission
from etalage.commerce.models import Order
from etalage.db import utcnow
from etalage.ledger.models import JournalEntry, Settlement
from tests.feed.world import _empty, build_small_demo
from tests.ledger.helpers import account_balances, assert_ledger_balanced


def test_the_demo_marketplace_has_balances_commissions_and_releases(database, settings, db) -> None:  # type: ignore[no-untyped-def]
    _empty(database, settings)
    try:
        ctx = build_small_demo(database, settings)
        assert ctx.counts["ledger_sales"] == ctx.counts["orders"] > 0
        with db.read() as s:
            orders = {o.id: o for o in s.scalars(select(Order))}
            settled = {st.order_id: st for st in s.scalars(select(Settlement))}
            sales = {e.order_id: e for e in s.scalars(select(JournalEntry).where(JournalEntry.kind == "sale"))}
            commissions = list(s.scalars(select(Commission)))
            commission_entries = s.scalars(select(JournalEntry.id).where(JournalEntry.kind == "commission")).all()
        assert set(settled) == set(orders) == set(sales)
        for oid, order in orders.items():  # the sale is dated when the order was paid, not when posted
            assert abs(sales[oid].created_at - order.paid_at) < timedelta(seconds=1)
        now = utcnow()
        delivered = [o for o in orders.values() if o.status in ("delivered", "completed")]
        assert delivered and all(settled[o.id].delivered_at is not None for o in delivered)
        released = [st for st in settled.values() if st.released_at is not None]
        assert len(released) == ctx.counts["ledger_releases"]
        assert all(st.returns_open == 0 and st.available_at <= now for st in released)
        due = [st for st in settled.values() if st.available_at and st.available_at <= now and not st.returns_open]
        assert len(due) == len(released)  # every order past its window was released, no other
        assert len(commission_entries) >= len([c for c in commissions if c.amount])
        assert_ledger_balanced(db)
        balances = account_balances(db)
        assert any(a == "merchant_pending" and v < 0 for (a, _m), v in balances.items())  # owed to shops
        available = sum(v for (a, _m), v in balances.items() if a == "merchant_available")
        assert (available < 0) == bool(released)
    finally:
        _empty(database, settings)
