"""Promotions logic: merchants' and the platform's vouchers, flash sales, prices with their EU prior price.

For other domains (documented interfaces):
- :func:`discounts_for_order` — the vouchers taken off an order, with who funds each (the ledger).
- ``offers.with_flash_prices`` / ``offers.plan_voucher`` / ``claims.claim`` — checkout's pricing and claims.
- ``claims.release_for_orders`` — a cancelled order gives back its flash-sale units and voucher use.
- ``prices.record_price`` — catalog records every regular price change; :func:`variant_prices` answers
  with flash prices and the EU lowest-30-day price.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_merchant, require_scope
from etalage.catalog import lookups as catalog
from etalage.commerce.regions import currency_of, is_region
from etalage.core.errors import Conflict, InvalidInput, NotFound
from etalage.core.money import Money
from etalage.core.pagination import PageParams, paginate
from etalage.db import utcnow
from etalage.promotions import prices
from etalage.promotions.models import FlashSale, Voucher, VoucherRedemption
from etalage.promotions.offers import normalise_code
from etalage.promotions.schemas import (
    DiscountOut,
    FlashSaleIn,
    FlashSaleOut,
    VariantPriceOut,
    VoucherIn,
    VoucherOut,
)


def _state(status: str, starts_at: datetime, ends_at: datetime, now: datetime) -> str:
    if status != "active":
        return "ended"
    return "scheduled" if now < starts_at else "expired" if now >= ends_at else "active"


def _m(amount: int | None, currency: str | None) -> Money | None:
    return Money(amount=amount, currency=currency) if amount is not None and currency else None


# --- vouchers ----------------------------------------------------------------------------------------------


def voucher_out(v: Voucher, now: datetime | None = None) -> VoucherOut:
    return VoucherOut(
        id=v.id, code=v.code, merchant_id=v.merchant_id, funded_by=v.funded_by, kind=v.kind,  # type: ignore[arg-type]
        percent=v.percent_bp / 100 if v.percent_bp else None, amount=_m(v.amount, v.currency),
        min_spend=_m(v.min_spend_amount, v.currency) if v.min_spend_amount else None,
        region_code=v.region_code, starts_at=v.starts_at, ends_at=v.ends_at, per_user_limit=v.per_user_limit,
        max_uses=v.max_uses, used=v.used_count, status=_state(v.status, v.starts_at, v.ends_at, now or utcnow()),  # type: ignore[arg-type]
        description=v.description, created_at=v.created_at,
    )  # fmt: skip


def create_voucher(
    session: Session, principal: Principal, merchant_id: str | None, body: VoucherIn
) -> Voucher:
    """A merchant-funded voucher (``merchant_id``) or, for administrators, a platform-funded one (None)."""
    if merchant_id is None:
        require_scope(principal, "admin")
    else:
        require_merchant(principal, merchant_id, write=True)
    now = utcnow()
    starts = body.starts_at or now
    if body.ends_at <= starts:
        raise InvalidInput("The voucher must end after it starts.", field="ends_at")
    if body.ends_at <= now:
        raise InvalidInput("The voucher would already have ended.", field="ends_at")
    currency = body.currency
    if body.region_code is not None:
        if not is_region(body.region_code):
            raise InvalidInput(f"Etalage does not sell in region {body.region_code}.", field="region_code")
        expected = currency_of(body.region_code)
        if currency is not None and currency != expected:
            raise InvalidInput(
                f"Prices in {body.region_code} are in {expected}, not {currency}.", field="currency"
            )
        currency = expected
    if currency is None and (body.amount is not None or body.min_spend):
        raise InvalidInput(
            "A fixed amount or a minimum spend needs a currency (or a region).", field="currency"
        )
    v = Voucher(
        code=normalise_code(body.code), merchant_id=merchant_id, funded_by="merchant" if merchant_id else "platform",
        kind="percent" if body.percent is not None else "fixed",
        percent_bp=body.percent * 100 if body.percent is not None else None, amount=body.amount, currency=currency,
        min_spend_amount=body.min_spend, region_code=body.region_code, starts_at=starts, ends_at=body.ends_at,
        per_user_limit=body.per_user_limit, max_uses=body.max_uses, used_count=0, status="active",
        description=body.description, created_by=principal.user_id, created_at=now,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(v)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"The code {v.code} is already taken; choose another.", field="code") from exc
    return v


def _voucher(session: Session, voucher_id: str, merchant_id: str | None) -> Voucher:
    v = session.get(Voucher, voucher_id)
    if v is None or v.merchant_id != merchant_id:
        raise NotFound(f"No voucher {voucher_id}.")
    return v


def list_vouchers(
    session: Session, principal: Principal, merchant_id: str | None, params: PageParams
) -> tuple[list[VoucherOut], str | None]:
    if merchant_id is None:
        require_scope(principal, "admin")
        stmt = select(Voucher).where(Voucher.merchant_id.is_(None))
    else:
        require_merchant(principal, merchant_id)
        stmt = select(Voucher).where(Voucher.merchant_id == merchant_id)
    rows, cursor = paginate(session, stmt, Voucher.id, params)
    now = utcnow()
    return [voucher_out(v, now) for v in rows], cursor


def get_voucher(session: Session, principal: Principal, merchant_id: str | None, voucher_id: str) -> Voucher:
    if merchant_id is None:
        require_scope(principal, "admin")
    else:
        require_merchant(principal, merchant_id)
    return _voucher(session, voucher_id, merchant_id)


def end_voucher(
    session: Session, principal: Principal, merchant_id: str | None, voucher_id: str, reason: str
) -> Voucher:
    """Stop a voucher now; checkouts that already hold it keep it (who, when and why are recorded)."""
    if merchant_id is None:
        require_scope(principal, "admin")
    else:
        require_merchant(principal, merchant_id, write=True)
    v = _voucher(session, voucher_id, merchant_id)
    if v.status == "ended":
        raise Conflict(f"Voucher {v.code} has already ended.")
    now = utcnow()
    session.execute(
        update(Voucher).where(Voucher.id == v.id)
        .values(status="ended", ended_at=now, ended_by=principal.user_id, end_reason=reason)
    )  # fmt: skip
    session.refresh(v)
    return v


@dataclass(frozen=True)
class Discount:
    voucher_id: str
    code: str
    amount: int
    currency: str
    funded_by: str  # merchant | platform
    merchant_id: str
    released: bool


def discounts_for_order(session: Session, order_id: str) -> list[Discount]:
    """The vouchers taken off one order, with who funds each; ``released`` once the order was cancelled."""
    rows = session.scalars(
        select(VoucherRedemption).where(VoucherRedemption.order_id == order_id).order_by(VoucherRedemption.id)
    )
    return [
        Discount(
            r.voucher_id, r.code, r.amount, r.currency, r.funded_by, r.merchant_id, r.released_at is not None
        )
        for r in rows
    ]


def discount_out(d: Discount) -> DiscountOut:
    return DiscountOut(
        voucher_id=d.voucher_id, code=d.code, amount=Money(amount=d.amount, currency=d.currency),
        funded_by=d.funded_by, released=d.released,  # type: ignore[arg-type]
    )  # fmt: skip


# --- flash sales -------------------------------------------------------------------------------------------


def flash_sale_out(s: Any, regular: int | None = None, now: datetime | None = None) -> FlashSaleOut:
    return FlashSaleOut(
        id=s.id, merchant_id=s.merchant_id, product_id=s.product_id, variant_id=s.variant_id,
        region_code=s.region_code, price=Money(amount=s.price_amount, currency=s.currency),
        regular_price=_m(regular, s.currency), quantity=s.quantity, sold=s.sold, left=max(0, s.quantity - s.sold),
        starts_at=s.starts_at, ends_at=s.ends_at, status=_state(s.status, s.starts_at, s.ends_at, now or utcnow()),  # type: ignore[arg-type]
        created_at=s.created_at,
    )  # fmt: skip


def create_flash_sale(
    session: Session, principal: Principal, merchant_id: str, body: FlashSaleIn
) -> FlashSale:
    require_merchant(principal, merchant_id, write=True)
    owner = catalog.variant_owner(session, body.variant_id)
    if owner is None or owner[1] != merchant_id:
        raise NotFound(f"No variant {body.variant_id}.", field="variant_id")
    now = utcnow()
    starts = body.starts_at or now
    if body.ends_at <= starts or body.ends_at <= now:
        raise InvalidInput("The sale must end after it starts, and in the future.", field="ends_at")
    item = catalog.checkout_items(session, [body.variant_id], body.region_code).get(body.variant_id)
    if item is None or item.price_amount is None:
        raise InvalidInput(
            f"The variant has no price in {body.region_code}; set one first.", field="region_code"
        )
    if body.price >= item.price_amount:
        raise InvalidInput(
            f"A flash sale price must be lower than the regular price ({item.price_amount} {item.currency}).",
            field="price",
        )
    clash = session.scalar(
        select(FlashSale.id).where(
            FlashSale.variant_id == body.variant_id, FlashSale.region_code == body.region_code,
            FlashSale.status == "active", FlashSale.starts_at < body.ends_at, FlashSale.ends_at > starts,
        ).limit(1)
    )  # fmt: skip
    if clash:
        raise Conflict(
            f"Flash sale {clash} already runs for this variant and region then.", flash_sale_id=clash
        )
    sale = FlashSale(
        merchant_id=merchant_id, product_id=owner[0], variant_id=body.variant_id, region_code=body.region_code,
        price_amount=body.price, currency=item.currency, quantity=body.quantity, sold=0, starts_at=starts,
        ends_at=body.ends_at, status="active", created_by=principal.user_id, created_at=now,
    )  # fmt: skip
    session.add(sale)
    session.flush()
    return sale


def list_flash_sales(
    session: Session, principal: Principal, merchant_id: str, params: PageParams
) -> tuple[list[FlashSaleOut], str | None]:
    require_merchant(principal, merchant_id)
    rows, cursor = paginate(
        session, select(FlashSale).where(FlashSale.merchant_id == merchant_id), FlashSale.id, params
    )
    now = utcnow()
    return [flash_sale_out(s, now=now) for s in rows], cursor


def get_flash_sale(session: Session, principal: Principal, merchant_id: str, sale_id: str) -> FlashSale:
    require_merchant(principal, merchant_id)
    sale = session.get(FlashSale, sale_id)
    if sale is None or sale.merchant_id != merchant_id:
        raise NotFound(f"No flash sale {sale_id}.")
    return sale


def end_flash_sale(
    session: Session, principal: Principal, merchant_id: str, sale_id: str, reason: str
) -> FlashSale:
    require_merchant(principal, merchant_id, write=True)
    sale = get_flash_sale(session, principal, merchant_id, sale_id)
    if sale.status == "ended":
        raise Conflict("This flash sale has already ended.")
    session.execute(
        update(FlashSale).where(FlashSale.id == sale.id)
        .values(status="ended", ended_at=utcnow(), ended_by=principal.user_id, end_reason=reason)
    )  # fmt: skip
    session.refresh(sale)
    return sale


# --- prices ------------------------------------------------------------------------------------------------


def variant_prices(session: Session, variant_ids: list[str], region_code: str) -> dict[str, VariantPriceOut]:
    """What each variant costs now in the region, and (EU, when reduced) its lowest price of 30 days."""
    items = catalog.checkout_items(session, variant_ids, region_code)
    facts = prices.price_facts(
        session, region_code, {v: (it.price_amount, it.currency) for v, it in items.items()}
    )
    out = {}
    for vid, f in facts.items():
        out[vid] = VariantPriceOut(
            variant_id=vid, region_code=region_code, price=_m(f.price, f.currency),
            regular_price=_m(f.regular, f.currency), reduced=f.reduced, lowest_price_30d=_m(f.lowest_30d, f.currency),
            flash_sale=flash_sale_out(f.sale, f.regular) if f.sale is not None else None,
        )  # fmt: skip
    return out
