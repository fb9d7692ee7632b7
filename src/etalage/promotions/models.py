"""Promotion tables: vouchers and their redemptions, flash sales and their claims, the price history.

The counters (``vouchers.used_count``, ``flash_sales.sold``) are only ever changed by one conditional
``UPDATE`` each in ``promotions.claims``; the check constraints are a second wall against overselling.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from etalage.db import Base, IdColumn, utcnow

FUNDERS = ("merchant", "platform")


class Voucher(Base):
    """A code a shopper types at checkout. ``merchant_id`` null: platform-funded, valid on any shop."""

    __tablename__ = "vouchers"

    id: Mapped[str] = IdColumn("vch")
    code: Mapped[str] = mapped_column(String(32), unique=True)
    merchant_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    funded_by: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(8))  # percent | fixed
    percent_bp: Mapped[int | None]
    amount: Mapped[int | None]  # fixed vouchers, minor units of ``currency``
    currency: Mapped[str | None] = mapped_column(String(3))
    min_spend_amount: Mapped[int] = mapped_column(default=0)
    region_code: Mapped[str | None] = mapped_column(String(2))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    per_user_limit: Mapped[int] = mapped_column(default=1)
    max_uses: Mapped[int | None]
    used_count: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(8), default="active")  # active | ended
    description: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(40))
    end_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("funded_by IN ('merchant', 'platform')", name="funded_by"),
        CheckConstraint("kind IN ('percent', 'fixed')", name="kind"),
        CheckConstraint("status IN ('active', 'ended')", name="status"),
        CheckConstraint(
            "(kind = 'percent' AND percent_bp > 0 AND percent_bp <= 10000)"
            " OR (kind = 'fixed' AND amount > 0 AND currency IS NOT NULL)",
            name="value",
        ),
        CheckConstraint("min_spend_amount >= 0 AND per_user_limit >= 1", name="limits"),
        CheckConstraint("used_count >= 0 AND (max_uses IS NULL OR used_count <= max_uses)", name="uses"),
        CheckConstraint("ends_at > starts_at", name="window"),
        Index("ix_vouchers_merchant", "merchant_id", "id"),
    )


class VoucherRedemption(Base):
    """A voucher's share of one order: who, which order, how much, who pays for it. ``released_at`` set
    when the order was cancelled (the use counts again)."""

    __tablename__ = "voucher_redemptions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    voucher_id: Mapped[str] = mapped_column(ForeignKey("vouchers.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(40))
    checkout_id: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[str] = mapped_column(String(40), index=True)
    merchant_id: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    funded_by: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]
    release_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount"),
        Index("ix_voucher_redemptions_voucher_user", "voucher_id", "user_id"),
    )


class FlashSale(Base):
    """A time-boxed price for one variant in one region, for at most ``quantity`` units."""

    __tablename__ = "flash_sales"

    id: Mapped[str] = IdColumn("fls")
    merchant_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    product_id: Mapped[str] = mapped_column(String(40))
    variant_id: Mapped[str] = mapped_column(String(40))
    region_code: Mapped[str] = mapped_column(String(2))
    price_amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    quantity: Mapped[int]
    sold: Mapped[int] = mapped_column(default=0)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(8), default="active")  # active | ended
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(40))
    end_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("price_amount > 0 AND quantity > 0", name="positive"),
        CheckConstraint("sold >= 0 AND sold <= quantity", name="sold"),
        CheckConstraint("status IN ('active', 'ended')", name="status"),
        CheckConstraint("ends_at > starts_at", name="window"),
        Index("ix_flash_sales_variant", "variant_id", "region_code", "ends_at"),
        Index("ix_flash_sales_merchant", "merchant_id", "id"),
    )


class FlashSaleClaim(Base):
    """Units of a flash sale taken by one order; ``released_at`` when the order was cancelled."""

    __tablename__ = "flash_sale_claims"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    sale_id: Mapped[str] = mapped_column(ForeignKey("flash_sales.id", ondelete="RESTRICT"), index=True)
    order_id: Mapped[str] = mapped_column(String(40), index=True)
    variant_id: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity"),)


class PriceChange(Base):
    """Every regular price a variant had in a region, from when (append-only)."""

    __tablename__ = "price_history"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    variant_id: Mapped[str] = mapped_column(String(40))
    region_code: Mapped[str] = mapped_column(String(2))
    amount: Mapped[int | None]  # None: no longer sold in the region
    currency: Mapped[str] = mapped_column(String(3))
    effective_from: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(40), default="system")

    __table_args__ = (Index("ix_price_history_variant", "variant_id", "region_code", "effective_from"),)
