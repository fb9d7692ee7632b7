"""Reads of paid orders for the creators' side (affiliates, the creator studio): sales per video and an
order's lines net of VAT. Plain reads, no authorisation: callers decide who may see what."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from etalage.commerce.models import Order, OrderLine


def video_sales(session: Session, video_ids: list[str]) -> dict[str, dict[str, tuple[int, int]]]:
    """video id -> currency -> (orders paid from it, GMV: what was paid less what was refunded)."""
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for start in range(0, len(video_ids), 500):
        rows = session.execute(
            select(Order.source_video_id, Order.currency, func.count(),
                   func.sum(Order.total_amount - Order.refunded_amount))
            .where(Order.source_video_id.in_(video_ids[start : start + 500]), Order.paid_at.is_not(None))
            .group_by(Order.source_video_id, Order.currency)
        ).all()  # fmt: skip
        for vid, currency, n, gmv in rows:
            out.setdefault(vid, {})[currency] = (int(n), int(gmv or 0))
    return out


def order_lines_net(session: Session, order_id: str) -> tuple[Any, list[dict[str, Any]]]:
    """(the order, its lines with ``net_amount``: the line's price after vouchers, without VAT; shipping
    is not a line). Lines are priced VAT-inclusive in VAT regions and net (tax on top) in the US."""
    order = session.get(Order, order_id)
    if order is None:
        return None, []
    lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id))
    return order, [
        {"product_id": ln.product_id, "variant_id": ln.variant_id, "quantity": ln.quantity,
         "net_amount": ln.total_amount - ln.tax_amount if order.tax_included else ln.total_amount,
         "source_video_id": ln.source_video_id, "source_live_room_id": ln.source_live_room_id}
        for ln in lines
    ]  # fmt: skip
