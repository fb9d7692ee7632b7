"""Trader details (DSA Art. 30), their verification history, and warehouses.

The merchant itself is ``accounts.Organisation``; the trader profile shares its id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from etalage.db import Base, IdColumn, utcnow

TRADER_STATUSES = ("draft", "submitted", "verified", "rejected", "suspended")


class TraderProfile(Base):
    """What an EU marketplace must collect, and check, before a trader may sell (DSA Art. 30(1))."""

    __tablename__ = "trader_profiles"

    merchant_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    legal_name: Mapped[str | None] = mapped_column(String(200))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    id_document_type: Mapped[str | None] = mapped_column(String(32))
    id_document_ref: Mapped[str | None] = mapped_column(String(200))
    payment_account: Mapped[str | None] = mapped_column(String(64))  # IBAN or another account number
    trade_register_name: Mapped[str | None] = mapped_column(String(200))
    trade_register_number: Mapped[str | None] = mapped_column(String(64))
    self_certified_at: Mapped[datetime | None]
    status_reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint(f"status IN {TRADER_STATUSES}", name="status"),)


class TraderStatusEvent(Base):
    """Every change of a trader's status: who, when, why (append-only)."""

    __tablename__ = "trader_status_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_trader_status_events_merchant", "merchant_id", "id"),)


class Warehouse(Base):
    """A place that holds stock and ships from a region: the merchant's own, or a fulfilment partner's.

    Its country never changes (stock in it is counted as deliverable into that region); a move is a new
    warehouse.
    """

    __tablename__ = "warehouses"

    id: Mapped[str] = IdColumn("whs")
    merchant_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    operator: Mapped[str] = mapped_column(String(24), default="merchant")  # merchant|fulfilment_partner
    partner_name: Mapped[str | None] = mapped_column(String(200))
    address_line1: Mapped[str] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(8))
    region_code: Mapped[str] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
