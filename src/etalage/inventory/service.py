"""Inventory logic for merchants (receive, adjust, count, read the ledger) and for other domains.

For other domains:
- :func:`available_by_variant`, :func:`in_stock_variant_ids` — what can be delivered into a region.
- ``inventory.stock`` — reservations for checkout (the one module that writes stock).
Bus event ``inventory.stock.changed`` {variant_id, product_id, available, by_region} after each commit that
changes what is available.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_merchant
from etalage.core.errors import InvalidInput, NotFound
from etalage.core.pagination import PageParams, paginate
from etalage.inventory import stock
from etalage.inventory.models import StockLevel, StockMovement


def _check_pair(session: Session, merchant_id: str, variant_id: str, warehouse_id: str):  # type: ignore[no-untyped-def]
    from etalage.catalog import lookups as catalog
    from etalage.merchants import service as merchants

    owner = catalog.variant_owner(session, variant_id)
    if owner is None or owner[1] != merchant_id:
        raise NotFound(f"No variant {variant_id}.", field="variant_id")
    warehouse = merchants.get_warehouse(session, warehouse_id)
    if warehouse is None or warehouse.merchant_id != merchant_id:
        raise NotFound(f"No warehouse {warehouse_id}.", field="warehouse_id")
    return owner[0], warehouse


def record_movement(
    session: Session,
    principal: Principal,
    merchant_id: str,
    *,
    variant_id: str,
    warehouse_id: str,
    kind: str,
    quantity: int,
    reason: str,
    reference: str | None = None,
) -> tuple[int, int]:
    """A merchant's stock movement: ``receive`` (+quantity), ``remove`` (−quantity: damage, loss) or
    ``count`` (quantity is what was counted). Returns (on_hand, reserved) after it."""
    require_merchant(principal, merchant_id, write=True)
    product_id, warehouse = _check_pair(session, merchant_id, variant_id, warehouse_id)
    actor = principal.user_id
    if kind == "receive":
        if quantity <= 0:
            raise InvalidInput("Receive a positive quantity.", field="quantity")
        return stock.receive(
            session,
            variant_id=variant_id,
            product_id=product_id,
            merchant_id=merchant_id,
            warehouse_id=warehouse_id,
            region_code=warehouse.region_code,
            warehouse_active=warehouse.active,
            quantity=quantity,
            reason=reason,
            actor=actor,
            reference=reference,
        )
    if kind == "remove":
        if quantity <= 0:
            raise InvalidInput("Remove a positive quantity.", field="quantity")
        return stock.adjust(
            session,
            variant_id=variant_id,
            warehouse_id=warehouse_id,
            delta=-quantity,
            kind="adjust",
            reason=reason,
            actor=actor,
            reference=reference,
        )
    if quantity < 0:
        raise InvalidInput("A count cannot be negative.", field="quantity")
    return stock.count(
        session,
        variant_id=variant_id,
        warehouse_id=warehouse_id,
        counted=quantity,
        reason=reason,
        actor=actor,
    )


def list_levels(
    session: Session, principal: Principal, merchant_id: str, variant_id: str | None
) -> list[StockLevel]:
    require_merchant(principal, merchant_id)
    stmt = select(StockLevel).where(StockLevel.merchant_id == merchant_id)
    if variant_id:
        stmt = stmt.where(StockLevel.variant_id == variant_id)
    return list(session.scalars(stmt.order_by(StockLevel.variant_id, StockLevel.warehouse_id).limit(1000)))


def ledger(
    session: Session,
    principal: Principal,
    merchant_id: str,
    params: PageParams,
    *,
    variant_id: str | None = None,
    warehouse_id: str | None = None,
) -> tuple[list[StockMovement], str | None]:
    require_merchant(principal, merchant_id)
    own = select(StockLevel.variant_id).where(StockLevel.merchant_id == merchant_id)
    stmt = select(StockMovement).where(StockMovement.variant_id.in_(own))
    if variant_id:
        stmt = stmt.where(StockMovement.variant_id == variant_id)
    if warehouse_id:
        stmt = stmt.where(StockMovement.warehouse_id == warehouse_id)
    return paginate(session, stmt, StockMovement.id, params)


# --- what other domains ask -----------------------------------------------------------------------------


def available_by_variant(session: Session, variant_ids: list[str], region_code: str) -> dict[str, int]:
    """Units of each variant that can be delivered into ``region_code`` now (not reserved)."""
    if not variant_ids:
        return {}
    rows = session.execute(
        select(StockLevel.variant_id, func.sum(StockLevel.on_hand - StockLevel.reserved))
        .where(
            StockLevel.variant_id.in_(variant_ids),
            StockLevel.region_code == region_code,
            StockLevel.warehouse_active.is_(True),
        )
        .group_by(StockLevel.variant_id)
    )
    return {vid: int(n or 0) for vid, n in rows}


def in_stock_variant_ids(session: Session, region_code: str) -> set[str]:
    rows = session.scalars(
        select(StockLevel.variant_id)
        .where(
            StockLevel.region_code == region_code,
            StockLevel.warehouse_active.is_(True),
            StockLevel.on_hand > StockLevel.reserved,
        )
        .distinct()
    )
    return set(rows)


def set_warehouse_active(session: Session, warehouse_id: str, active: bool, *, actor: str) -> None:
    """Called by merchants when a warehouse goes out of (or back into) service."""
    stock.set_warehouse_active(session, warehouse_id, active)
    session.flush()
    variant_ids = set(
        session.scalars(select(StockLevel.variant_id).where(StockLevel.warehouse_id == warehouse_id))
    )
    stock.publish_levels(session, variant_ids)


def sold_for_order(session: Session, order_id: str) -> list[stock.Held]:
    """Where an order's sold units were taken from: (variant, warehouse, quantity) per committed hold."""
    from etalage.inventory.models import StockReservation as SR

    rows = session.execute(
        select(SR.id, SR.order_id, SR.variant_id, SR.warehouse_id, SR.quantity)
        .where(SR.order_id == order_id, SR.status == "committed")
        .order_by(SR.variant_id, SR.warehouse_id)
    ).all()
    return [stock.Held(*r) for r in rows]


def restock_return(
    session: Session,
    order_id: str,
    variant_id: str,
    quantity: int,
    *,
    actor: str,
    reference: str,
    warehouse_id: str | None = None,
) -> list[tuple[str, int]]:
    """Returned units go back on the shelf they were sold from (``warehouse_id`` if given, else the order's
    warehouses in turn), recorded as ``restock`` with reason 'return'. Returns (warehouse, units) placed."""
    placed: list[tuple[str, int]] = []
    left = quantity
    sources = [h for h in sold_for_order(session, order_id) if h.variant_id == variant_id]
    if warehouse_id is not None:
        sources = [h for h in sources if h.warehouse_id == warehouse_id] or sources
    for i, h in enumerate(sources):
        take = left if i == len(sources) - 1 else min(left, h.quantity)
        if take <= 0:
            break
        stock.restock(
            session,
            variant_id=variant_id,
            warehouse_id=h.warehouse_id,
            quantity=take,
            reason="return",
            actor=actor,
            reference=reference,
        )
        placed.append((h.warehouse_id, take))
        left -= take
    return placed
