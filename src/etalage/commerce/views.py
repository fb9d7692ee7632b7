"""Orders and checkouts as API bodies."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from etalage.commerce import orders as order_store
from etalage.commerce.models import Order
from etalage.commerce.order_states import next_states
from etalage.commerce.schemas import (
    CheckoutOut,
    OrderDetailOut,
    OrderEventOut,
    OrderLineOut,
    OrderOut,
    PaymentSummary,
)
from etalage.core.money import Money

PAYMENT_TO_CHECKOUT = {
    "pending": "processing",
    "requires_action": "requires_action",
    "authorised": "paid",
    "captured": "paid",
    "declined": "declined",
    "failed": "failed",
    "cancelled": "cancelled",
}


def money(amount: int, currency: str) -> Money:
    return Money(amount=amount, currency=currency)


def line_out(ln: Any, currency: str) -> OrderLineOut:
    return OrderLineOut(
        product_id=ln.product_id,
        variant_id=ln.variant_id,
        sku=ln.sku,
        title=ln.title,
        options=ln.options or {},
        quantity=ln.quantity,
        unit_price=money(ln.unit_amount, currency),
        tax_rate_bp=ln.tax_rate_bp,
        tax=money(ln.tax_amount, currency),
        total=money(ln.total_amount, currency),
    )


def order_out(o: Any, lines: list[Any], *, merchant_view: bool = False) -> OrderOut:
    c = o.currency
    nxt = next_states(o.status)
    return OrderOut(
        id=o.id,
        checkout_id=o.checkout_id,
        merchant_id=o.merchant_id,
        status=o.status,
        region_code=o.region_code,
        lines=[line_out(ln, c) for ln in lines],
        subtotal=money(o.subtotal_amount, c),
        discount=money(o.discount_amount or 0, c),
        shipping=money(o.shipping_amount, c),
        tax=money(o.tax_amount, c),
        total=money(o.total_amount, c),
        tax_included=o.tax_included,
        refunded=money(o.refunded_amount, c),
        ship_to=o.ship_to,
        source_video_id=o.source_video_id,
        source_live_room_id=o.source_live_room_id,
        created_at=o.created_at,
        paid_at=o.paid_at,
        next_states=nxt if merchant_view else [],
    )


def orders_out(session: Session, orders: list[Order], *, merchant_view: bool = False) -> list[OrderOut]:
    lines = order_store.lines_of(session, [o.id for o in orders])
    return [order_out(o, lines[o.id], merchant_view=merchant_view) for o in orders]


def order_detail(session: Session, order: Order, *, merchant_view: bool = False) -> OrderDetailOut:
    base = orders_out(session, [order], merchant_view=merchant_view)[0]
    events = [
        OrderEventOut.model_validate(e, from_attributes=True)
        for e in order_store.events_of(session, order.id)
    ]
    return OrderDetailOut(**base.model_dump(), events=events)


def payment_summary(p: Any) -> PaymentSummary:
    return PaymentSummary(
        id=p.id,
        status=p.status,
        amount=money(p.amount, p.currency),
        method_type=p.method_type,
        brand=p.brand,
        last4=p.last4,
        next_action=p.next_action,
    )


def checkout_out(checkout_id: str, orders: list[OrderOut], payment: Any) -> CheckoutOut:
    status = PAYMENT_TO_CHECKOUT.get(payment.status, "processing")
    return CheckoutOut(
        checkout_id=checkout_id,
        status=status,  # type: ignore[arg-type]
        total=money(payment.amount, payment.currency),
        orders=orders,
        payment=payment_summary(payment),
        next_action=payment.next_action if status == "requires_action" else None,
    )
