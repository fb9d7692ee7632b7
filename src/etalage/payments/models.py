"""Payments tables: saved payment methods (tokens only), payments and their history, refunds, webhooks.

Etalage never sees a card number: the shopper's device hands it to the provider, which returns a token.
What is stored is that token, the method type, and brand/last four digits/expiry to show in a list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from etalage.db import Base, IdColumn, utcnow

PAYMENT_STATUSES = (
    "pending",  # recorded, the provider has not answered yet
    "requires_action",  # the shopper must approve (3-D Secure, bank redirect, app)
    "authorised",  # money held, not taken
    "captured",  # money taken
    "declined",
    "failed",  # never reached the provider, or it errored; nothing was charged
    "cancelled",  # an authorisation or pending payment voided
)


class PaymentMethod(Base):
    __tablename__ = "payment_methods"

    id: Mapped[str] = IdColumn("pm")
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    psp_token: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(16))  # card|apple_pay|google_pay|bancontact|ideal|bizum
    brand: Mapped[str | None] = mapped_column(String(16))
    last4: Mapped[str | None] = mapped_column(String(4))
    exp_month: Mapped[int | None]
    exp_year: Mapped[int | None]
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_payment_methods_user", "user_id", "is_default"),)


class Payment(Base):
    """One charge for one checkout (which may cover several merchants' orders)."""

    __tablename__ = "payments"

    id: Mapped[str] = IdColumn("pay")  # also the provider's idempotency key
    checkout_id: Mapped[str] = mapped_column(String(40), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    method_type: Mapped[str] = mapped_column(String(16))
    payment_method_id: Mapped[str | None] = mapped_column(String(40))
    brand: Mapped[str | None] = mapped_column(String(16))
    last4: Mapped[str | None] = mapped_column(String(4))
    psp_reference: Mapped[str | None] = mapped_column(String(64), unique=True)
    next_action: Mapped[dict[str, Any] | None]
    decline_code: Mapped[str | None] = mapped_column(String(40))
    failure_message: Mapped[str | None] = mapped_column(Text)
    captured_amount: Mapped[int] = mapped_column(default=0)
    refunded_amount: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_at: Mapped[datetime | None]  # last time the provider was polled about it

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount <= captured_amount", name="refund_within_capture"
        ),
        CheckConstraint("captured_amount >= 0 AND captured_amount <= amount", name="capture_within_amount"),
        Index("ix_payments_open", "status", "updated_at"),
    )


class PaymentEvent(Base):
    """Every change of a payment: from, to, what told us (checkout, webhook, poll, job), why. Append-only."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    amount: Mapped[int | None]  # for captures and refunds
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_payment_events_payment", "payment_id", "id"),)


class Refund(Base):
    __tablename__ = "refunds"

    id: Mapped[str] = IdColumn("rfd")  # also the provider's idempotency key
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"), index=True)
    order_id: Mapped[str | None] = mapped_column(String(40), index=True)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|succeeded|failed
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(40))
    psp_reference: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)


class ProviderEvent(Base):
    """Webhook events already applied, by the provider's event id: a replay changes nothing."""

    __tablename__ = "psp_events"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    psp_payment_id: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
