"""A commission shopper B earned on merchant B's order, for the tenant-isolation walk (tests/test_isolation.py)."""

from __future__ import annotations

from etalage.affiliates.models import Commission
from etalage.db import new_id
from tests.isolation import World, builder


@builder
def _affiliates(world: World) -> None:
    # The row the accrual writes (tests/affiliates cover how it gets there); only its owners may read it.
    cid = new_id("cms")
    with world.factory.db.session() as s:
        s.add(Commission(id=cid, creator_id=world.b_shopper.id, merchant_id=world.b_merchant.merchant_id or "",
                         order_id=new_id("ord"), source_id=new_id("vid"), video_id=None, live_room_id=None,
                         region_code="BE", currency="EUR", order_total_amount=2495, base_amount=2000, rate_bp=1000,
                         amount=200, lines=[]))  # fmt: skip
    world.own("commission_id", cid)
