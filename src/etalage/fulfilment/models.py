"""After the sale: shipments (parcels with carrier and tracking), returns, the platform's fulfilment centres
and the merchants enrolled in them, and one append-only history of every change (who, why, when)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from etalage.db import Base, IdColumn, utcnow

SHIPMENT_STATUSES = ("shipped", "delivered")
RETURN_STATUSES = ("requested", "approved", "rejected", "received", "refunded")


class Shipment(Base):
    """One parcel: some units of one order's lines, sent by the merchant or by the platform's centre."""

    __tablename__ = "shipments"

    id: Mapped[str] = IdColumn("shp")
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(40), index=True)  # the order's shopper (exports, erasure)
    fulfilled_by: Mapped[str] = mapped_column(String(16), default="merchant")  # merchant|platform
    carrier: Mapped[str] = mapped_column(String(50))
    tracking_number: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="shipped")
    created_by: Mapped[str] = mapped_column(String(40))
    shipped_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(f"status IN {SHIPMENT_STATUSES}", name="status"),
        CheckConstraint("fulfilled_by IN ('merchant', 'platform')", name="fulfilled_by"),
        # the same parcel recorded twice (a retried form, a replayed request) is one shipment
        UniqueConstraint("order_id", "carrier", "tracking_number", name="uq_shipments_parcel"),
        Index("ix_shipments_merchant", "merchant_id", "id"),
    )


class ShipmentLine(Base):
    __tablename__ = "shipment_lines"

    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), primary_key=True)
    variant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(40), index=True)
    product_id: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int]

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)


class ReturnRequest(Base):
    """A shopper's request to send units of a delivered order back, and what became of it."""

    __tablename__ = "returns"

    id: Mapped[str] = IdColumn("ret")
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="requested")
    reason: Mapped[str] = mapped_column(Text)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    auto_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    currency: Mapped[str] = mapped_column(String(3))
    value_amount: Mapped[int]  # what the returned units cost the shopper
    refund_amount: Mapped[int | None]
    refund_id: Mapped[str | None] = mapped_column(String(40))
    answer_by: Mapped[datetime]  # approved automatically if the merchant has not answered by then
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(f"status IN {RETURN_STATUSES}", name="status"),
        CheckConstraint("value_amount >= 0 AND (refund_amount IS NULL OR refund_amount > 0)", name="amounts"),
        Index("ix_returns_merchant", "merchant_id", "id"),
        Index("ix_returns_order", "order_id"),
        Index("ix_returns_user", "user_id", "id"),
    )


class ReturnLine(Base):
    __tablename__ = "return_lines"

    return_id: Mapped[str] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), primary_key=True)
    variant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(40), index=True)
    quantity: Mapped[int]
    value_amount: Mapped[int]

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)


class FulfilmentEvent(Base):
    """Every change of a shipment, a return or an enrolment: from, to, who, why, when. Append-only."""

    __tablename__ = "fulfilment_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = mapped_column(String(40))  # shp_…, ret_… or enr_…
    order_id: Mapped[str | None] = mapped_column(String(40), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(40))  # a user id, or system
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_fulfilment_events_subject", "subject_id", "id"),)


class FulfilmentCentre(Base):
    """A warehouse the platform itself runs, where enrolled merchants' stock is kept and shipped from."""

    __tablename__ = "fulfilment_centres"

    id: Mapped[str] = IdColumn("ffc")
    name: Mapped[str] = mapped_column(String(100))
    address_line1: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(8))
    region_code: Mapped[str] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FulfilmentEnrolment(Base):
    """A merchant's stock kept at a centre: a warehouse of the merchant's, operated by the platform."""

    __tablename__ = "fulfilment_enrolments"

    id: Mapped[str] = IdColumn("enr")
    merchant_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    centre_id: Mapped[str] = mapped_column(ForeignKey("fulfilment_centres.id", ondelete="RESTRICT"))
    warehouse_id: Mapped[str] = mapped_column(String(40), unique=True)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("merchant_id", "centre_id", name="uq_enrolments_merchant_centre"),)
