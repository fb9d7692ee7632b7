"""A person's commerce data, for data export (GDPR Art. 15/20) and erasure (Art. 17), asked by compliance.

Retention: orders are accounting records that tax law makes us keep (e.g. 7 years in Belgium, 10 in France
and Germany): their amounts, VAT, lines, dates, merchant, and the country (and US state) of delivery, which
decides the tax, stay. Who they went to does not: the recipient, street, postal code, city and phone in the
order's address copy are removed, and so is any free text the shopper wrote in the order's history. The
address book, the cart and the idempotency keys are deleted outright.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from etalage.commerce.models import Address, Cart, CartLine, IdempotencyKey, Order, OrderEvent, OrderLine

IN_PROGRESS = ("awaiting_payment", "paid", "fulfilling", "shipped")  # the address is still needed
KEPT_ADDRESS_FIELDS = ("country", "state")  # place of supply: decides the VAT / sales tax
ERASED = "[erased]"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def export_user_commerce(session: Session, user_id: str) -> dict[str, Any]:
    addresses = session.scalars(select(Address).where(Address.user_id == user_id).order_by(Address.id))
    cart = session.scalar(select(Cart).where(Cart.user_id == user_id))
    cart_lines = (
        session.scalars(select(CartLine).where(CartLine.cart_id == cart.id)).all() if cart is not None else []
    )
    orders = list(session.scalars(select(Order).where(Order.user_id == user_id).order_by(Order.id)))
    ids = [o.id for o in orders]
    lines: dict[str, list[OrderLine]] = {i: [] for i in ids}
    events: dict[str, list[OrderEvent]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for ln in session.scalars(
            select(OrderLine).where(OrderLine.order_id.in_(chunk)).order_by(OrderLine.id)
        ):
            lines[ln.order_id].append(ln)
        for ev in session.scalars(
            select(OrderEvent).where(OrderEvent.order_id.in_(chunk)).order_by(OrderEvent.id)
        ):
            events[ev.order_id].append(ev)
    return {
        "addresses": [
            {"id": a.id, "recipient": a.recipient, "line1": a.line1, "line2": a.line2, "postal_code": a.postal_code,
             "city": a.city, "state": a.state, "country": a.country, "phone": a.phone, "is_default": a.is_default,
             "created_at": _iso(a.created_at), "deleted_at": _iso(a.deleted_at)}
            for a in addresses
        ],
        "cart": None if cart is None else {
            "region_code": cart.region_code, "updated_at": _iso(cart.updated_at),
            "lines": [{"variant_id": ln.variant_id, "quantity": ln.quantity, "unit_amount": ln.unit_amount,
                       "currency": ln.currency, "added_at": _iso(ln.added_at)} for ln in cart_lines],
        },
        "orders": [
            {"id": o.id, "checkout_id": o.checkout_id, "merchant_id": o.merchant_id, "status": o.status,
             "region_code": o.region_code, "currency": o.currency, "subtotal_amount": o.subtotal_amount,
             "shipping_amount": o.shipping_amount, "tax_amount": o.tax_amount, "total_amount": o.total_amount,
             "tax_included": o.tax_included, "refunded_amount": o.refunded_amount, "ship_to": o.ship_to,
             "source_video_id": o.source_video_id, "source_live_room_id": o.source_live_room_id,
             "created_at": _iso(o.created_at), "paid_at": _iso(o.paid_at),
             "lines": [{"product_id": ln.product_id, "variant_id": ln.variant_id, "sku": ln.sku, "title": ln.title,
                        "options": ln.options, "quantity": ln.quantity, "unit_amount": ln.unit_amount,
                        "tax_rate_bp": ln.tax_rate_bp, "tax_amount": ln.tax_amount,
                        "total_amount": ln.total_amount} for ln in lines[o.id]],
             "history": [{"from": e.from_status, "to": e.to_status, "reason": e.reason, "at": _iso(e.created_at)}
                         for e in events[o.id]]}
            for o in orders
        ],
    }  # fmt: skip


def erasure_blockers(session: Session, user_id: str) -> list[dict[str, str]]:
    """Orders still on their way to the person: their address is needed to deliver them (GDPR Art. 17(3))."""
    rows = session.execute(
        select(Order.id, Order.status).where(Order.user_id == user_id, Order.status.in_(IN_PROGRESS))
    )
    return [
        {"reason": "order_in_progress", "order_id": oid, "status": status,
         "what_to_do": "Wait until the order is delivered or cancelled (or cancel it), then ask again."}
        for oid, status in rows
    ]  # fmt: skip


def erase_user_commerce(session: Session, user_id: str) -> dict[str, int]:
    """Anonymise orders (amounts and tax kept), delete the address book, cart and keys. Idempotent."""
    orders = 0
    for order in session.scalars(select(Order).where(Order.user_id == user_id)):
        kept = {k: (order.ship_to or {}).get(k) for k in KEPT_ADDRESS_FIELDS}
        if order.ship_to != kept:
            order.ship_to = kept
            orders += 1
    order_ids = select(Order.id).where(Order.user_id == user_id).scalar_subquery()
    session.execute(
        update(OrderEvent)
        .where(OrderEvent.order_id.in_(order_ids), OrderEvent.actor == user_id, OrderEvent.reason != ERASED)
        .values(reason=ERASED)
        .execution_options(synchronize_session=False)
    )
    counts = {"orders_anonymised": orders}
    counts["addresses"] = int(
        session.execute(delete(Address).where(Address.user_id == user_id)).rowcount or 0
    )
    cart_ids = select(Cart.id).where(Cart.user_id == user_id).scalar_subquery()
    session.execute(delete(CartLine).where(CartLine.cart_id.in_(cart_ids)))
    counts["carts"] = int(session.execute(delete(Cart).where(Cart.user_id == user_id)).rowcount or 0)
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == user_id))
    return counts
