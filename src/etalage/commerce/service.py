"""What other domains (and the web pages) use from commerce.

- ``launched_region_codes(session) -> list[str]`` and ``regions.REGIONS`` (facts per region).
- ``place_order`` / ``replay`` / ``current`` (``commerce.checkout``), the checkout.
- ``transition(session, order, to, actor=, reason=)`` (``commerce.orders``): the order state machine.
- ``return_window_days(code)``: how long after delivery goods may be returned in a region.
- ``orders_per_product(session, product_ids)``: paid orders containing each product (quality signals).
- ``purchased_lines(session, user_id, order_id)``: a shopper's order lines with the order's status (reviews).
- Bus events after commit: ``order.paid`` {order_id, user_id, merchant_id, region, source_video_id,
  source_live_room_id, items: [{product_id, variant_id, quantity, unit_amount, currency, source_video_id,
  source_live_room_id}], paid_at} and ``order.status.changed`` {order_id, merchant_id, from, to}.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from etalage.commerce.checkout import CheckoutRequest, LineIn, Outcome, current, place_order, replay
from etalage.commerce.launch import is_launched, launched_codes
from etalage.commerce.models import Order, OrderEvent, OrderLine
from etalage.commerce.orders import ORDER_CHANGED, ORDER_PAID, get_for_user, transition
from etalage.commerce.regions import REGIONS, region

__all__ = [
    "ORDER_CHANGED",
    "ORDER_PAID",
    "REGIONS",
    "CheckoutRequest",
    "LineIn",
    "Outcome",
    "current",
    "get_for_user",
    "is_launched",
    "launched_region_codes",
    "place_order",
    "region",
    "replay",
    "transition",
]


def launched_region_codes(session: Session) -> list[str]:
    """The regions where Etalage sells now, in the table's order."""
    codes = launched_codes(session)
    return [c for c in REGIONS if c in codes]


def return_window_days(code: str) -> int:
    """Days after delivery within which a shopper in ``code`` may return goods (the region's rule)."""
    return region(code).return_window_days


@dataclass(frozen=True)
class PurchasedLine:
    line_id: int
    order_id: str
    product_id: str
    variant_id: str
    title: str
    merchant_id: str
    order_status: str
    ever_delivered: bool  # the order reached delivered at some point (refunds may have followed)


def purchased_lines(session: Session, user_id: str, order_id: str) -> list[PurchasedLine]:
    """The lines of one of ``user_id``'s orders (empty if the order is not theirs), for verified reviews."""
    order = session.get(Order, order_id)
    if order is None or order.user_id != user_id:
        return []
    reached = select(OrderEvent.id).where(
        OrderEvent.order_id == order_id, OrderEvent.to_status == "delivered"
    )
    delivered = order.status in ("delivered", "completed") or session.scalar(reached.limit(1)) is not None
    rows = session.scalars(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id))
    return [
        PurchasedLine(
            ln.id,
            order_id,
            ln.product_id,
            ln.variant_id,
            ln.title,
            order.merchant_id,
            order.status,
            delivered,
        )  # fmt: skip
        for ln in rows
    ]


def orders_per_product(session: Session, product_ids: list[str]) -> dict[str, int]:
    """How many orders that were paid (whatever happened to them since) contain each product."""
    if not product_ids:
        return {}
    rows = session.execute(
        select(OrderLine.product_id, func.count(func.distinct(OrderLine.order_id)))
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            OrderLine.product_id.in_(product_ids),
            Order.paid_at.is_not(None),
        )
        .group_by(OrderLine.product_id)
    ).all()
    return {pid: int(n) for pid, n in rows}
