"""Builders for promotion tests: vouchers and flash sales through the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from etalage.db import utcnow
from etalage.promotions import service
from etalage.promotions.schemas import FlashSaleIn, VoucherIn


def voucher(factory: Any, merchant: Any | None, code: str, **kw: Any) -> str:
    """A voucher of ``merchant`` (None: the platform's, made by an administrator)."""
    kw.setdefault("ends_at", utcnow() + timedelta(days=7))
    if "percent" not in kw and "amount" not in kw:
        kw["percent"] = 10
    body = VoucherIn(code=code, **kw)
    actor = merchant if merchant is not None else factory.admin()
    with factory.db.session() as s:
        v = service.create_voucher(s, actor.principal, merchant.merchant_id if merchant else None, body)
        return v.id


def flash_sale(factory: Any, merchant: Any, variant_id: str, price: int, quantity: int, region: str = "BE",
               **kw: Any) -> str:  # fmt: skip
    kw.setdefault("ends_at", utcnow() + timedelta(hours=2))
    body = FlashSaleIn(variant_id=variant_id, region_code=region, price=price, quantity=quantity, **kw)
    with factory.db.session() as s:
        return service.create_flash_sale(s, merchant.principal, merchant.merchant_id or "", body).id
