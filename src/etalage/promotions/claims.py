"""The only code that moves the promotion counters, in the checkout's (or the cancellation's) transaction.

Race-free on SQLite and PostgreSQL alike because each claim is one conditional ``UPDATE`` that checks the
limit and adds to the counter in the same statement: on SQLite writers are serialised (``BEGIN
IMMEDIATE``); on PostgreSQL the row lock makes a concurrent ``UPDATE`` wait and re-evaluate its ``WHERE``
against the committed row (READ COMMITTED), so the last unit can only be taken once. A claim that matches
no row is a 409 and the whole checkout rolls back. The per-shopper voucher limit is counted *after* the
voucher row is locked, so two checkouts of one shopper cannot both slip under it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from etalage.db import utcnow
from etalage.promotions.errors import FlashSaleSoldOut, VoucherLimitReached, VoucherNotValidNow, VoucherUsedUp
from etalage.promotions.models import FlashSale, FlashSaleClaim, Voucher, VoucherRedemption
from etalage.promotions.offers import VoucherPlan, uses_by

_f, _v = FlashSale.__table__.c, Voucher.__table__.c
_TAKE_UNITS = (
    update(FlashSale.__table__)
    .where(
        _f.id == bindparam("sale"),
        _f.status == "active",
        _f.starts_at <= bindparam("now"),
        _f.ends_at > bindparam("now"),
        _f.sold + bindparam("qty") <= _f.quantity,
    )
    .values(sold=_f.sold + bindparam("qty"))
)
_GIVE_UNITS = (
    update(FlashSale.__table__)
    .where(_f.id == bindparam("sale"), _f.sold >= bindparam("qty"))
    .values(sold=_f.sold - bindparam("qty"))
)
_TAKE_USE = (
    update(Voucher.__table__)
    .where(
        _v.id == bindparam("voucher"),
        _v.status == "active",
        _v.starts_at <= bindparam("now"),
        _v.ends_at > bindparam("now"),
        (_v.max_uses.is_(None)) | (_v.used_count < _v.max_uses),
    )
    .values(used_count=_v.used_count + 1)
)
_GIVE_USE = (
    update(Voucher.__table__)
    .where(_v.id == bindparam("voucher"), _v.used_count > 0)
    .values(used_count=_v.used_count - 1)
)


def claim(
    session: Session,
    *,
    user_id: str,
    checkout_id: str,
    items: dict[str, Any],
    orders: list[tuple[dict[str, Any], list[dict[str, Any]]]],
    voucher: VoucherPlan | None,
    now: datetime,
) -> None:
    """Take the flash-sale units and the voucher use this checkout priced with, and record them per order."""
    conn = session.connection()
    flash = []
    for order, rows in orders:
        for row in rows:
            sale_id = getattr(items[row["variant_id"]], "flash_sale_id", None)
            if sale_id:
                flash.append((sale_id, order["id"], row["variant_id"], row["quantity"]))
    for sale_id, _order, variant_id, qty in sorted(flash):  # one lock order: no deadlocks between sales
        if conn.execute(_TAKE_UNITS, {"sale": sale_id, "now": now, "qty": qty}).rowcount != 1:
            sale = session.get(FlashSale, sale_id, populate_existing=True)
            left = max(0, sale.quantity - sale.sold) if sale else 0
            raise FlashSaleSoldOut(
                f"The flash sale sold out ({left} left at the sale price); the item is back at its regular "
                "price: review it and check out again.",
                variant_id=variant_id,
                flash_sale_id=sale_id,
                left=left,
            )
    if flash:
        conn.execute(
            insert(FlashSaleClaim.__table__),
            [dict(sale_id=s, order_id=o, variant_id=v, quantity=q, created_at=now) for s, o, v, q in flash],
        )
    if voucher is None:
        return
    if conn.execute(_TAKE_USE, {"voucher": voucher.voucher_id, "now": now}).rowcount != 1:
        v = session.get(Voucher, voucher.voucher_id, populate_existing=True)
        if v is not None and v.status == "active" and v.starts_at <= now < v.ends_at:
            raise VoucherUsedUp(
                f"Voucher {voucher.code} has been used up; check out without it.", field="voucher_code"
            )
        raise VoucherNotValidNow(
            f"Voucher {voucher.code} has expired; check out without it.", field="voucher_code"
        )
    v = session.get(Voucher, voucher.voucher_id)
    assert v is not None
    if uses_by(session, v.id, user_id) >= v.per_user_limit:  # counted under the row lock taken just above
        raise VoucherLimitReached(
            f"You have already used voucher {v.code} {v.per_user_limit} time(s), its limit per shopper.",
            field="voucher_code",
        )
    rows = [
        dict(voucher_id=v.id, code=v.code, user_id=user_id, checkout_id=checkout_id, order_id=order["id"],
             merchant_id=order["merchant_id"], amount=voucher.by_merchant[order["merchant_id"]],
             currency=voucher.currency, funded_by=voucher.funded_by, created_at=now)
        for order, _ in orders
        if order["merchant_id"] in voucher.by_merchant
    ]  # fmt: skip
    conn.execute(insert(VoucherRedemption.__table__), rows)


def release_for_orders(session: Session, order_ids: list[str], *, reason: str) -> None:
    """Give back what cancelled orders took: flash-sale units, and the voucher use once every order of
    that checkout that used it is cancelled. Idempotent (released rows are skipped)."""
    if not order_ids:
        return
    now = utcnow()
    conn = session.connection()
    claims = session.execute(
        select(FlashSaleClaim.id, FlashSaleClaim.sale_id, FlashSaleClaim.quantity)
        .where(FlashSaleClaim.order_id.in_(order_ids), FlashSaleClaim.released_at.is_(None))
        .order_by(FlashSaleClaim.sale_id)
    ).all()
    for cid, sale_id, qty in claims:
        conn.execute(_GIVE_UNITS, {"sale": sale_id, "qty": qty})
        conn.execute(
            update(FlashSaleClaim.__table__)
            .where(FlashSaleClaim.__table__.c.id == cid)
            .values(released_at=now)
        )
    reds = session.execute(
        select(VoucherRedemption.id, VoucherRedemption.voucher_id, VoucherRedemption.checkout_id).where(
            VoucherRedemption.order_id.in_(order_ids), VoucherRedemption.released_at.is_(None)
        )
    ).all()
    if not reds:
        return
    conn.execute(
        update(VoucherRedemption.__table__)
        .where(VoucherRedemption.__table__.c.id.in_([r.id for r in reds]))
        .values(released_at=now, release_reason=reason[:500])
    )
    touched: dict[tuple[str, str], None] = defaultdict(lambda: None)
    for r in reds:
        touched[(r.voucher_id, r.checkout_id)]
    for voucher_id, checkout_id in sorted(touched):
        still = session.scalar(
            select(VoucherRedemption.id)
            .where(
                VoucherRedemption.voucher_id == voucher_id,
                VoucherRedemption.checkout_id == checkout_id,
                VoucherRedemption.released_at.is_(None),
            )
            .limit(1)
        )
        if still is None:
            conn.execute(_GIVE_USE, {"voucher": voucher_id})
