"""Receiving, removing, counting and restocking units (the merchant side of stock)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from etalage.core.errors import Conflict
from etalage.db import utcnow
from etalage.inventory.stock.common import (
    SL,
    SLT,
    _is_postgres,
    _ledger,
    _move,
    publish_levels,
)

# --- receiving and counting (merchant side) ------------------------------------------------------------


def receive(
    session: Session,
    *,
    variant_id: str,
    product_id: str,
    merchant_id: str,
    warehouse_id: str,
    region_code: str,
    warehouse_active: bool,
    quantity: int,
    reason: str,
    actor: str,
    reference: str | None = None,
) -> tuple[int, int]:
    """Add units to a warehouse (creating the level on first receipt); returns (on_hand, reserved)."""
    now = utcnow()
    if _is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    stmt = upsert(SLT).values(
        variant_id=variant_id,
        warehouse_id=warehouse_id,
        product_id=product_id,
        merchant_id=merchant_id,
        region_code=region_code,
        warehouse_active=warehouse_active,
        on_hand=quantity,
        reserved=0,
        updated_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[SL.variant_id, SL.warehouse_id],
        set_={"on_hand": SL.on_hand + quantity, "updated_at": now},
    ).returning(SL.on_hand, SL.reserved)
    after = session.connection().execute(stmt).one()
    _ledger(
        session,
        [_move(variant_id, warehouse_id, "receive", quantity, 0, after, reason, actor, reference, now)],
    )
    publish_levels(session, {variant_id})
    return after[0], after[1]


def adjust(
    session: Session,
    *,
    variant_id: str,
    warehouse_id: str,
    delta: int,
    kind: str,
    reason: str,
    actor: str,
    reference: str | None = None,
) -> tuple[int, int]:
    """Add or remove units (damage, loss, correction); never below what is reserved."""
    now = utcnow()
    after = (
        session.connection()
        .execute(
            update(SLT)
            .where(
                SL.variant_id == variant_id,
                SL.warehouse_id == warehouse_id,
                SL.on_hand + delta >= SL.reserved,
            )
            .values(on_hand=SL.on_hand + delta, updated_at=now)
            .returning(SL.on_hand, SL.reserved)
        )
        .first()
    )
    if after is None:
        level = level_of(session, variant_id, warehouse_id)
        if level is None:
            raise Conflict("This warehouse holds no stock of this variant yet; receive some first.")
        raise Conflict(
            f"Cannot remove {-delta}: {level[0]} on hand of which {level[1]} are reserved for orders.",
            on_hand=level[0],
            reserved=level[1],
        )
    _ledger(session, [_move(variant_id, warehouse_id, kind, delta, 0, after, reason, actor, reference, now)])
    publish_levels(session, {variant_id})
    return after[0], after[1]


def count(
    session: Session, *, variant_id: str, warehouse_id: str, counted: int, reason: str, actor: str
) -> tuple[int, int]:
    """A stocktake: set on-hand to what was counted (the ledger records the difference)."""
    stmt = select(SL.on_hand).where(SL.variant_id == variant_id, SL.warehouse_id == warehouse_id)
    if _is_postgres(session):
        stmt = stmt.with_for_update()
    current = session.connection().execute(stmt).scalar()
    if current is None:
        raise Conflict("This warehouse holds no stock of this variant yet; receive some first.")
    return adjust(
        session,
        variant_id=variant_id,
        warehouse_id=warehouse_id,
        delta=counted - current,
        kind="count",
        reason=reason,
        actor=actor,
    )


def level_of(session: Session, variant_id: str, warehouse_id: str) -> tuple[int, int] | None:
    row = (
        session.connection()
        .execute(
            select(SL.on_hand, SL.reserved).where(
                SL.variant_id == variant_id, SL.warehouse_id == warehouse_id
            )
        )
        .first()
    )
    return (row[0], row[1]) if row else None


def set_warehouse_active(session: Session, warehouse_id: str, active: bool) -> None:
    session.connection().execute(
        update(SLT)
        .where(SL.warehouse_id == warehouse_id)
        .values(warehouse_active=active, updated_at=utcnow())
    )


def restock(
    session: Session,
    *,
    variant_id: str,
    warehouse_id: str,
    quantity: int,
    reason: str,
    actor: str,
    reference: str | None,
) -> tuple[int, int]:
    """Units come back (a return, a cancelled shipment): on-hand grows, recorded as ``restock``."""
    return adjust(
        session,
        variant_id=variant_id,
        warehouse_id=warehouse_id,
        delta=quantity,
        kind="restock",
        reason=reason,
        actor=actor,
        reference=reference,
    )
