"""Commissions follow the order's money, each change in the transaction of the order change that caused it.

- ``order.paid`` (in-transaction): lines bought from a creator's video or live room earn the creator the
  merchant's rate on their price net of VAT and vouchers (shipping earns nothing). A merchant's own video
  or room (made for the merchant, or by one of its members) earns nothing. One row per order and source,
  unique, so a replayed event accrues once.
- a refund (``payments.refunds.on_refund``, exact amounts): the commission goes back in proportion to the
  share of the order's total refunded (cumulative, so partial refunds add up to exactly the commission).
- ``order.status.changed`` to delivered starts the region's return window; an open return holds it; the
  sweep (``make_payable_due``) then makes it payable. ``pay_creator`` marks a creator's payable ones paid.

With the ledger installed, each accrual, reversal and payment is also posted there (merchant payable →
creators' account), in the same transaction. Bus topics: ``commission.accrued``, ``commission.reversed``,
``commission.payable``, ``commission.paid`` {commission_id, creator_id, merchant_id, order_id, video_id,
live_room_id, amount, currency}.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from etalage.affiliates import rates
from etalage.affiliates.models import Commission, CommissionEvent
from etalage.core import bus
from etalage.core.money import percent_of
from etalage.db import new_id, utcnow
from etalage.payments import refunds as payment_refunds
from etalage.payments.refunds import RefundState

log = logging.getLogger("etalage.affiliates")
ACCRUED, REVERSED, PAYABLE, PAID = (
    "commission.accrued",
    "commission.reversed",
    "commission.payable",
    "commission.paid",
)


def _ledger() -> Any | None:
    try:
        from etalage.ledger import service as ledger
    except ImportError:
        return None
    return ledger if hasattr(ledger, "post_creator_commission") else None


def _event(session: Session, c: Commission, kind: str, before: str | None, amount: int, actor: str, reason: str,
           source_key: str | None = None) -> None:  # fmt: skip
    session.add(CommissionEvent(commission_id=c.id, source_key=source_key, kind=kind, from_status=before,
                                to_status=c.status, amount=amount, actor=actor[:80], reason=reason))  # fmt: skip


def payload(c: Commission, amount: int | None = None) -> dict[str, Any]:
    return {"commission_id": c.id, "creator_id": c.creator_id, "merchant_id": c.merchant_id,
            "order_id": c.order_id, "video_id": c.video_id, "live_room_id": c.live_room_id,
            "amount": c.amount if amount is None else amount, "currency": c.currency, "status": c.status}  # fmt: skip


def _earners(session: Session, merchant_id: str, videos: set[str], rooms: set[str]) -> dict[str, str]:
    """source id -> the creator it earns for; the merchant's own videos and rooms are left out."""
    try:
        from etalage.content import service as content
    except ImportError:
        return {}
    from etalage.accounts import service as accounts

    owners: dict[str, tuple[str | None, str | None]] = {}
    if videos:
        owners.update(content.video_owners(session, videos))
    if rooms:
        owners.update(content.room_hosts(session, rooms))
    out: dict[str, str] = {}
    members: dict[str, bool] = {}
    for source, (creator, made_for) in owners.items():
        if creator is None or made_for is not None:
            continue  # made for a merchant (by its member): the merchant's own promotion
        if creator not in members:
            members[creator] = merchant_id in accounts.principal_for_user(session, creator).memberships
        if not members[creator]:
            out[source] = creator
    return out


def on_order_paid(session: Session, topic: str, data: dict[str, Any]) -> None:
    accrue(session, data)


