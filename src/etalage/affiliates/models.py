"""Affiliate tables: commission rates (current value and every change), commissions and their history.

A commission is one order's earnings for the creator whose video or live room it was bought from, written
in the order's own payment transaction. Amounts are minor units of the order's currency; rates are basis
points.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from etalage.db import Base, IdColumn, utcnow

STATES = ("pending", "payable", "paid", "reversed")


class CommissionRate(Base):
    """A merchant's current creator commission rate, merchant-wide (``product_id`` '') or for one product."""

    __tablename__ = "commission_rates"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    merchant_id: Mapped[str] = mapped_column(String(40))
    product_id: Mapped[str] = mapped_column(String(40), default="")  # '' = every product of the merchant
    rate_bp: Mapped[int]
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("merchant_id", "product_id", name="uq_commission_rates_scope"),
        CheckConstraint("rate_bp >= 0 AND rate_bp <= 5000", name="bounded"),
    )


class CommissionRateChange(Base):
    """Every change of a rate: who, why, from what to what. Append-only."""

    __tablename__ = "commission_rate_changes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    merchant_id: Mapped[str] = mapped_column(String(40), index=True)
    product_id: Mapped[str] = mapped_column(String(40), default="")
    from_bp: Mapped[int | None]
    to_bp: Mapped[int]
    actor: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Commission(Base):
    __tablename__ = "commissions"

    id: Mapped[str] = IdColumn("cms")
    creator_id: Mapped[str] = mapped_column(String(40))
    merchant_id: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[str] = mapped_column(String(40), index=True)
    source_id: Mapped[str] = mapped_column(String(40))  # the video or live room the order came from
    video_id: Mapped[str | None] = mapped_column(String(40), index=True)
    live_room_id: Mapped[str | None] = mapped_column(String(40))
    region_code: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    order_total_amount: Mapped[int]  # what the shopper paid for the order: refunds are shares of it
    base_amount: Mapped[int]  # the attributed lines, net of VAT and of vouchers
    rate_bp: Mapped[int]  # the lines' rate (weighted when products differ)
    amount: Mapped[int]
    refunded_amount: Mapped[int] = mapped_column(default=0)  # of the order's total, as refunds came in
    reversed_amount: Mapped[int] = mapped_column(default=0)  # of ``amount``
    lines: Mapped[list[Any]]  # [{product_id, base, rate_bp, amount}]
    status: Mapped[str] = mapped_column(String(12), default="pending")
    returns_open: Mapped[int] = mapped_column(default=0)  # an open return holds it back from payable
    delivered_at: Mapped[datetime | None]
    payable_at: Mapped[datetime | None] = mapped_column(index=True)
    paid_at: Mapped[datetime | None]
    paid_reference: Mapped[str | None] = mapped_column(String(120))
    accrued_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "order_id", "source_id", name="uq_commissions_order_source"
        ),  # accrual is idempotent
        Index("ix_commissions_creator", "creator_id", "id"),
        Index("ix_commissions_merchant", "merchant_id", "creator_id"),
        CheckConstraint(f"status IN {STATES}", name="status"),
        CheckConstraint("amount >= 0 AND reversed_amount >= 0 AND reversed_amount <= amount", name="amounts"),
    )

    @property
    def net_amount(self) -> int:
        return self.amount - self.reversed_amount


class CommissionEvent(Base):
    """Every change of a commission: accrued, reversed (part), payable, paid; who and why. Append-only."""

    __tablename__ = "commission_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    commission_id: Mapped[str] = mapped_column(String(40), index=True)
    # the cause ("refund:rfd_…"), where one cause must apply once per commission
    source_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # accrued | reversed | payable | paid
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    amount: Mapped[int] = mapped_column(default=0)
    actor: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
