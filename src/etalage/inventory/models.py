"""Stock per SKU and warehouse, reservations held by checkouts, and the append-only stock ledger.

The database itself refuses impossible stock: ``on_hand >= 0`` and ``0 <= reserved <= on_hand``, so no bug
anywhere can sell a unit that is not there. All writes go through ``inventory.stock``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from etalage.db import Base, IdColumn, utcnow

RESERVATION_STATUSES = ("active", "committed", "released", "expired")


class StockLevel(Base):
    __tablename__ = "stock_levels"

    variant_id: Mapped[str] = mapped_column(
        ForeignKey("product_variants.id", ondelete="CASCADE"), primary_key=True
    )
    warehouse_id: Mapped[str] = mapped_column(
        ForeignKey("warehouses.id", ondelete="CASCADE"), primary_key=True
    )
    # Copied from the variant and the warehouse (neither ever changes), so allocation is one indexed read.
    product_id: Mapped[str] = mapped_column(String(40))
    merchant_id: Mapped[str] = mapped_column(String(40), index=True)
    region_code: Mapped[str] = mapped_column(String(2))
    warehouse_active: Mapped[bool] = mapped_column(Boolean, default=True)
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
        Index("ix_stock_levels_region", "region_code", "variant_id"),
    )


class StockReservation(Base):
    """Units held for an order until it is paid (committed) or not (released / expired)."""

    __tablename__ = "stock_reservations"

    id: Mapped[str] = IdColumn("rsv")
    order_id: Mapped[str] = mapped_column(String(40), index=True)
    variant_id: Mapped[str] = mapped_column(String(40))
    warehouse_id: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="active")
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(f"status IN {RESERVATION_STATUSES}", name="status"),
        Index("ix_stock_reservations_due", "status", "expires_at"),
    )


class StockMovement(Base):
    """The stock ledger: every change of on-hand or reserved units, with why and by whom. Append-only.

    Kinds: receive, adjust, count, reserve, release, expire, sell (a reservation committed by payment),
    restock (a return put back). For every (variant, warehouse), the deltas sum to the current level.
    """

    __tablename__ = "stock_movements"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    variant_id: Mapped[str] = mapped_column(String(40))
    warehouse_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))
    on_hand_delta: Mapped[int] = mapped_column(default=0)
    reserved_delta: Mapped[int] = mapped_column(default=0)
    on_hand_after: Mapped[int]
    reserved_after: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(40))  # a user id, or "system" / "checkout" / "psp"
    reference: Mapped[str | None] = mapped_column(String(40))  # the order, reservation or document
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_stock_movements_sku", "variant_id", "warehouse_id", "id"),)
