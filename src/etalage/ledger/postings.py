"""Journal entries for what happens to an order's money, written in the transaction of the change.

Subscribed with ``core.bus.subscribe_in_transaction`` (and as a refund listener), so an entry commits or
rolls back with the order change that caused it. Each entry has a unique ``source_key`` naming the event:
an event applied twice posts once.

- ``order.paid``: Dr psp_clearing (paid) + Dr voucher_expense (platform-funded vouchers)
  = Cr merchant_pending (price − fee) + Cr fee_revenue (fee). Merchant-funded vouchers are already out of
  what the shopper paid (checkout takes them off the lines), so they reduce the payable and the fee base.
- a refund (exact amount, from ``payments.refunds.on_refund``): Cr psp_clearing; the merchant gives back
  its share, the platform its fee and its voucher in proportion (cumulative, so several partial refunds
  add up to exactly the sale). Before release from merchant_pending, after it from merchant_available.
- delivery (``shipment.delivered`` or the order becoming delivered) starts the return window; the release
  sweep (``release_due``) then moves the order's pending balance to merchant_available.
- a return request holds the release until it is rejected or refunded.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from etalage.core import bus
from etalage.core.money import percent_of, split_proportionally
from etalage.db import insert_unless_present, new_id, utcnow
from etalage.ledger import accounts as acc
from etalage.ledger.models import JournalEntry, JournalLine, Settlement
from etalage.payments import refunds as payment_refunds
from etalage.payments.refunds import RefundState

log = logging.getLogger("etalage.ledger")
Line = tuple[str, str | None, int]  # (account, merchant_id, signed amount)


_INSERT_ENTRY, _INSERT_LINES = (insert(t.__table__) for t in (JournalEntry, JournalLine))
# A sale's settlement is written once per order: the insert itself says whether this is the first time
# (one statement per purchase instead of a read and then a write).
_SETTLE_ONCE = insert_unless_present(Settlement.__table__, ["order_id"], Settlement.__table__.c.order_id)


class Unbalanced(AssertionError):
    pass


def post(
    session: Session,
    source_key: str,
    kind: str,
    currency: str,
    lines: list[Line],
    *,
    merchant_id: str | None = None,
    order_id: str | None = None,
    memo: str = "",
    actor: str = "system",
    at: datetime | None = None,
    first_time: bool = False,
) -> str | None:
    """Write one balanced entry, unless ``source_key`` was posted already (``first_time``: the caller knows
    it was not; the unique key still refuses a second). Returns the entry id."""
    if sum(a for _, _, a in lines) != 0:
        raise Unbalanced(f"{source_key}: lines sum to {sum(a for _, _, a in lines)}, not 0")
    if not first_time and session.scalar(select(JournalEntry.id).where(JournalEntry.source_key == source_key)) is not None:
        return None
    lines = [ln for ln in lines if ln[2] != 0]
    now = at or utcnow()
    entry_id = new_id("ltx")
    conn = session.connection()  # prebuilt Core inserts: a sale posts on every purchase
    conn.execute(
        _INSERT_ENTRY,
        [dict(id=entry_id, source_key=source_key, kind=kind, merchant_id=merchant_id, order_id=order_id,
              memo=memo[:300], actor=actor[:80], created_at=now)],
    )  # fmt: skip
    if lines:
        conn.execute(
            _INSERT_LINES,
            [dict(entry_id=entry_id, account=a, merchant_id=m, order_id=order_id, amount=amt,
                  currency=currency, created_at=now) for a, m, amt in lines],
        )  # fmt: skip
    return entry_id


# --- the sale ------------------------------------------------------------------------------------------------


def _discounts(session: Session, order_id: str) -> tuple[int, int]:
    """(platform-funded, merchant-funded) voucher amounts on the order, from promotions if it is there."""
    try:
        from etalage.promotions import service as promotions
    except ImportError:
        return 0, 0
    finder = getattr(promotions, "discounts_for_order", None)
    if finder is None:
        return 0, 0
    platform = merchant = 0
    for d in finder(session, order_id) or []:
        get = d.get if isinstance(d, dict) else lambda k, _d=d: getattr(_d, k, None)
        amount = get("amount")
        amount = int(getattr(amount, "amount", amount) or 0)
        if get("funded_by") == "platform":
            platform += amount
        else:
            merchant += amount
    return platform, merchant


def fee_for(session: Session, region_code: str, lines: list[Any], platform_discount: int) -> int:
    """The referral fee: each line at its category's rate, on what the merchant sells it for. Vouchers are
    already off the lines' totals (checkout takes them off before tax); a platform-funded voucher is paid to
    the merchant by the platform, so its share is added back to the lines it came off."""
    slugs = acc.category_slugs(session, [ln.product_id for ln in lines])
    totals = [ln.total_amount for ln in lines]
    back = (
        split_proportionally(platform_discount, totals)
        if platform_discount and sum(totals)
        else [0] * len(lines)
    )
    return sum(
        percent_of(t + b, acc.fee_rate_bp(region_code, slugs[ln.product_id]))
        for ln, t, b in zip(lines, totals, back, strict=True)
    )


class _SaleLine(NamedTuple):
    product_id: str
    total_amount: int


def _sale_facts(session: Session, payload: dict[str, Any]) -> tuple[str, str, int, list[_SaleLine], int | None]:
    """(region, currency, paid, lines, discount or None if unknown) of a paid order: from the event when it
    carries them (every checkout's does), else read from commerce (an older or hand-made event)."""
    items = payload.get("items") or []
    if "total_amount" in payload and all("total_amount" in it for it in items):
        lines = [_SaleLine(it["product_id"], it["total_amount"]) for it in items]
        discount = payload.get("discount_amount")
        return payload["region"], payload["currency"], payload["total_amount"], lines, discount
    from etalage.commerce import orders as commerce_orders

    order = commerce_orders.get_for_merchant(session, payload["merchant_id"], payload["order_id"])
    read = commerce_orders.lines_of(session, [order.id])[order.id]
    lines = [_SaleLine(ln.product_id, ln.total_amount) for ln in read]
    return order.region_code, order.currency, order.total_amount, lines, None


def on_order_paid(session: Session, topic: str, payload: dict[str, Any]) -> None:
    order_id, merchant_id = payload["order_id"], payload["merchant_id"]
    region_code, currency, paid, lines, discount = _sale_facts(session, payload)
    # the latter of the two: merchant-funded, already off the total; no voucher, nothing to look up
    platform_discount, _merchant_discount = _discounts(session, order_id) if discount != 0 else (0, 0)
    fee = min(fee_for(session, region_code, lines, platform_discount), paid + platform_discount)
    payable = paid + platform_discount - fee
    settled = session.connection().execute(
        _SETTLE_ONCE[session.get_bind().dialect.name],
        dict(order_id=order_id, merchant_id=merchant_id, region_code=region_code, currency=currency,
             paid_amount=paid, fee_amount=fee, platform_voucher_amount=platform_discount),
    ).first()  # fmt: skip
    if settled is None:
        return  # settled before: this order's sale is already posted
    post(
        session,
        f"sale:{order_id}",
        "sale",
        currency,
        [
            (acc.PSP_CLEARING, None, paid),
            (acc.VOUCHER_EXPENSE, None, platform_discount),
            (acc.MERCHANT_PENDING, merchant_id, -payable),
            (acc.FEE_REVENUE, None, -fee),
        ],
        merchant_id=merchant_id,
        order_id=order_id,
        memo=f"order {order_id} paid",
        at=_parse_time(payload.get("paid_at")),  # the sale belongs to the day it was paid, whenever posted
        first_time=True,  # the settlement above is written with the sale entry: none yet, so no sale yet
    )


# --- refunds -------------------------------------------------------------------------------------------------


@payment_refunds.on_refund
def on_refund(session: Session, refund: RefundState) -> None:
    key = f"refund:{refund.refund_id}"
    st = session.get(Settlement, refund.order_id) if refund.order_id else None
    if st is None:
        # Money taken for an order that never sold (stock ran out as the payment completed): it came in
        # and goes back out; both legs are recorded so the provider's account reconciles.
        post(session, key, "refund", refund.currency,
             [(acc.PSP_CLEARING, None, refund.amount), (acc.REFUND_CLEARING, None, -refund.amount),
              (acc.REFUND_CLEARING, None, refund.amount), (acc.PSP_CLEARING, None, -refund.amount)],
             order_id=refund.order_id, memo=f"refund {refund.refund_id} of an unsold order", actor=refund.actor)  # fmt: skip
        return
    if session.scalar(select(JournalEntry.id).where(JournalEntry.source_key == key)) is not None:
        return
    refunded = st.refunded_amount + refund.amount
    # cumulative shares, so partial refunds add up to exactly the sale's fee and voucher
    fee_total = st.fee_amount * refunded // st.paid_amount if st.paid_amount else 0
    voucher_total = st.platform_voucher_amount * refunded // st.paid_amount if st.paid_amount else 0
    fee_back, voucher_back = fee_total - st.fee_reversed, voucher_total - st.voucher_reversed
    merchant_share = refund.amount + voucher_back - fee_back
    account = acc.MERCHANT_AVAILABLE if st.released_at is not None else acc.MERCHANT_PENDING
    post(
        session,
        key,
        "refund",
        st.currency,
        [
            (acc.PSP_CLEARING, None, -refund.amount),
            (account, st.merchant_id, merchant_share),
            (acc.FEE_REVENUE, None, fee_back),
            (acc.VOUCHER_EXPENSE, None, -voucher_back),
        ],
        merchant_id=st.merchant_id,
        order_id=st.order_id,
        memo=f"refund {refund.refund_id}: {refund.reason}",
        actor=refund.actor,
    )
    st.refunded_amount, st.fee_reversed, st.voucher_reversed = refunded, fee_total, voucher_total
    session.flush()


# --- delivery, returns and release ------------------------------------------------------------------------


def _return_window(region_code: str) -> int:
    from etalage.commerce.regions import region

    return int(getattr(region(region_code), "return_window_days", 14))


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else None
    return None


def mark_delivered(session: Session, order_id: str, at: datetime | None = None) -> None:
    st = session.get(Settlement, order_id)
    if st is None or st.delivered_at is not None:
        return
    st.delivered_at = at or utcnow()
    st.available_at = st.delivered_at + timedelta(days=_return_window(st.region_code))
    session.flush()


def on_delivered(session: Session, topic: str, payload: dict[str, Any]) -> None:
    """The return window starts when the whole order is delivered (the order becomes delivered), counted
    from its last parcel's delivery time when shipments reported one."""
    order_id = payload.get("order_id")
    if not order_id:
        return
    if topic == "shipment.delivered":
        st = session.get(Settlement, order_id)
        at = _parse_time(payload.get("delivered_at")) or utcnow()
        if st is not None and (st.last_parcel_at is None or at > st.last_parcel_at):
            st.last_parcel_at = at
        return
    if payload.get("to") == "delivered":
        st = session.get(Settlement, order_id)
        if st is not None:
            mark_delivered(session, order_id, st.last_parcel_at)


def on_return(session: Session, topic: str, payload: dict[str, Any]) -> None:
    """An open return holds the order's money back from release until it is decided."""
    order_id = payload.get("order_id")
    if not order_id:
        return
    change = 1 if topic == "return.requested" else -1
    session.execute(
        update(Settlement)
        .where(Settlement.order_id == order_id)
        .values(returns_open=func.max(0, Settlement.returns_open + change)
                if session.get_bind().dialect.name == "sqlite"
                else func.greatest(0, Settlement.returns_open + change))
    )  # fmt: skip


def pending_balance(session: Session, order_id: str) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(JournalLine.amount), 0)).where(
                JournalLine.order_id == order_id, JournalLine.account == acc.MERCHANT_PENDING
            )
        )
        or 0
    )


