"""Shipments: parcels with some units of an order, their carrier and tracking number, and delivery.

Partial shipments: an order may go out in several parcels. The first parcel moves a paid order to
``fulfilling``; the order becomes ``shipped`` only once every unit bought is in a parcel, and ``delivered``
once every parcel is delivered. Until then the order stays where it is and its parcels tell the detail.

Who ships what: units sold from a warehouse the platform operates (``centres``) are shipped by platform
staff (``fulfilled_by='platform'``, admins); every other unit by the merchant's staff. Delivery is recorded
by whoever shipped the parcel (from the carrier's scan) or by the shopper confirming they received it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_merchant
from etalage.commerce import orders as order_store
from etalage.commerce.models import Order
from etalage.commerce.order_states import can_move
from etalage.core import bus
from etalage.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from etalage.db import utcnow
from etalage.fulfilment import centres, history
from etalage.fulfilment.models import Shipment, ShipmentLine

SHIPMENT_CREATED = "shipment.created"
SHIPMENT_DELIVERED = "shipment.delivered"
# An order ships only once paid, and not after it was cancelled or refunded in full.
SHIPPABLE = frozenset({"paid", "fulfilling", "partially_refunded"})


@dataclass(frozen=True)
class Want:
    variant_id: str
    quantity: int


def _payload(s: Shipment, lines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out = {
        "shipment_id": s.id,
        "order_id": s.order_id,
        "merchant_id": s.merchant_id,
        "carrier": s.carrier,
        "tracking_number": s.tracking_number,
        "fulfilled_by": s.fulfilled_by,
    }
    if lines is not None:
        out["items"] = lines
    return out


def lines_of(session: Session, shipment_ids: list[str]) -> dict[str, list[ShipmentLine]]:
    out: dict[str, list[ShipmentLine]] = defaultdict(list)
    if shipment_ids:
        stmt = select(ShipmentLine).where(ShipmentLine.shipment_id.in_(shipment_ids))
        for ln in session.scalars(stmt.order_by(ShipmentLine.shipment_id, ShipmentLine.variant_id)):
            out[ln.shipment_id].append(ln)
    return out


def shipments_of_order(session: Session, order_id: str) -> list[Shipment]:
    return list(session.scalars(select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id)))


def shipped_units(session: Session, order_id: str, *, delivered_only: bool = False) -> dict[str, int]:
    """Units per variant of this order already in a parcel (or delivered)."""
    stmt = (
        select(ShipmentLine.variant_id, func.sum(ShipmentLine.quantity))
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(Shipment.order_id == order_id)
        .group_by(ShipmentLine.variant_id)
    )
    if delivered_only:
        stmt = stmt.where(Shipment.status == "delivered")
    return {v: int(q) for v, q in session.execute(stmt).all()}


def _to_ship(session: Session, order: Order) -> dict[str, dict[str, int]]:
    """Units per variant still to ship, by who ships them ('merchant' or 'platform')."""
    from etalage.inventory import service as inventory

    platform_whs = centres.platform_warehouse_ids(session, order.merchant_id)
    by_kind: dict[str, dict[str, int]] = defaultdict(lambda: {"merchant": 0, "platform": 0})
    for h in inventory.sold_for_order(session, order.id):
        by_kind[h.variant_id]["platform" if h.warehouse_id in platform_whs else "merchant"] += h.quantity
    lines = order_store.lines_of(session, [order.id])[order.id]
    for ln in lines:  # units the stock ledger does not place (none in practice) are the merchant's
        known = sum(by_kind[ln.variant_id].values())
        if known < ln.quantity:
            by_kind[ln.variant_id]["merchant"] += ln.quantity - known
    stmt = (
        select(ShipmentLine.variant_id, Shipment.fulfilled_by, func.sum(ShipmentLine.quantity))
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(Shipment.order_id == order.id)
        .group_by(ShipmentLine.variant_id, Shipment.fulfilled_by)
    )
    for variant_id, kind, qty in session.execute(stmt).all():
        by_kind[variant_id][kind] -= int(qty)
    return {ln.variant_id: dict(by_kind[ln.variant_id]) for ln in lines}


def _caller_kind(principal: Principal, role: str, fulfilled_by: str | None) -> str:
    if fulfilled_by is None:
        fulfilled_by = "platform" if role == "admin" else "merchant"
    if fulfilled_by == "platform" and not principal.is_admin:
        raise Forbidden("Only platform staff ship from the platform's fulfilment centres.")
    return fulfilled_by


def create_shipment(
    session: Session,
    principal: Principal,
    merchant_id: str,
    order_id: str,
    *,
    carrier: str,
    tracking_number: str,
    lines: list[Want] | None,
    fulfilled_by: str | None = None,
) -> tuple[Shipment, bool]:
    """Record a parcel of ``lines`` (all units still to ship when None). Returns (shipment, created): the
    same parcel again (same carrier and tracking number) answers the first one."""
    role = require_merchant(principal, merchant_id, write=True)
    kind = _caller_kind(principal, role, fulfilled_by)
    order_store.get_for_merchant(session, merchant_id, order_id)  # another merchant's order: 404
    order = order_store.get_locked(session, order_id)  # no two parcels take the same units
    assert order is not None
    carrier, tracking_number = carrier.strip(), tracking_number.strip()
    same = session.scalar(
        select(Shipment).where(
            Shipment.order_id == order_id,
            Shipment.carrier == carrier,
            Shipment.tracking_number == tracking_number,
        )
    )
    if same is not None:
        mine = {ln.variant_id: ln.quantity for ln in lines_of(session, [same.id])[same.id]}
        if lines is not None and mine != {w.variant_id: w.quantity for w in lines}:
            raise Conflict("This tracking number is already recorded for other units of this order.")
        return same, False
    if order.status not in SHIPPABLE:
        raise Conflict(f"An order that is {order.status} cannot be shipped.", status_now=order.status)
    remaining = _to_ship(session, order)
    wants = _pick(remaining, kind, lines)
    now = utcnow()
    shipment = Shipment(
        order_id=order.id,
        merchant_id=merchant_id,
        user_id=order.user_id,
        fulfilled_by=kind,
        carrier=carrier,
        tracking_number=tracking_number,
        status="shipped",
        created_by=principal.user_id,
        shipped_at=now,
    )
    session.add(shipment)
    session.flush()
    products = {ln.variant_id: ln.product_id for ln in order_store.lines_of(session, [order.id])[order.id]}
    items = []
    for variant_id, qty in wants.items():
        session.add(
            ShipmentLine(
                shipment_id=shipment.id,
                variant_id=variant_id,
                order_id=order.id,
                product_id=products[variant_id],
                quantity=qty,
            )
        )
        items.append({"variant_id": variant_id, "product_id": products[variant_id], "quantity": qty})
    session.flush()
    units = sum(wants.values())
    history.record(
        session, shipment.id, order.id, None, "shipped", actor=principal.user_id,
        reason=f"{units} unit(s) handed to {carrier}, tracking {tracking_number}",
    )  # fmt: skip
    left = sum(sum(k.values()) for k in remaining.values()) - units
    if order.status == "paid":
        order_store.transition(
            session, order, "fulfilling", actor=principal.user_id, reason="first parcel packed"
        )
    if left == 0 and can_move(order.status, "shipped"):
        parcels = len(shipments_of_order(session, order.id))
        order_store.transition(
            session,
            order,
            "shipped",
            actor=principal.user_id,
            reason=f"everything shipped ({parcels} parcel(s))",
        )
    bus.publish(session, SHIPMENT_CREATED, _payload(shipment, items))
    return shipment, True


def _pick(remaining: dict[str, dict[str, int]], kind: str, lines: list[Want] | None) -> dict[str, int]:
    if lines is None:
        wants = {v: left[kind] for v, left in remaining.items() if left[kind] > 0}
        if not wants:
            other = "platform" if kind == "merchant" else "merchant"
            if any(left[other] > 0 for left in remaining.values()):
                raise Conflict(f"What is left of this order is shipped by the {other}.", shipped_by=other)
            raise Conflict("Everything in this order has been shipped already.")
        return wants
    wants: dict[str, int] = {}
    for i, w in enumerate(lines):
        if w.variant_id not in remaining:
            raise InvalidInput(f"The order has no line {w.variant_id}.", field=f"lines.{i}.variant_id")
        if w.variant_id in wants:
            raise InvalidInput("Each line at most once per parcel.", field=f"lines.{i}.variant_id")
        left = remaining[w.variant_id][kind]
        if w.quantity > left:
            other = remaining[w.variant_id]["platform" if kind == "merchant" else "merchant"]
            hint = (
                " (the rest is at the platform's centre; it ships them)"
                if kind == "merchant" and other
                else ""
            )
            raise InvalidInput(
                f"At most {left} unit(s) of {w.variant_id} are left for you to ship{hint}.",
                field=f"lines.{i}.quantity",
                shippable=left,
            )
        wants[w.variant_id] = w.quantity
    return wants


def _deliver(
    session: Session, shipment: Shipment, *, actor: str, reason: str, at: datetime | None
) -> Shipment:
    if shipment.status == "delivered":
        return shipment  # told twice (carrier and shopper): once is enough
    now = utcnow()
    at = at or now
    if at > now or at < shipment.shipped_at:
        raise InvalidInput("Delivery must be between shipping and now.", field="delivered_at")
    done = session.execute(
        update(Shipment)
        .where(Shipment.id == shipment.id, Shipment.status == "shipped")
        .values(status="delivered", delivered_at=at)
    ).rowcount
    if done != 1:
        session.refresh(shipment)
        return shipment
    session.refresh(shipment)
    history.record(
        session, shipment.id, shipment.order_id, "shipped", "delivered", actor=actor, reason=reason
    )
    bus.publish(session, SHIPMENT_DELIVERED, {**_payload(shipment), "delivered_at": at.isoformat()})
    order = order_store.get_locked(session, shipment.order_id)
    assert order is not None
    every = shipments_of_order(session, order.id)
    if all(s.status == "delivered" for s in every) and can_move(order.status, "delivered"):
        remaining = _to_ship(session, order)
        if not any(sum(k.values()) > 0 for k in remaining.values()):
            order_store.transition(session, order, "delivered", actor=actor, reason="every parcel delivered")
    return shipment


def merchant_delivered(
    session: Session,
    principal: Principal,
    merchant_id: str,
    shipment_id: str,
    *,
    reason: str,
    at: datetime | None,
) -> Shipment:
    role = require_merchant(principal, merchant_id, write=True)
    shipment = session.get(Shipment, shipment_id)
    if shipment is None or shipment.merchant_id != merchant_id:
        raise NotFound(f"No shipment {shipment_id}.")
    if shipment.fulfilled_by == "platform" and role != "admin" and not principal.is_admin:
        raise Forbidden("The platform shipped this parcel; its delivery is recorded by platform staff.")
    return _deliver(session, shipment, actor=principal.user_id, reason=reason, at=at)


def shopper_received(session: Session, principal: Principal, shipment_id: str) -> Shipment:
    shipment = session.get(Shipment, shipment_id)
    if shipment is None:
        raise NotFound(f"No shipment {shipment_id}.")
    try:
        order_store.get_for_user(session, principal.user_id, shipment.order_id)
    except NotFound:
        raise NotFound(f"No shipment {shipment_id}.") from None
    return _deliver(
        session, shipment, actor=principal.user_id, reason="the shopper confirmed receipt", at=None
    )


def for_shopper(session: Session, principal: Principal, order_id: str) -> list[Shipment]:
    order_store.get_for_user(session, principal.user_id, order_id)
    return shipments_of_order(session, order_id)


def for_merchant(session: Session, principal: Principal, merchant_id: str, order_id: str) -> list[Shipment]:
    require_merchant(principal, merchant_id)
    order_store.get_for_merchant(session, merchant_id, order_id)
    return shipments_of_order(session, order_id)


def delivered_at_by_variant(session: Session, order_id: str) -> dict[str, datetime]:
    """When each variant of the order was last delivered (a return window counts from there)."""
    stmt = (
        select(ShipmentLine.variant_id, func.max(Shipment.delivered_at))
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(Shipment.order_id == order_id, Shipment.status == "delivered")
        .group_by(ShipmentLine.variant_id)
    )
    return {v: at for v, at in session.execute(stmt).all() if at is not None}


def shipments_for_orders(session: Session, order_ids: list[str]) -> dict[str, list[Shipment]]:
    """Parcels of several orders at once (a page of orders); the caller has checked access to them."""
    out: dict[str, list[Shipment]] = defaultdict(list)
    if order_ids:
        stmt = select(Shipment).where(Shipment.order_id.in_(order_ids)).order_by(Shipment.id)
        for s in session.scalars(stmt):
            out[s.order_id].append(s)
    return out


def deliver_all(
    session: Session, principal: Principal, merchant_id: str, order_id: str, *, reason: str
) -> int:
    """Record delivery of every parcel of the order still on its way (the seller center's one button).
    Returns how many parcels; 0 when the order has none (it is then moved by hand, as before parcels)."""
    require_merchant(principal, merchant_id, write=True)
    order_store.get_for_merchant(session, merchant_id, order_id)
    pending = [s for s in shipments_of_order(session, order_id) if s.status == "shipped"]
    for s in pending:
        merchant_delivered(session, principal, merchant_id, s.id, reason=reason, at=None)
    return len(pending)
