"""Refunds: recorded first, sent to the provider by a durable job (never fire-and-forget), applied once.

:func:`request_refund` writes a pending refund and enqueues ``payments.refund`` in the caller's
transaction (an outbox). The job asks the provider with the refund id as idempotency key, so a retried job
never refunds twice; the answer (or the ``refund.succeeded`` webhook, whichever comes first) is applied
exactly once by :func:`apply_refund_succeeded`, which tells refund listeners (commerce moves the order).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from etalage.core import jobs
from etalage.core.errors import Conflict, InvalidInput, NotFound
from etalage.db import Database, new_id, utcnow
from etalage.payments.models import Payment, PaymentEvent, Refund
from etalage.payments.provider import ProviderRejected, provider

REFUND_JOB = "payments.refund"


@dataclass(frozen=True)
class RefundState:
    refund_id: str
    payment_id: str
    order_id: str | None
    amount: int
    currency: str
    reason: str
    actor: str


RefundListener = Callable[[Session, RefundState], None]
_listeners: list[RefundListener] = []


def on_refund(fn: RefundListener) -> RefundListener:
    if fn not in _listeners:
        _listeners.append(fn)
    return fn


def refundable(session: Session, payment: Payment) -> int:
    """What can still be refunded: captured, minus refunded, minus refunds on their way."""
    pending = session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.payment_id == payment.id, Refund.status == "pending"
        )
    )
    return payment.captured_amount - payment.refunded_amount - int(pending or 0)


def pending_for_order(session: Session, order_id: str) -> int:
    """Refunds for this order sent to the provider but not yet confirmed."""
    total = session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.order_id == order_id, Refund.status == "pending"
        )
    )
    return int(total or 0)


def request_refund(
    session: Session,
    payment_id: str,
    amount: int,
    *,
    order_id: str | None,
    reason: str,
    actor: str,
    refund_id: str | None = None,
) -> Refund:
    stmt = select(Payment).where(Payment.id == payment_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()  # two refunds at once must not both fit in the same room
    payment = session.scalars(stmt).first()
    if payment is None:
        raise NotFound(f"No payment {payment_id}.")
    if payment.status != "captured":
        raise Conflict(f"The payment is {payment.status}; only captured payments can be refunded.")
    room = refundable(session, payment)
    if not 0 < amount <= room:
        raise InvalidInput(f"At most {room} can still be refunded.", refundable=room, field="amount")
    refund = Refund(
        id=refund_id or new_id("rfd"),
        payment_id=payment_id,
        order_id=order_id,
        amount=amount,
        currency=payment.currency,
        reason=reason,
        actor=actor,
        status="pending",
    )
    session.add(refund)
    session.flush()
    jobs.enqueue(session, REFUND_JOB, {"refund_id": refund.id}, dedupe_key=f"refund:{refund.id}")
    return refund


def get_refund(session: Session, refund_id: str) -> Refund | None:
    return session.get(Refund, refund_id)


def refunds_for_order(session: Session, order_id: str) -> list[Refund]:
    return list(session.scalars(select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)))


def apply_refund_succeeded(
    session: Session, refund_id: str, psp_reference: str | None, *, source: str
) -> bool:
    """Mark a pending refund done and add it to the payment's refunded amount, once."""
    now = utcnow()
    row = session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status == "pending")
        .values(status="succeeded", psp_reference=psp_reference, updated_at=now)
        .returning(
            Refund.payment_id, Refund.order_id, Refund.amount, Refund.currency, Refund.reason, Refund.actor
        )
    ).first()
    if row is None:
        return False
    payment_id, order_id, amount, currency, reason, actor = row
    session.execute(
        update(Payment)
        .where(Payment.id == payment_id)
        .values(refunded_amount=Payment.refunded_amount + amount, updated_at=now)
    )
    session.execute(
        insert(PaymentEvent),
        [
            dict(
                payment_id=payment_id,
                from_status="captured",
                to_status="captured",
                source=source,
                reason=f"refunded {amount}: {reason}",
                amount=-amount,
                created_at=now,
            )
        ],
    )
    state = RefundState(refund_id, payment_id, order_id, amount, currency, reason, actor)
    for fn in _listeners:
        fn(session, state)
    return True


@jobs.handler(REFUND_JOB, max_attempts=12)
def run_refund(db: Database, payload: dict[str, Any]) -> None:
    refund_id = payload["refund_id"]
    with db.read() as s:
        refund = s.get(Refund, refund_id)
        if refund is None or refund.status != "pending":
            return
        psp_payment_id = s.scalar(select(Payment.psp_reference).where(Payment.id == refund.payment_id))
        amount = refund.amount
    try:
        result = provider().refund(psp_payment_id or "", amount, key=refund_id)
    except ProviderRejected as exc:
        with db.session() as s:
            s.execute(
                update(Refund)
                .where(Refund.id == refund_id, Refund.status == "pending")
                .values(
                    status="failed", updated_at=utcnow(), reason=Refund.reason + f" [refused: {exc.message}]"
                )
            )
        return
    # Other provider errors propagate: the job is retried with backoff, with the same idempotency key.
    with db.session() as s:
        apply_refund_succeeded(s, refund_id, result.id, source="job")