def accrue(session: Session, data: dict[str, Any]) -> list[Commission]:
    """The commissions an ``order.paid`` payload earns (none twice), each taken from the shop's balance."""
    if (
        not data.get("source_video_id")
        and not data.get("source_live_room_id")
        and not any(
            it.get("source_video_id") or it.get("source_live_room_id") for it in data.get("items") or ()
        )
    ):
        return []  # most orders: nothing to look up
    from etalage.commerce import sales

    order_id, merchant_id = data["order_id"], data["merchant_id"]
    if session.scalar(select(Commission.id).where(Commission.order_id == order_id).limit(1)) is not None:
        return []  # accrued already (the event was replayed)
    order, lines = sales.order_lines_net(session, order_id)
    if order is None:
        return []
    by_source: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for ln in lines:
        video = ln["source_video_id"] or (None if ln["source_live_room_id"] else order.source_video_id)
        room = ln["source_live_room_id"] or (None if video else order.source_live_room_id)
        if video or room:
            by_source[("video", video) if video else ("live_room", room)].append(ln)
    earners = _earners(session, merchant_id, {s for k, s in by_source if k == "video"},
                       {s for k, s in by_source if k == "live_room"})  # fmt: skip
    if not earners:
        return []
    product_ids = sorted({ln["product_id"] for ln in lines})
    rate_of = rates.rates_for(session, merchant_id, order.region_code, product_ids)
    ledger = _ledger()
    made = []
    for (kind, source), group in sorted(by_source.items()):
        creator = earners.get(source)
        if creator is None:
            continue
        detail = [{"product_id": ln["product_id"], "base": ln["net_amount"], "rate_bp": rate_of[ln["product_id"]],
                   "amount": percent_of(ln["net_amount"], rate_of[ln["product_id"]])} for ln in group]  # fmt: skip
        base, amount = sum(d["base"] for d in detail), sum(d["amount"] for d in detail)
        uniform = {d["rate_bp"] for d in detail}
        rate_bp = uniform.pop() if len(uniform) == 1 else (amount * 10_000 // base if base else 0)
        c = Commission(
            id=new_id("cms"), creator_id=creator, merchant_id=merchant_id, order_id=order_id, source_id=source,
            video_id=source if kind == "video" else None, live_room_id=source if kind == "live_room" else None,
            region_code=order.region_code, currency=order.currency, order_total_amount=order.total_amount,
            base_amount=base, rate_bp=rate_bp, amount=amount, lines=detail, status="pending",
            accrued_at=utcnow(), updated_at=utcnow(),
        )  # fmt: skip
        session.add(c)
        _event(session, c, "accrued", None, amount, "system", f"order {order_id} paid from {kind} {source}")
        session.flush()
        if ledger is not None and amount:
            ledger.post_creator_commission(
                session, f"commission:{c.id}:accrued", merchant_id=merchant_id, order_id=order_id,
                currency=c.currency, amount=amount, memo=f"creator commission on order {order_id} ({source})",
            )  # fmt: skip
        bus.publish(session, ACCRUED, payload(c))
        made.append(c)
    return made


def reversed_share(amount: int, refunded: int, order_total: int) -> int:
    """How much of a commission ``amount`` goes back once ``refunded`` of ``order_total`` was refunded. Worked
    out on the cumulative refund, so several partial refunds add up to exactly the commission, never more."""
    if refunded >= order_total:
        return amount
    return amount * max(refunded, 0) // max(order_total, 1)


@payment_refunds.on_refund
def on_refund(session: Session, refund: RefundState) -> None:
    if refund.order_id is None:
        return
    commissions = list(session.scalars(select(Commission).where(Commission.order_id == refund.order_id)))
    ledger = _ledger() if commissions else None
    for c in commissions:
        key = f"refund:{refund.refund_id}:{c.id}"
        if session.scalar(select(CommissionEvent.id).where(CommissionEvent.source_key == key)) is not None:
            continue
        refunded = min(c.order_total_amount, c.refunded_amount + refund.amount)
        total_back = reversed_share(c.amount, refunded, c.order_total_amount)
        back = total_back - c.reversed_amount
        before = c.status
        c.refunded_amount, c.reversed_amount, c.updated_at = refunded, total_back, utcnow()
        if c.reversed_amount >= c.amount and c.status in ("pending", "payable"):
            c.status = "reversed"
        _event(session, c, "reversed", before, back, refund.actor, f"refund {refund.refund_id}: {refund.reason}",
               source_key=key)  # fmt: skip
        session.flush()
        if ledger is not None and back:
            ledger.post_creator_commission(
                session, f"commission:{c.id}:{key}", merchant_id=c.merchant_id, order_id=c.order_id,
                currency=c.currency, amount=-back, memo=f"commission back: refund {refund.refund_id}",
                actor=refund.actor,
            )  # fmt: skip
        if back:
            bus.publish(session, REVERSED, payload(c, back))


def on_status_changed(session: Session, topic: str, data: dict[str, Any]) -> None:
    if data.get("to") != "delivered" or not data.get("order_id"):
        return
    from etalage.commerce import service as commerce

    now = utcnow()
    for c in session.scalars(
        select(Commission).where(Commission.order_id == data["order_id"], Commission.delivered_at.is_(None))
    ):
        c.delivered_at = now
        c.payable_at = now + timedelta(days=commerce.return_window_days(c.region_code))
        c.updated_at = now


def on_return(session: Session, topic: str, data: dict[str, Any]) -> None:
    """An open return holds the commission back from payable until it is decided."""
    if not data.get("order_id"):
        return
    change = 1 if topic == "return.requested" else -1
    for c in session.scalars(select(Commission).where(Commission.order_id == data["order_id"])):
        c.returns_open = max(0, c.returns_open + change)


def make_payable_due(session: Session, now: datetime | None = None, limit: int = 500) -> int:
    """Pending commissions whose order was delivered and whose return window is over become payable."""
    now = now or utcnow()
    due = list(
        session.scalars(
            select(Commission)
            .where(Commission.status == "pending", Commission.payable_at <= now, Commission.returns_open == 0)
            .order_by(Commission.payable_at)
            .limit(limit)
        )
    )
    for c in due:
        c.status, c.updated_at = "payable", utcnow()
        _event(
            session,
            c,
            "payable",
            "pending",
            c.net_amount,
            "system",
            "delivered and the return window is over",
        )
        bus.publish(session, PAYABLE, payload(c, c.net_amount))
    session.flush()
    return len(due)


def pay_creator(
    session: Session, creator_id: str, reference: str, actor: str
) -> dict[str, tuple[int, int]]:
    """Mark every payable commission of ``creator_id`` paid (a transfer made under ``reference``).
    Returns currency -> (commissions, amount)."""
    rows = list(
        session.scalars(
            select(Commission)
            .where(Commission.creator_id == creator_id, Commission.status == "payable")
            .order_by(Commission.id)
            .with_for_update()
        )
    )
    totals: dict[str, tuple[int, int]] = {}
    first: dict[str, str] = {}  # currency -> the batch's first commission: paid once, so it keys the posting
    now = utcnow()
    for c in rows:
        first.setdefault(c.currency, c.id)
        c.status, c.paid_at, c.paid_reference, c.updated_at = "paid", now, reference, now
        _event(session, c, "paid", "payable", c.net_amount, actor, f"paid under {reference}")
        n, amount = totals.get(c.currency, (0, 0))
        totals[c.currency] = (n + 1, amount + c.net_amount)
        bus.publish(session, PAID, payload(c, c.net_amount))
    ledger = _ledger()
    if ledger is not None:
        for currency, (_n, amount) in totals.items():
            if amount:
                ledger.post_creator_payout(
                    session, f"creator_payout:{first[currency]}:{currency}", currency=currency, amount=amount,
                    memo=f"commissions paid to {creator_id} ({reference})", actor=actor,
                )  # fmt: skip
    session.flush()
    return totals


def subscribe() -> None:
    bus.subscribe_in_transaction("order.paid", on_order_paid)
    bus.subscribe_in_transaction("order.status.changed", on_status_changed)
    for topic in ("return.requested", "return.rejected", "return.refunded"):
        bus.subscribe_in_transaction(topic, on_return)


subscribe()
