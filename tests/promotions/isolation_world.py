"""Merchant B's voucher and flash sale, for the tenant-isolation walk (tests/test_isolation.py)."""

from __future__ import annotations

from datetime import timedelta

from etalage.db import utcnow
from tests.isolation import BODY_EXAMPLES, PUBLIC_READ, World, builder
from tests.promotions.helpers import flash_sale, voucher

_ENDS = (utcnow() + timedelta(days=30)).isoformat()
BODY_EXAMPLES["POST /api/v1/merchants/{merchant_id}/vouchers"] = {
    "code": "ISOLATION1",
    "percent": 10,
    "ends_at": _ENDS,
}
BODY_EXAMPLES["POST /api/v1/admin/vouchers"] = {"code": "ISOLATION2", "percent": 10, "ends_at": _ENDS}
BODY_EXAMPLES["POST /api/v1/merchants/{merchant_id}/flash-sales"] = {
    "variant_id": "var_01M8000000000000000000000A", "region_code": "BE", "price": 100, "quantity": 1, "ends_at": _ENDS,
}  # fmt: skip
PUBLIC_READ.add("GET /api/v1/prices")


@builder
def _promotions(world: World) -> None:
    f, b = world.factory, world.b_merchant
    item = f.product(b, prices={"BE": 1500}, stock=1)  # type: ignore[attr-defined]
    world.own("voucher_id", voucher(f, b, "BSHOPONLY", percent=15))
    world.own("flash_sale_id", flash_sale(f, b, item["variant_id"], price=999, quantity=2))
