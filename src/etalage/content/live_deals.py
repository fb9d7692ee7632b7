"""Live-only flash deals: a price for one variant, a quantity cap, an end time, while the room is on air.

Content stores and broadcasts them; checkout asks :func:`live_deal_for` for the price and claims units
with :func:`reserve_live_deal` (a conditional UPDATE, so concurrent buyers can never exceed the cap) in
its own transaction, and gives them back with :func:`release_live_deal` if the order is abandoned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from etalage.content.models import LiveDeal, LiveRoom
from etalage.db import utcnow


@dataclass(frozen=True)
class LiveDealInfo:
    id: str
    room_id: str
    product_id: str
    variant_id: str
    price_amount: int  # minor units
    currency: str
    quantity_cap: int
    quantity_left: int
    starts_at: datetime
    ends_at: datetime


def info(deal: LiveDeal) -> LiveDealInfo:
    return LiveDealInfo(
        id=deal.id,
        room_id=deal.room_id,
        product_id=deal.product_id,
        variant_id=deal.variant_id,
        price_amount=deal.price_amount,
        currency=deal.currency,
        quantity_cap=deal.quantity_cap,
        quantity_left=max(0, deal.quantity_cap - deal.quantity_claimed),
        starts_at=deal.starts_at,
        ends_at=deal.ends_at,
    )


def is_active(deal: LiveDeal, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (
        deal.ended_at is None
        and deal.starts_at <= now < deal.ends_at
        and deal.quantity_claimed < deal.quantity_cap
    )


def active_deals(session: Session, room_id: str) -> list[LiveDeal]:
    now = utcnow()
    stmt = (
        select(LiveDeal)
        .where(LiveDeal.room_id == room_id, LiveDeal.ended_at.is_(None), LiveDeal.ends_at > now)
        .order_by(LiveDeal.id)
    )
    return [d for d in session.scalars(stmt) if is_active(d, now)]


def live_deal_for(session: Session, room_id: str, variant_id: str) -> LiveDealInfo | None:
    """The deal on this variant in this room right now (room on air, not ended, units left), if any."""
    room = session.get(LiveRoom, room_id)
    if room is None or room.state != "live":
        return None
    for deal in active_deals(session, room_id):
        if deal.variant_id == variant_id:
            return info(deal)
    return None


def reserve_live_deal(session: Session, room_id: str, variant_id: str, quantity: int) -> LiveDealInfo | None:
    """Claim ``quantity`` units at the deal price; None when there is no deal or not enough left."""
    if quantity <= 0:
        return None
    deal = live_deal_for(session, room_id, variant_id)
    if deal is None:
        return None
    now = utcnow()
    claimed = session.execute(
        update(LiveDeal)
        .where(
            LiveDeal.id == deal.id,
            LiveDeal.ended_at.is_(None),
            LiveDeal.ends_at > now,
            LiveDeal.quantity_claimed + quantity <= LiveDeal.quantity_cap,
        )
        .values(quantity_claimed=LiveDeal.quantity_claimed + quantity)
    )
    if claimed.rowcount != 1:
        return None
    row = session.get(LiveDeal, deal.id)
    if row is not None:
        session.refresh(row)
        return info(row)
    return None


def release_live_deal(session: Session, deal_id: str, quantity: int) -> None:
    session.execute(
        update(LiveDeal)
        .where(LiveDeal.id == deal_id, LiveDeal.quantity_claimed >= quantity)
        .values(quantity_claimed=LiveDeal.quantity_claimed - quantity)
    )
