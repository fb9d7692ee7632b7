"""Content tables: uploads, videos and their state history, product tags, comments, live rooms.

Users and merchants are referenced by id (foreign keys to accounts' tables); products by id only, since
the catalog may live elsewhere and tags must survive a product being archived.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from etalage.db import ID_LENGTH, Base, IdColumn, utcnow

VIDEO_STATES = ("processing", "ready", "published", "rejected", "removed", "failed")


class Upload(Base):
    """A resumable upload: the client declares the size, then appends chunks at the current offset."""

    __tablename__ = "content_uploads"

    id: Mapped[str] = IdColumn("upl")
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    size: Mapped[int]
    offset: Mapped[int] = mapped_column(default=0)
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(
        String(16), default="uploading"
    )  # uploading|complete|consumed|aborted|expired
    # A lease held while one PATCH writes, so two concurrent appends can never interleave.
    busy_until: Mapped[datetime | None]
    video_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    __table_args__ = (Index("ix_content_uploads_user_state", "user_id", "state"),)


class Video(Base):
    __tablename__ = "videos"

    id: Mapped[str] = IdColumn("vid")
    uploader_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    creator_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    merchant_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    caption: Mapped[str] = mapped_column(String(2200), default="")
    hashtags: Mapped[list[str]] = mapped_column(default=list)
    language: Mapped[str] = mapped_column(String(8), default="en")
    region: Mapped[str | None] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(16), default="processing")
    state_reason: Mapped[str | None] = mapped_column(Text)
    publish_when_ready: Mapped[bool] = mapped_column(Boolean, default=True)
    # What ffprobe found in the original: container, codecs, size, bit rate.
    source: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source_path: Mapped[str | None] = mapped_column(String(500))  # relative to the media folder
    duration_ms: Mapped[int | None]
    width: Mapped[int | None]
    height: Mapped[int | None]
    # Each transcode writes under a new version, so a URL, once handed out, never changes content.
    media_version: Mapped[str | None] = mapped_column(String(32))
    renditions: Mapped[list[Any]] = mapped_column(
        default=list
    )  # [{name, path, width, height, bytes, sha256}]
    poster: Mapped[dict[str, Any] | None] = mapped_column()
    progress: Mapped[int] = mapped_column(default=0)
    transcode_attempts: Mapped[int] = mapped_column(default=0)
    transcode_seconds: Mapped[float | None] = mapped_column(Float)
    comment_count: Mapped[int] = mapped_column(default=0)
    sentiment_sum: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    ready_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_videos_state_published", "state", "published_at"),
        Index("ix_videos_creator", "creator_id"),
        Index("ix_videos_merchant", "merchant_id"),
        Index("ix_videos_uploader", "uploader_id"),
    )


class VideoEvent(Base):
    """Every state change of a video: from, to, who, why, when (the moderation record)."""

    __tablename__ = "video_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))  # None: the system (e.g. the transcoder)
    actor_role: Mapped[str] = mapped_column(String(16))  # system|owner|moderator|admin
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class VideoProduct(Base):
    """A product featured in a video, optionally from a moment in it."""

    __tablename__ = "video_products"

    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    starts_at_ms: Mapped[int | None]
    position: Mapped[int] = mapped_column(default=0)

    __table_args__ = (Index("ix_video_products_product", "product_id"),)


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[str] = IdColumn("cmt")
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(1000))
    language: Mapped[str] = mapped_column(String(8))
    sentiment: Mapped[float] = mapped_column(Float, default=0.0)
    state: Mapped[str] = mapped_column(String(16), default="visible")  # visible|removed|deleted
    report_count: Mapped[int] = mapped_column(default=0)
    reply_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_comments_video", "video_id", "id"),
        Index("ix_comments_parent", "parent_id"),
    )


class CommentReport(Base):
    __tablename__ = "comment_reports"

    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModerationAction(Base):
    """Who did what to which comment, chat message or chatter, when and why."""

    __tablename__ = "content_moderation_actions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    subject_kind: Mapped[str] = mapped_column(String(16))  # comment|live_message|live_user|live_room
    subject_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    room_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    action: Mapped[str] = mapped_column(String(24))  # remove|restore|mute|unmute|block_words|end
    actor_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    actor_role: Mapped[str] = mapped_column(String(16))  # owner|host|moderator|admin
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_content_moderation_subject", "subject_kind", "subject_id"),)


class LiveRoom(Base):
    __tablename__ = "live_rooms"

    id: Mapped[str] = IdColumn("lrm")
    host_user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    merchant_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(140))
    language: Mapped[str] = mapped_column(String(8), default="en")
    region: Mapped[str | None] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled|live|ended
    source_kind: Mapped[str] = mapped_column(String(8))  # clip|hls
    source_video_id: Mapped[str | None] = mapped_column(ForeignKey("videos.id", ondelete="SET NULL"))
    source_url: Mapped[str | None] = mapped_column(String(1000))
    blocked_words: Mapped[list[str]] = mapped_column(default=list)
    pinned_product_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    pinned_at: Mapped[datetime | None]
    like_count: Mapped[int] = mapped_column(default=0)
    peak_viewers: Mapped[int] = mapped_column(default=0)
    scheduled_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_live_rooms_state", "state", "id"),
        Index("ix_live_rooms_host", "host_user_id"),
    )


class LiveMessage(Base):
    """Chat and room notices, kept so a reconnecting viewer catches up (ids are time-ordered)."""

    __tablename__ = "live_messages"

    id: Mapped[str] = IdColumn("lmg")
    room_id: Mapped[str] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), default="chat")  # chat|purchase|notice
    text: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16), default="visible")  # visible|removed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_live_messages_room", "room_id", "id"),)


class LiveMute(Base):
    __tablename__ = "live_mutes"

    room_id: Mapped[str] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    until: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(ID_LENGTH))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LiveDeal(Base):
    """A live-only flash deal: a price for one variant, for a limited quantity, while the room is on air."""

    __tablename__ = "live_deals"

    id: Mapped[str] = IdColumn("ldl")
    room_id: Mapped[str] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"))
    product_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    variant_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    price_amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    quantity_cap: Mapped[int]
    quantity_claimed: Mapped[int] = mapped_column(default=0)
    starts_at: Mapped[datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_live_deals_room_variant", "room_id", "variant_id"),)


class LiveAttribution(Base):
    """An order paid from a live room (recorded once per order, from the ``order.paid`` event)."""

    __tablename__ = "live_attributions"

    order_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"), index=True)
    merchant_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    items: Mapped[list[Any]] = mapped_column(default=list)
    during_live: Mapped[bool] = mapped_column(Boolean, default=True)
    paid_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
