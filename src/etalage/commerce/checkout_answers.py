"""What checkout answers: the checkout's state now, built from memory on the hot path, or read back for a
replayed Idempotency-Key (same orders, never a second charge)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from etalage.commerce import orders as order_store
from etalage.commerce.errors import PaymentDeclined, PaymentFailed, RequestInProgress
from etalage.commerce.schemas import CheckoutOut, OrderOut
from etalage.commerce.views import checkout_out, order_out, orders_out
from etalage.config import get_settings
from etalage.core.errors import Conflict, NotFound
from etalage.db import utcnow
from etalage.payments import service as payments


@dataclass
class Outcome:
    body: CheckoutOut
    http_status: int
    replayed: bool = False


def declined(checkout_id: str, code: str | None) -> PaymentDeclined:
    return PaymentDeclined(
        f"The payment was declined ({code or 'declined'}). Nothing was charged and the items were "
        "put back; choose another payment method and check out again with a new Idempotency-Key.",
        checkout_id=checkout_id,
        decline_code=code,
    )


@dataclass
class _PaymentView:
    id: str
    status: str
    amount: int
    currency: str
    method_type: str
    brand: str | None
    last4: str | None
    next_action: dict[str, Any] | None


def render(
    prep: Any,
    status: str,
    next_action: dict[str, Any] | None,
    *,
    brand: str | None = None,
    last4: str | None = None,
) -> Outcome:
    order_status = {"captured": "paid", "authorised": "paid", "cancelled": "cancelled"}.get(
        status, "awaiting_payment"
    )
    now = utcnow()
    views: list[OrderOut] = []
    for order, lines in prep.orders:
        row = _Row({**order, "status": order_status, "paid_at": now if order_status == "paid" else None})
        views.append(order_out(row, [_Row(ln) for ln in lines]))
    m = prep.method
    pay = _PaymentView(
        prep.payment_id,
        status,
        prep.amount,
        prep.currency,
        m.type,
        brand or m.brand,
        last4 or m.last4,
        next_action,
    )
    body = checkout_out(prep.checkout_id, views, pay)
    return Outcome(body, 201 if body.status == "paid" else 202)


class _Row(dict):  # type: ignore[type-arg]
    __getattr__ = dict.__getitem__


def replay(session: Session, user_id: str, checkout_id: str) -> Outcome:
    """Answer a repeated request from the checkout's current state: same orders, never a second charge."""
    orders = [o for o in order_store.orders_of_checkout(session, checkout_id) if o.user_id == user_id]
    payment = payments.payment_for_checkout(session, checkout_id)
    if payment is None or not orders:
        raise NotFound(f"No checkout {checkout_id}.")
    if payment.status == "pending" and utcnow() - payment.created_at < timedelta(
        seconds=get_settings().psp_timeout_seconds + 2
    ):
        raise RequestInProgress(
            "The first request with this Idempotency-Key is still being processed; retry shortly.",
            checkout_id=checkout_id,
        )
    if payment.status == "declined":
        raise declined(checkout_id, payment.decline_code)
    if payment.status == "failed":
        raise PaymentFailed(
            f"This checkout's payment failed ({payment.failure_message}); nothing was charged. "
            "Check out again with a new Idempotency-Key.",
            checkout_id=checkout_id,
        )
    if payment.status == "cancelled":
        raise Conflict("This checkout was cancelled; nothing was charged.", checkout_id=checkout_id)
    body = checkout_out(checkout_id, orders_out(session, orders), payment)
    return Outcome(body, 201 if body.status == "paid" else 202, replayed=True)


def current(session: Session, user_id: str, checkout_id: str) -> CheckoutOut:
    orders = [o for o in order_store.orders_of_checkout(session, checkout_id) if o.user_id == user_id]
    payment = payments.payment_for_checkout(session, checkout_id)
    if payment is None or not orders:
        raise NotFound(f"No checkout {checkout_id}.")
    return checkout_out(checkout_id, orders_out(session, orders), payment)
