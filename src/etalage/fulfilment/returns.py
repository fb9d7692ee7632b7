"""Returns: requested by the shopper, decided by the merchant (or approved automatically), received, refunded.

    requested ─► approved ─► received ─► refunded
        │
        └──────► rejected (with the merchant's reason)

- A shopper may return delivered units within the region's window counted from their delivery
  (``commerce.service.return_window_days``: 14 days in the EU), never more units than were delivered less
  those already in a return that was not rejected.
- A merchant who does not answer within ``return_answer_days`` has the request approved for them (a
  durable job, ``fulfilment.return.auto_approve``, that runs when the time is up).
- Receiving the goods puts them back on the shelf they were sold from (inventory, reason 'return') unless
  the merchant says they cannot be sold again.
- The refund goes through payments (a durable refund job to the provider); it may be partial, and never
  exceeds what the order still has: paid, minus refunds done or on their way.
Every change is a conditional update from the status it leaves, recorded with who and why.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_merchant
from etalage.commerce import orders as order_store
from etalage.commerce import service as commerce
from etalage.config import get_settings
from etalage.core import bus, jobs
from etalage.core.errors import Conflict, InvalidInput, NotFound
from etalage.db import new_id, utcnow
from etalage.fulfilment import history, shipments
from etalage.fulfilment.models import ReturnLine, ReturnRequest

AUTO_APPROVE_JOB = "fulfilment.return.auto_approve"
OPEN = ("requested", "approved", "received", "refunded")  # units in these are no longer returnable


def _publish(session: Session, ret: ReturnRequest, topic: str, **extra: Any) -> None:
    bus.publish(
        session,
        f"return.{topic}",
        {"return_id": ret.id, "order_id": ret.order_id, "merchant_id": ret.merchant_id, "status": ret.status,
         **extra},
    )  # fmt: skip


def lines_of(session: Session, return_ids: list[str]) -> dict[str, list[ReturnLine]]:
    out: dict[str, list[ReturnLine]] = {i: [] for i in return_ids}
    if return_ids:
        stmt = select(ReturnLine).where(ReturnLine.return_id.in_(return_ids)).order_by(ReturnLine.variant_id)
        for ln in session.scalars(stmt):
            out[ln.return_id].append(ln)
    return out


def _delivered(session: Session, order: Any, order_lines: list[Any]) -> dict[str, tuple[int, datetime]]:
    """Units delivered per variant and when (the last delivery). An order marked delivered by hand, with
    no parcels recorded, counts every unit as delivered at that moment."""
    units = shipments.shipped_units(session, order.id, delivered_only=True)
    at = shipments.delivered_at_by_variant(session, order.id)
    if not shipments.shipments_of_order(session, order.id):
        moments = [
            e.created_at for e in order_store.events_of(session, order.id) if e.to_status == "delivered"
        ]
        if moments:
            return {ln.variant_id: (ln.quantity, moments[-1]) for ln in order_lines}
        return {}
    return {v: (q, at[v]) for v, q in units.items() if v in at}


def _already_returned(session: Session, order_id: str) -> dict[str, int]:
    stmt = (
        select(ReturnLine.variant_id, func.sum(ReturnLine.quantity))
        .join(ReturnRequest, ReturnRequest.id == ReturnLine.return_id)
        .where(ReturnRequest.order_id == order_id, ReturnRequest.status.in_(OPEN))
        .group_by(ReturnLine.variant_id)
    )
    return {v: int(q) for v, q in session.execute(stmt).all()}


def request_return(
    session: Session,
    principal: Principal,
    order_id: str,
    lines: list[tuple[str, int]],
    reason: str,
    *,
    return_id: str | None = None,
) -> ReturnRequest:
    order_store.get_for_user(session, principal.user_id, order_id)  # someone else's order: 404
    order = order_store.get_locked(session, order_id)  # two requests at once cannot both take the same units
    assert order is not None
    if order.status in ("awaiting_payment", "cancelled", "refunded"):
        raise Conflict(f"An order that is {order.status} cannot be returned.", status_now=order.status)
    order_lines = {ln.variant_id: ln for ln in order_store.lines_of(session, [order.id])[order.id]}
    delivered = _delivered(session, order, list(order_lines.values()))
    if not delivered:
        raise Conflict("Nothing in this order has been delivered yet.", status_now=order.status)
    returned = _already_returned(session, order.id)
    window = commerce.return_window_days(order.region_code)
    now = utcnow()
    seen: set[str] = set()
    value = 0
    rows = []
    for i, (variant_id, qty) in enumerate(lines):
        line = order_lines.get(variant_id)
        if line is None:
            raise InvalidInput(f"The order has no line {variant_id}.", field=f"lines.{i}.variant_id")
        if variant_id in seen:
            raise InvalidInput("Each line at most once per return.", field=f"lines.{i}.variant_id")
        seen.add(variant_id)
        got, at = delivered.get(variant_id, (0, None))
        if at is None:
            raise Conflict(f"{line.title} has not been delivered yet.", field=f"lines.{i}.variant_id")
        deadline = at + timedelta(days=window)
        if now > deadline:
            raise Conflict(
                f"The {window}-day return window for {line.title} closed on {deadline.date().isoformat()}.",
                field=f"lines.{i}.variant_id", window_days=window, delivered_at=at.isoformat(),
                deadline=deadline.isoformat(),
            )  # fmt: skip
        left = got - returned.get(variant_id, 0)
        if qty > left:
            raise InvalidInput(
                f"At most {left} unit(s) of {line.title} can be returned.",
                field=f"lines.{i}.quantity", returnable=left,
            )  # fmt: skip
        amount = line.total_amount * qty // line.quantity  # never more than the units cost
        value += amount
        rows.append((line, qty, amount))
    ret = ReturnRequest(
        id=return_id or new_id("ret"),
        order_id=order.id,
        merchant_id=order.merchant_id,
        user_id=principal.user_id,
        status="requested",
        reason=reason,
        currency=order.currency,
        value_amount=value,
        answer_by=now + timedelta(days=get_settings().return_answer_days),
        created_at=now,
        updated_at=now,
    )
    session.add(ret)
    session.flush()
    for line, qty, amount in rows:
        session.add(ReturnLine(return_id=ret.id, variant_id=line.variant_id, product_id=line.product_id,
                               quantity=qty, value_amount=amount))  # fmt: skip
    session.flush()
    history.record(session, ret.id, order.id, None, "requested", actor=principal.user_id, reason=reason)
    delay = (ret.answer_by - now).total_seconds()
    jobs.enqueue(
        session, AUTO_APPROVE_JOB, {"return_id": ret.id}, delay_seconds=delay, dedupe_key=f"return:{ret.id}"
    )
    _publish(session, ret, "requested", items=[{"variant_id": ln.variant_id, "product_id": ln.product_id,
                                                "quantity": q} for ln, q, _ in rows])  # fmt: skip
    return ret


def _move(
    session: Session, ret: ReturnRequest, to: str, *, actor: str, reason: str, **values: Any
) -> ReturnRequest:
    before = ret.status
    now = utcnow()
    done = session.execute(
        update(ReturnRequest)
        .where(ReturnRequest.id == ret.id, ReturnRequest.status == before)
        .values(status=to, updated_at=now, **values)
    ).rowcount
    if done != 1:
        raise Conflict("The return changed meanwhile; read it again.")
    session.refresh(ret)
    history.record(session, ret.id, ret.order_id, before, to, actor=actor, reason=reason)
    _publish(session, ret, to, **({"refund_id": ret.refund_id, "amount": ret.refund_amount,
                                   "currency": ret.currency} if to == "refunded" else {}))  # fmt: skip
    return ret


def merchant_return(
    session: Session, principal: Principal, merchant_id: str, return_id: str, *, write: bool = False
) -> ReturnRequest:
    require_merchant(principal, merchant_id, write=write)
    ret = session.get(ReturnRequest, return_id)
    if ret is None or ret.merchant_id != merchant_id:
        raise NotFound(f"No return {return_id}.")
    return ret


def shopper_return(session: Session, principal: Principal, return_id: str) -> ReturnRequest:
    ret = session.get(ReturnRequest, return_id)
    if ret is None or ret.user_id != principal.user_id:
        raise NotFound(f"No return {return_id}.")
    return ret


def decide(
    session: Session, principal: Principal, merchant_id: str, return_id: str, decision: str, reason: str
) -> ReturnRequest:
    ret = merchant_return(session, principal, merchant_id, return_id, write=True)
    to = "approved" if decision == "approve" else "rejected"
    if ret.status == to:
        return ret  # the same answer again
    if ret.status != "requested":
        raise Conflict(f"This return is already {ret.status}.", status_now=ret.status)
    return _move(session, ret, to, actor=principal.user_id, reason=reason, decision_reason=reason)


def auto_approve(session: Session, return_id: str) -> bool:
    """Approve a request the merchant left unanswered past its deadline. True if it did."""
    ret = session.get(ReturnRequest, return_id)
    if ret is None or ret.status != "requested" or ret.answer_by > utcnow():
        return False
    days = get_settings().return_answer_days
    _move(session, ret, "approved", actor="system", reason=f"the merchant did not answer within {days} day(s)",
          decision_reason="approved automatically: no answer in time", auto_approved=True)  # fmt: skip
    return True


def receive(
    session: Session, principal: Principal, merchant_id: str, return_id: str, *, restock: bool, reason: str
) -> ReturnRequest:
    from etalage.inventory import service as inventory

    ret = merchant_return(session, principal, merchant_id, return_id, write=True)
    if ret.status in ("received", "refunded"):
        return ret
    if ret.status != "approved":
        raise Conflict(
            f"Only an approved return can be received; this one is {ret.status}.", status_now=ret.status
        )
    ret = _move(session, ret, "received", actor=principal.user_id, reason=reason)
    if restock:
        for ln in lines_of(session, [ret.id])[ret.id]:
            inventory.restock_return(
                session, ret.order_id, ln.variant_id, ln.quantity, actor=principal.user_id, reference=ret.id
            )
    return ret


def refund(
    session: Session,
    principal: Principal,
    merchant_id: str,
    return_id: str,
    *,
    amount: int | None,
    currency: str | None,
    reason: str,
    key: str | None,
    fp: str,
) -> ReturnRequest:
    """Give the money back for a received return: its value by default, or ``amount`` (less for used goods,
    more to include shipping), never more than the order has left to refund."""
    from etalage.commerce import idempotency
    from etalage.payments import refunds

    ret = merchant_return(session, principal, merchant_id, return_id, write=True)
    key = idempotency.require_key(key)
    claim = idempotency.claim(session, user_id=principal.user_id, key=key, scope="return-refund", fp=fp,
                              resource_id=ret.id)  # fmt: skip
    if not claim.fresh:
        found = session.get(ReturnRequest, claim.resource_id)
        if found is None or found.merchant_id != merchant_id:
            raise NotFound("No return for this Idempotency-Key.")
        return found
    if ret.status != "received":
        raise Conflict(
            f"Only a received return can be refunded; this one is {ret.status}.", status_now=ret.status
        )
    order = order_store.get_locked(session, ret.order_id)
    assert order is not None
    if currency is not None and currency != order.currency:
        raise InvalidInput(f"This order is in {order.currency}.", field="amount.currency")
    room = order.total_amount - order.refunded_amount - refunds.pending_for_order(session, order.id)
    want = ret.value_amount if amount is None else amount
    if not 0 < want <= room:
        raise InvalidInput(f"At most {room} can still be refunded on this order.", refundable=room,
                           field="amount.amount")  # fmt: skip
    made = refunds.request_refund(
        session, order.payment_id, want, order_id=order.id, reason=f"return {ret.id}: {reason}",
        actor=principal.user_id,
    )  # fmt: skip
    return _move(session, ret, "refunded", actor=principal.user_id, reason=reason, refund_amount=want,
                 refund_id=made.id)  # fmt: skip


def for_order(session: Session, order_id: str) -> list[ReturnRequest]:
    stmt = select(ReturnRequest).where(ReturnRequest.order_id == order_id).order_by(ReturnRequest.id)
    return list(session.scalars(stmt))


def returns_per_product(session: Session, product_ids: list[str]) -> dict[str, int]:
    """Returns (not rejected) that include each product."""
    if not product_ids:
        return {}
    stmt = (
        select(ReturnLine.product_id, func.count(func.distinct(ReturnLine.return_id)))
        .join(ReturnRequest, ReturnRequest.id == ReturnLine.return_id)
        .where(ReturnLine.product_id.in_(product_ids), ReturnRequest.status.in_(OPEN))
        .group_by(ReturnLine.product_id)
    )
    return {pid: int(n) for pid, n in session.execute(stmt).all()}


def returnable(session: Session, principal: Principal, order_id: str) -> dict[str, tuple[int, datetime]]:
    """Per variant of the shopper's order: units that may still be returned and until when (only lines
    whose window is still open and that have units left)."""
    order = order_store.get_for_user(session, principal.user_id, order_id)
    if order.status in ("awaiting_payment", "cancelled", "refunded"):
        return {}
    lines = order_store.lines_of(session, [order.id])[order.id]
    delivered = _delivered(session, order, lines)
    returned = _already_returned(session, order.id)
    window = timedelta(days=commerce.return_window_days(order.region_code))
    now = utcnow()
    out = {}
    for variant_id, (units, at) in delivered.items():
        left = units - returned.get(variant_id, 0)
        if left > 0 and at + window >= now:
            out[variant_id] = (left, at + window)
    return out


def for_shopper(session: Session, principal: Principal, order_id: str) -> list[ReturnRequest]:
    order_store.get_for_user(session, principal.user_id, order_id)
    return for_order(session, order_id)
