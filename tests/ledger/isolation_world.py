"""Merchant B's payout, for the tenant-isolation walk (tests/test_isolation.py)."""

from __future__ import annotations

from etalage.db import utcnow
from etalage.ledger import accounts as acc
from etalage.ledger import payouts, postings
from tests.isolation import World, builder


@builder
def _ledger(world: World) -> None:
    mid = world.b_merchant.merchant_id or ""
    with world.factory.db.session() as s:
        # B is owed 10.00 (as if an order had been paid, delivered and released), then paid out.
        postings.post(s, f"test:isolation:{mid}", "sale", "EUR",
                      [(acc.PSP_CLEARING, None, 1000), (acc.MERCHANT_AVAILABLE, mid, -1000)], merchant_id=mid)  # fmt: skip
        payout = payouts.create_payout(s, mid, "EUR", period_end=utcnow(), actor="test")
        assert payout is not None
        world.own("payout_id", payout.id)
