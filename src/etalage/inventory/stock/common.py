"""Shared by the stock modules: the prebuilt statements, the records, the ledger, the change events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from etalage.core import bus
from etalage.core.errors import Conflict, InvalidInput
from etalage.inventory.models import StockLevel, StockMovement, StockReservation

STOCK_CHANGED = "inventory.stock.changed"
# Core tables, not ORM entities: checkout runs these statements on every purchase, and the ORM's bulk
# paths cost several times more per statement for nothing we use.
# The statements are built once, here: building a statement costs more than running it.
SLT, SRT, MOVES = StockLevel.__table__, StockReservation.__table__, StockMovement.__table__
SL, SR = SLT.c, SRT.c
_P = bindparam  # short, for the statement table below


def _ids(name: str) -> Any:
    return bindparam(name, expanding=True)


_LEVELS_BY_REGION = (
    select(SL.variant_id, SL.product_id, SL.region_code, func.sum(SL.on_hand - SL.reserved))
    .where(SL.variant_id.in_(_ids("variants")), SL.warehouse_active.is_(True))
    .group_by(SL.variant_id, SL.product_id, SL.region_code)
)
_CANDIDATES = select(SL.variant_id, SL.warehouse_id, SL.on_hand - SL.reserved).where(
    SL.variant_id.in_(_ids("variants")), SL.region_code == _P("region"), SL.warehouse_active.is_(True)
)
_HOLD = (
    update(SLT)
    .where(
        SL.variant_id == _P("vid"),
        SL.warehouse_id == _P("wid"),
        SL.warehouse_active.is_(True),
        SL.on_hand - SL.reserved >= _P("qty"),
    )
    .values(reserved=SL.reserved + _P("qty"), updated_at=_P("ts"))
    .returning(SL.on_hand, SL.reserved)
)
_UNHOLD = (
    update(SLT)
    .where(SL.variant_id == _P("vid"), SL.warehouse_id == _P("wid"))
    .values(reserved=SL.reserved - _P("qty"), updated_at=_P("ts"))
    .returning(SL.on_hand, SL.reserved)
)
_SELL = (
    update(SLT)
    .where(SL.variant_id == _P("vid"), SL.warehouse_id == _P("wid"))
    .values(on_hand=SL.on_hand - _P("qty"), reserved=SL.reserved - _P("qty"), updated_at=_P("ts"))
    .returning(SL.on_hand, SL.reserved)
)
_RESOLVED = (SR.id, SR.order_id, SR.variant_id, SR.warehouse_id, SR.quantity)
_RESOLVE_ORDERS = (
    update(SRT)
    .where(SR.order_id.in_(_ids("orders")), SR.status == "active")
    .values(status=_P("to_status"), resolved_at=_P("ts"))
    .returning(*_RESOLVED)
)
_RESOLVE_IDS = (
    update(SRT)
    .where(SR.id.in_(_ids("ids")), SR.status == "active")
    .values(status=_P("to_status"), resolved_at=_P("ts"))
    .returning(*_RESOLVED)
)
_INSERT_RESERVATIONS = insert(SRT)
_INSERT_MOVES = insert(MOVES)


class OutOfStock(Conflict):
    code, title = "out-of-stock", "Not enough stock"


class NotDeliverable(InvalidInput):
    code, title = "not-deliverable", "Not deliverable to this region"


@dataclass(frozen=True)
class Want:
    """``quantity`` units of ``variant_id`` for ``order_id``."""

    order_id: str
    variant_id: str
    quantity: int


@dataclass(frozen=True)
class Held:
    reservation_id: str
    order_id: str
    variant_id: str
    warehouse_id: str
    quantity: int


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _move(
    variant_id: str,
    warehouse_id: str,
    kind: str,
    on_hand_delta: int,
    reserved_delta: int,
    after: Any,
    reason: str,
    actor: str,
    reference: str | None,
    now: datetime,
) -> dict[str, Any]:
    return dict(
        variant_id=variant_id,
        warehouse_id=warehouse_id,
        kind=kind,
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
        on_hand_after=after[0],
        reserved_after=after[1],
        reason=reason,
        actor=actor,
        reference=reference,
        created_at=now,
    )


def _ledger(session: Session, moves: list[dict[str, Any]]) -> None:
    if moves:
        session.connection().execute(_INSERT_MOVES, moves)


def publish_levels(session: Session, variant_ids: set[str]) -> None:
    """After commit: ``inventory.stock.changed`` {variant_id, product_id, available, by_region} per variant."""
    if not variant_ids or not bus.wanted(STOCK_CHANGED):  # a read on every checkout, for no reader
        return
    rows = session.connection().execute(_LEVELS_BY_REGION, {"variants": sorted(variant_ids)})
    out: dict[str, dict[str, Any]] = {}
    for vid, pid, region, available in rows:
        item = out.setdefault(vid, {"variant_id": vid, "product_id": pid, "available": 0, "by_region": {}})
        item["available"] += int(available or 0)
        item["by_region"][region] = int(available or 0)
    for item in out.values():
        bus.publish(session, STOCK_CHANGED, item)
