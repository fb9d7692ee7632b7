"""Commerce tables: launch state of regions, shipping rates, addresses, carts, orders and their history,
and idempotency keys. A *checkout* is the group of orders (one per merchant) paid by one payment; its id
is carried by the orders and the payment rather than stored in a table of its own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from etalage.commerce.order_states import STATUSES
from etalage.db import Base, IdColumn, utcnow


class LaunchRegion(Base):
    """The operator's decision to sell in a region (the region's facts are code: ``commerce.regions``)."""

    __tablename__ = "launch_regions"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    launched: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)


class LaunchEvent(Base):
    __tablename__ = "launch_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    region_code: Mapped[str] = mapped_column(String(2), index=True)
    launched: Mapped[bool] = mapped_column(Boolean)
    actor_id: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ShippingRate(Base):
    """A merchant's shipping fee per order into a region (the region's default applies otherwise)."""

    __tablename__ = "shipping_rates"

    merchant_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    region_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    fee_amount: Mapped[int]
    free_over_amount: Mapped[int | None]
    currency: Mapped[str] = mapped_column(String(3))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("fee_amount >= 0", name="fee_not_negative"),)


class Address(Base):
    __tablename__ = "addresses"

    id: Mapped[str] = IdColumn("adr")
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(100))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(8))
    country: Mapped[str] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(32))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_addresses_user", "user_id", "is_default"),)


class Cart(Base):
    __tablename__ = "carts"

    id: Mapped[str] = IdColumn("crt")
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    region_code: Mapped[str] = mapped_column(String(2))
    checkout_id: Mapped[str | None] = mapped_column(String(40))  # the checkout paying for these lines now
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CartLine(Base):
    __tablename__ = "cart_lines"

    cart_id: Mapped[str] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), primary_key=True)
    variant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    quantity: Mapped[int]
    unit_amount: Mapped[int]  # the price the shopper saw; checkout refuses to charge another silently
    currency: Mapped[str] = mapped_column(String(3))
    source_video_id: Mapped[str | None] = mapped_column(String(40))
    source_live_room_id: Mapped[str | None] = mapped_column(String(40))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)


class Order(Base):
    """One merchant's part of a checkout."""

    __tablename__ = "orders"

    id: Mapped[str] = IdColumn("ord")
    checkout_id: Mapped[str] = mapped_column(String(40), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    payment_id: Mapped[str] = mapped_column(String(40))
    region_code: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(24), default="awaiting_payment")
    subtotal_amount: Mapped[int]
    shipping_amount: Mapped[int]
    tax_amount: Mapped[int]
    total_amount: Mapped[int]
    tax_included: Mapped[bool] = mapped_column(Boolean)
    # vouchers' share, already taken off the lines (promotions.discounts_for_order says whose)
    discount_amount: Mapped[int] = mapped_column(default=0, server_default="0")
    refunded_amount: Mapped[int] = mapped_column(default=0)
    ship_to: Mapped[dict[str, Any]]
    source_video_id: Mapped[str | None] = mapped_column(String(40), index=True)
    source_live_room_id: Mapped[str | None] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES}", name="status"),
        CheckConstraint(
            "total_amount >= 0 AND refunded_amount >= 0 AND refunded_amount <= total_amount", name="amounts"
        ),
        Index("ix_orders_user", "user_id", "id"),
        Index("ix_orders_merchant", "merchant_id", "id"),
    )


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[str] = mapped_column(String(40))
    variant_id: Mapped[str] = mapped_column(String(40))
    sku: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    options: Mapped[dict[str, Any]]
    quantity: Mapped[int]
    unit_amount: Mapped[int]
    tax_rate_bp: Mapped[int]
    tax_amount: Mapped[int]
    total_amount: Mapped[int]
    source_video_id: Mapped[str | None] = mapped_column(String(40))
    source_live_room_id: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)


class OrderEvent(Base):
    """Every transition of an order: from, to, who, why, when. Append-only."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(40))  # a user id, or payment:<source> / system
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_order_events_order", "order_id", "id"),)


class IdempotencyKey(Base):
    """A money-moving request already received from this user with this key, and what it created."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    scope: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
