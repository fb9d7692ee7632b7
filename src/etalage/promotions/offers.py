"""What checkout asks of promotions before it writes anything: today's flash prices for the items, and
what a voucher code takes off each merchant's order. Read-only: the counters move in ``claims``."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from etalage.catalog.lookups import CheckoutItem
from etalage.core.money import format_minor, percent_of, split_proportionally
from etalage.promotions.errors import (
    VoucherLimitReached,
    VoucherMinimumSpend,
    VoucherNotApplicable,
    VoucherNotValidNow,
    VoucherUnknown,
    VoucherUsedUp,
)
from etalage.promotions.models import FlashSale, Voucher, VoucherRedemption


@dataclass(frozen=True)
class FlashItem(CheckoutItem):
    """A checkout item priced by a running flash sale."""

    flash_sale_id: str = ""
    regular_amount: int | None = None


@dataclass
class VoucherPlan:
    voucher_id: str
    code: str
    funded_by: str
    currency: str
    by_merchant: dict[str, int] = field(default_factory=dict)  # discount on each merchant's order

    @property
    def total(self) -> int:
        return sum(self.by_merchant.values())


_f = FlashSale.__table__.c
_ACTIVE_SALES = select(FlashSale.__table__).where(
    _f.variant_id.in_(bindparam("variants", expanding=True)),
    _f.region_code == bindparam("region"),
    _f.status == "active",
    _f.starts_at <= bindparam("now"),
    _f.ends_at > bindparam("now"),
)


def active_sales(session: Session, variant_ids: list[str], region_code: str, now: datetime) -> dict[str, Any]:
    """The running flash sale of each variant in the region (one per variant: the cheapest), sold out or not."""
    out: dict[str, Any] = {}
    if not variant_ids:
        return out
    rows = session.connection().execute(
        _ACTIVE_SALES, {"variants": list(variant_ids), "region": region_code, "now": now}
    )
    for row in rows:
        prev = out.get(row.variant_id)
        if prev is None or (row.sold < row.quantity, -row.price_amount) > (
            prev.sold < prev.quantity,
            -prev.price_amount,
        ):
            out[row.variant_id] = row
    return out


def with_flash_prices(
    session: Session, items: dict[str, CheckoutItem], region_code: str, now: datetime
) -> dict[str, CheckoutItem]:
    """``items`` with the flash price of every variant whose sale is running and not sold out."""
    sales = active_sales(
        session, [v for v, it in items.items() if it.price_amount is not None], region_code, now
    )
    if not sales:
        return items
    out = dict(items)
    for vid, sale in sales.items():
        it = items[vid]
        if (
            sale.sold >= sale.quantity
            or sale.currency != it.currency
            or sale.price_amount >= (it.price_amount or 0)
        ):
            continue
        values = {f.name: getattr(it, f.name) for f in fields(CheckoutItem)}
        values["price_amount"] = sale.price_amount
        out[vid] = FlashItem(**values, flash_sale_id=sale.id, regular_amount=it.price_amount)
    return out


def normalise_code(code: str) -> str:
    return code.strip().upper()


def find_voucher(session: Session, code: str) -> Voucher | None:
    return session.scalar(select(Voucher).where(Voucher.code == normalise_code(code)))


def check_window(v: Voucher, now: datetime) -> None:
    if v.status != "active" or now >= v.ends_at:
        raise VoucherNotValidNow(f"Voucher {v.code} has expired; check out without it.", field="voucher_code")
    if now < v.starts_at:
        raise VoucherNotValidNow(
            f"Voucher {v.code} is valid from {v.starts_at.isoformat()}; check out without it or wait.",
            field="voucher_code",
            valid_from=v.starts_at.isoformat(),
        )


def uses_by(session: Session, voucher_id: str, user_id: str) -> int:
    """How many checkouts of this user hold the voucher now (cancelled ones gave their use back)."""
    return int(
        session.scalar(
            select(func.count(func.distinct(VoucherRedemption.checkout_id))).where(
                VoucherRedemption.voucher_id == voucher_id,
                VoucherRedemption.user_id == user_id,
                VoucherRedemption.released_at.is_(None),
            )
        )
        or 0
    )


def plan_voucher(
    session: Session,
    user_id: str,
    code: str,
    lines: list[Any],
    items: dict[str, CheckoutItem],
    region_code: str,
    currency: str,
    now: datetime,
) -> VoucherPlan:
    """Check the voucher against this checkout and share its discount over the merchants' orders.

    Limits are checked here for a clear early answer, and again under the voucher's row lock in
    ``claims.claim`` (only that second check is race-free)."""
    v = find_voucher(session, code)
    if v is None:
        raise VoucherUnknown(
            f"There is no voucher {normalise_code(code)!r}; check the code.", field="voucher_code"
        )
    check_window(v, now)
    if v.region_code and v.region_code != region_code:
        raise VoucherNotApplicable(
            f"Voucher {v.code} is valid only for delivery to {v.region_code}.", field="voucher_code"
        )
    if v.currency and v.currency != currency:
        raise VoucherNotApplicable(
            f"Voucher {v.code} is in {v.currency}, this order in {currency}.", field="voucher_code"
        )
    subtotals: dict[str, int] = {}
    for ln in lines:
        it = items[ln.variant_id]
        if v.merchant_id is None or it.merchant_id == v.merchant_id:
            subtotals[it.merchant_id] = (
                subtotals.get(it.merchant_id, 0) + (it.price_amount or 0) * ln.quantity
            )
    if not subtotals:
        raise VoucherNotApplicable(
            f"Voucher {v.code} is for another shop's items; nothing in this order is sold by that shop.",
            field="voucher_code",
        )
    eligible = sum(subtotals.values())
    if eligible < v.min_spend_amount:
        raise VoucherMinimumSpend(
            f"Voucher {v.code} needs a spend of at least {format_minor(v.min_spend_amount, currency)} "
            f"on eligible items; this order has {format_minor(eligible, currency)}.",
            field="voucher_code",
            minimum={"amount": v.min_spend_amount, "currency": currency},
        )
    if v.max_uses is not None and v.used_count >= v.max_uses:
        raise VoucherUsedUp(f"Voucher {v.code} has been used up; check out without it.", field="voucher_code")
    if uses_by(session, v.id, user_id) >= v.per_user_limit:
        raise VoucherLimitReached(
            f"You have already used voucher {v.code} {v.per_user_limit} time(s), its limit per shopper.",
            field="voucher_code",
        )
    discount = (
        percent_of(eligible, v.percent_bp or 0) if v.kind == "percent" else min(v.amount or 0, eligible)
    )
    merchants = sorted(subtotals)
    parts = split_proportionally(discount, [subtotals[m] for m in merchants])
    return VoucherPlan(v.id, v.code, v.funded_by, currency, dict(zip(merchants, parts, strict=True)))
