"""Creator commission rates: a platform default per region, a merchant's own rate, and per-product rates.

The platform defaults live in code (like the ledger's fee table: the business model is reviewed like
code). A merchant's rate wins over the default, a product's over the merchant's; every change is a
``commission_rate_changes`` row with who and why.
"""

from __future__ import annotations

from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_merchant
from etalage.affiliates.models import CommissionRate, CommissionRateChange
from etalage.core.errors import InvalidInput
from etalage.db import utcnow

MAX_RATE_BP = 5000  # 50 %: beyond this a "commission" is a resale, not an affiliate fee
DEFAULT_RATE_BP = 1000
# What creators earn where a merchant set nothing: lower where margins and prices are thinner.
DEFAULT_RATE_BP_BY_REGION: MappingProxyType[str, int] = MappingProxyType({"US": 800, "ID": 500})


def region_default_bp(region_code: str) -> int:
    return DEFAULT_RATE_BP_BY_REGION.get(region_code, DEFAULT_RATE_BP)


def rates_for(session: Session, merchant_id: str, region_code: str, product_ids: list[str]) -> dict[str, int]:
    """The rate each product of ``merchant_id`` earns a creator in ``region_code``."""
    rows = session.execute(
        select(CommissionRate.product_id, CommissionRate.rate_bp).where(
            CommissionRate.merchant_id == merchant_id, CommissionRate.product_id.in_(["", *product_ids])
        )
    ).all()
    own = dict(rows)
    fallback = own.get("", region_default_bp(region_code))
    return {p: own.get(p, fallback) for p in product_ids}


def rate_rows(session: Session, principal: Principal, merchant_id: str) -> list[CommissionRate]:
    require_merchant(principal, merchant_id)
    return list(
        session.scalars(
            select(CommissionRate)
            .where(CommissionRate.merchant_id == merchant_id)
            .order_by(CommissionRate.product_id)
        )
    )


def changes(
    session: Session, principal: Principal, merchant_id: str, limit: int = 50
) -> list[CommissionRateChange]:
    require_merchant(principal, merchant_id)
    return list(
        session.scalars(
            select(CommissionRateChange)
            .where(CommissionRateChange.merchant_id == merchant_id)
            .order_by(CommissionRateChange.id.desc())
            .limit(limit)
        )
    )


def set_rate(
    session: Session,
    principal: Principal,
    merchant_id: str,
    rate_bp: int,
    *,
    product_id: str | None = None,
    reason: str = "",
) -> CommissionRate:
    """Set the merchant-wide rate, or one product's. Orders paid from now on earn it; earlier ones keep theirs."""
    require_merchant(principal, merchant_id, write=True)
    if not 0 <= rate_bp <= MAX_RATE_BP:  # the schema says so too; services are called without it
        raise InvalidInput(f"A commission rate is 0–{MAX_RATE_BP} basis points.", field="rate_bp")
    if product_id:
        from etalage.catalog import service as catalog

        found = catalog.get_products(session, [product_id])
        if not found or found[0].merchant_id != merchant_id:
            raise InvalidInput(f"No product {product_id} in this shop.", field="product_id")
    key = product_id or ""
    row = session.scalar(
        select(CommissionRate).where(
            CommissionRate.merchant_id == merchant_id, CommissionRate.product_id == key
        )
    )
    before = row.rate_bp if row is not None else None
    actor = principal.user_id
    if row is None:
        row = CommissionRate(merchant_id=merchant_id, product_id=key, rate_bp=rate_bp, updated_by=actor)
        session.add(row)
    else:
        row.rate_bp, row.updated_by, row.updated_at = rate_bp, actor, utcnow()
    session.add(
        CommissionRateChange(merchant_id=merchant_id, product_id=key, from_bp=before, to_bp=rate_bp,
                             actor=actor, reason=reason)
    )  # fmt: skip
    session.flush()
    return row
