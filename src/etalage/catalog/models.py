"""Catalog tables: categories, products, variants (SKUs), media, prices per region."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from etalage.db import Base, IdColumn, utcnow

PRODUCT_STATUSES = ("draft", "active", "archived", "blocked")  # blocked: by a moderation decision
VARIANT_STATUSES = ("active", "archived")


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[str] = IdColumn("cat")
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[str] = IdColumn("prd")
    merchant_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    brand: Mapped[str | None] = mapped_column(String(100))
    category_id: Mapped[str | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    tax_class: Mapped[str] = mapped_column(String(16), default="standard")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # PostgreSQL full-text vector, kept by catalog.search; SQLite uses an FTS5 table instead (unused here).
    search_vector: Mapped[str | None] = mapped_column(TSVECTOR().with_variant(Text(), "sqlite"))

    __table_args__ = (
        CheckConstraint(f"status IN {PRODUCT_STATUSES}", name="status"),
        CheckConstraint("tax_class IN ('standard', 'reduced', 'super_reduced', 'zero')", name="tax_class"),
        Index("ix_products_merchant", "merchant_id", "id"),
        Index("ix_products_status", "status", "id"),
        Index("ix_products_search_vector", "search_vector", postgresql_using="gin"),
    )


class Variant(Base):
    """A sellable SKU: one combination of a product's options."""

    __tablename__ = "product_variants"

    id: Mapped[str] = IdColumn("var")
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(64))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="active")
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("merchant_id", "sku"),
        CheckConstraint(f"status IN {VARIANT_STATUSES}", name="status"),
    )


class VariantPrice(Base):
    """The price of a variant in one region, in that region's currency (gross in VAT regions, net in the US)."""

    __tablename__ = "variant_prices"

    variant_id: Mapped[str] = mapped_column(
        ForeignKey("product_variants.id", ondelete="CASCADE"), primary_key=True
    )
    region_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("amount > 0 AND amount <= 100000000000", name="amount"),)


class ProductMedia(Base):
    __tablename__ = "product_media"

    id: Mapped[str] = IdColumn("med")
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(300))  # relative to the media folder
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int]
    height: Mapped[int]
    alt: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
