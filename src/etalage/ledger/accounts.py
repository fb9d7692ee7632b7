"""The chart of accounts and the platform's referral fee table.

Accounts are named in code (the chart changes with the business model, reviewed like code); a merchant's
accounts carry the merchant's id. Signs: debit positive, credit negative. So an asset's balance is
positive, a liability's or revenue's negative; reports flip them for reading.
"""

from __future__ import annotations

import time
from types import MappingProxyType
from typing import Literal

from sqlalchemy.orm import Session

Kind = Literal["asset", "liability", "revenue", "expense"]

# platform accounts (one per currency)
PSP_CLEARING = "psp_clearing"  # money held for us at the payment provider
FEE_REVENUE = "fee_revenue"  # the platform's referral fee
VOUCHER_EXPENSE = "voucher_expense"  # vouchers the platform pays for
REFUND_CLEARING = "refund_clearing"  # money taken and given back for an order that never sold
CREATOR_COMMISSIONS = "creator_commissions_payable"  # owed to creators (affiliates, later)
# merchant accounts (one per merchant and currency)
MERCHANT_PENDING = "merchant_pending"  # sold, not yet payable (before delivery + the return window)
MERCHANT_AVAILABLE = "merchant_available"  # payable in the next payout
MERCHANT_PAYOUTS = "merchant_payouts"  # in a payout that is on its way to the merchant's bank

CHART: MappingProxyType[str, Kind] = MappingProxyType(
    {
        PSP_CLEARING: "asset",
        FEE_REVENUE: "revenue",
        VOUCHER_EXPENSE: "expense",
        REFUND_CLEARING: "liability",
        CREATOR_COMMISSIONS: "liability",
        MERCHANT_PENDING: "liability",
        MERCHANT_AVAILABLE: "liability",
        MERCHANT_PAYOUTS: "liability",
    }
)
MERCHANT_ACCOUNTS = (MERCHANT_PENDING, MERCHANT_AVAILABLE, MERCHANT_PAYOUTS)

# Referral fee in basis points by category slug, with a default; a region may differ (e.g. a launch
# discount). In line with what marketplaces charge (5–8 % on most goods, less on thin-margin electronics).
DEFAULT_FEE_BP = 700
FEE_BP_BY_CATEGORY: MappingProxyType[str, int] = MappingProxyType(
    {
        "electronics": 500,
        "computers": 500,
        "phones": 500,
        "grocery": 500,
        "food": 500,
        "books": 600,
        "home": 700,
        "toys": 700,
        "sports": 700,
        "beauty": 800,
        "fashion": 800,
        "clothing": 800,
        "shoes": 800,
        "jewellery": 800,
        "accessories": 800,
    }
)
# (region, category slug or "*") -> basis points; wins over the category table
FEE_BP_BY_REGION: MappingProxyType[tuple[str, str], int] = MappingProxyType(
    {
        ("ID", "*"): 500,  # a launch market: lower fees to bring sellers on
    }
)


def fee_rate_bp(region_code: str, category_slug: str | None) -> int:
    slug = category_slug or ""
    for key in ((region_code, slug), (region_code, "*")):
        if key in FEE_BP_BY_REGION:
            return FEE_BP_BY_REGION[key]
    return FEE_BP_BY_CATEGORY.get(slug, DEFAULT_FEE_BP)


_categories: dict[str, tuple[str | None, float]] = {}
_CATEGORY_TTL = 300.0


def category_slugs(session: Session, product_ids: list[str]) -> dict[str, str | None]:
    """Each product's category slug, cached for a few minutes (this runs on every paid order; a product
    moving category meanwhile changes the fee of orders paid in the next minutes at most)."""
    now = time.monotonic()
    missing = [p for p in set(product_ids) if p not in _categories or _categories[p][1] < now]
    if missing:
        from etalage.catalog import lookups as catalog

        slugs = catalog.category_slugs(session, missing)
        for pid in missing:
            _categories[pid] = (slugs.get(pid), now + _CATEGORY_TTL)
    return {p: _categories[p][0] for p in product_ids}
