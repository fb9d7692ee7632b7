"""Ledger tables: journal entries with their lines, per-order settlement state, payouts.

A line's ``amount`` is signed: debit positive, credit negative, so a balanced entry's lines sum to zero
per currency and an account's balance is the plain sum of its lines.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from etalage.db import Base, IdColumn, utcnow


class JournalEntry(Base):
    __tablename__ = "ledger_entries"

    id: Mapped[str] = IdColumn("ltx")
    # what caused it ("sale:ord_…", "refund:rfd_…", "release:ord_…", "payout:po_…:created"): an event
    # applied twice posts once
    source_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    merchant_id: Mapped[str | None] = mapped_column(String(40), index=True)
    order_id: Mapped[str | None] = mapped_column(String(40), index=True)
    memo: Mapped[str] = mapped_column(String(300), default="")
    actor: Mapped[str] = mapped_column(String(80), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class JournalLine(Base):
    __tablename__ = "ledger_lines"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("ledger_entries.id", ondelete="RESTRICT"), index=True)
    account: Mapped[str] = mapped_column(String(40))
    merchant_id: Mapped[str | None] = mapped_column(String(40))
    order_id: Mapped[str | None] = mapped_column(String(40), index=True)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_ledger_lines_account", "account", "merchant_id", "currency", "created_at"),
        CheckConstraint("amount <> 0", name="nonzero"),
    )


class Settlement(Base):
    """Where an order's money stands for its merchant: what the sale posted and when it becomes payable."""

    __tablename__ = "ledger_settlements"

    order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(40), index=True)
    region_code: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    paid_amount: Mapped[int] = mapped_column(default=0)  # what the shopper paid for this order
    fee_amount: Mapped[int] = mapped_column(default=0)
    platform_voucher_amount: Mapped[int] = mapped_column(default=0)
    refunded_amount: Mapped[int] = mapped_column(default=0)
    fee_reversed: Mapped[int] = mapped_column(default=0)
    voucher_reversed: Mapped[int] = mapped_column(default=0)
    returns_open: Mapped[int] = mapped_column(default=0)  # open return requests hold the release
    last_parcel_at: Mapped[datetime | None]  # the latest shipment delivered (carriers may report late)
    delivered_at: Mapped[datetime | None]
    available_at: Mapped[datetime | None] = mapped_column(index=True)
    released_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint("refunded_amount <= paid_amount", name="refunds_within_payment"),)


class Payout(Base):
    __tablename__ = "ledger_payouts"

    id: Mapped[str] = IdColumn("po")
    merchant_id: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int]
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="created")  # created | paid
    reference: Mapped[str | None] = mapped_column(String(120))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_ledger_payouts_merchant", "merchant_id", "id"),
        UniqueConstraint("merchant_id", "currency", "period_end", name="uq_ledger_payouts_period"),
        CheckConstraint("amount > 0", name="positive"),
        CheckConstraint("status IN ('created', 'paid')", name="status"),
    )