def release_due(session: Session, now: datetime | None = None, limit: int = 500) -> int:
    """Move the pending balance of every order whose return window has passed to merchant_available."""
    now = now or utcnow()
    due = list(
        session.scalars(
            select(Settlement)
            .where(Settlement.available_at <= now, Settlement.released_at.is_(None),
                   Settlement.returns_open == 0)
            .order_by(Settlement.available_at)
            .limit(limit)
        )
    )  # fmt: skip
    for st in due:
        owed = -pending_balance(session, st.order_id)  # a liability: credit balance
        post(
            session,
            f"release:{st.order_id}",
            "release",
            st.currency,
            [(acc.MERCHANT_PENDING, st.merchant_id, owed), (acc.MERCHANT_AVAILABLE, st.merchant_id, -owed)],
            merchant_id=st.merchant_id,
            order_id=st.order_id,
            memo=f"order {st.order_id}: return window over",
        )
        st.released_at = utcnow()  # when it happened; ``now`` is only the clock the window is read against
    session.flush()
    return len(due)


def subscribe() -> None:
    bus.subscribe_in_transaction("order.paid", on_order_paid)
    bus.subscribe_in_transaction("shipment.delivered", on_delivered)
    bus.subscribe_in_transaction("order.status.changed", on_delivered)
    for topic in ("return.requested", "return.rejected", "return.refunded"):
        bus.subscribe_in_transaction(topic, on_return)


subscribe()
