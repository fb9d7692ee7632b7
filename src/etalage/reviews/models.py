"""Review tables: reviews (one per order line), their photos, reports, and every moderation change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from etalage.db import Base, IdColumn, utcnow


class Review(Base):
    """A buyer's rating of one product they received, tied to the order line that proves the purchase."""

    __tablename__ = "reviews"

    id: Mapped[str] = IdColumn("rev")
    product_id: Mapped[str] = mapped_column(String(40))
    variant_id: Mapped[str] = mapped_column(String(40))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    order_id: Mapped[str] = mapped_column(String(40))
    order_line_id: Mapped[int] = mapped_column(unique=True)  # one review per order line
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(100))
    rating: Mapped[int]
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="published")  # published | removed
    reply_text: Mapped[str | None] = mapped_column(Text)
    reply_by: Mapped[str | None] = mapped_column(String(40))
    replied_at: Mapped[datetime | None]
    reports: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("rating >= 1 AND rating <= 5", name="rating"),
        CheckConstraint("status IN ('published', 'removed')", name="status"),
        Index("ix_reviews_product", "product_id", "status", "id"),
        Index("ix_reviews_merchant", "merchant_id", "id"),
    )


class ReviewPhoto(Base):
    __tablename__ = "review_photos"

    id: Mapped[str] = IdColumn("rph")
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(300))  # relative to the media folder
    width: Mapped[int]
    height: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewReport(Base):
    """Someone thinks a review breaks the rules; moderators see reported reviews first."""

    __tablename__ = "review_reports"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    reporter_id: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("review_id", "reporter_id"),)


class ReviewEvent(Base):
    """Every change of a review's status or reply: what, who, why, when. Append-only."""

    __tablename__ = "review_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # written | replied | reported | removed | restored
    actor: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
