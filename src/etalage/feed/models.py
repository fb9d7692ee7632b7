"""The feed's tables. Every row is keyed by the pseudonymous key (``Principal.pseudonym``) or by item ids:
no user id, e-mail, name, address or payment detail is ever stored here (``tests/feed/test_privacy.py``).

When accounts erases a person it deletes their pseudonym mapping, which leaves these rows unlinkable;
``service.forget(session, pseudonym)`` deletes them too (the compliance domain calls it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from etalage.db import Base, IdColumn, utcnow
from etalage.feed.served_format import ServedItems

PSEUDONYM = 64


class FeedServed(Base):
    """One served page, with everything needed to reconstruct the decision later (DSA Art. 27 / audits):
    the request's context, the history the ranker read, and per item its source, predictions, value
    breakdown, adjustments and final score. Kept ``ETALAGE_FEED_SERVED_RETENTION_DAYS``."""

    __tablename__ = "feed_served"

    id: Mapped[str] = IdColumn("srv")
    chain_id: Mapped[str] = mapped_column(String(40))  # the first page's id: a scroll session
    page: Mapped[int] = mapped_column(Integer, default=0)
    pseudonym: Mapped[str | None] = mapped_column(String(PSEUDONYM))  # None: an anonymous visitor
    mode: Mapped[str] = mapped_column(String(16))  # personalised | non_profiled
    mode_reason: Mapped[str] = mapped_column(String(32), default="requested")
    region: Mapped[str] = mapped_column(String(2))
    age_band: Mapped[str] = mapped_column(String(8), default="unknown")
    preset: Mapped[str] = mapped_column(String(16))
    params_version: Mapped[str] = mapped_column(String(16))
    model_version: Mapped[str | None] = mapped_column(String(64))
    history: Mapped[list[Any]] = mapped_column(default=list)  # [[item_id, weight, ts_ms], ...]
    items: Mapped[list[Any]] = mapped_column(ServedItems, default=list)  # stored columnar: served_format
    # heads' coefficients, outcome weights, candidates per source, what each filter removed
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    candidates: Mapped[int] = mapped_column(Integer, default=0)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    latency_ms: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_feed_served_chain", "chain_id", "page"),
        Index("ix_feed_served_pseudonym", "pseudonym", "created_at"),
        Index("ix_feed_served_created", "created_at"),
    )


class FeedSetting(Base):
    """A shopper's remembered choices: feed mode (personalised / non_profiled) and region."""

    __tablename__ = "feed_settings"

    pseudonym: Mapped[str] = mapped_column(String(PSEUDONYM), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16), default="personalised")
    region: Mapped[str | None] = mapped_column(String(2))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedFollow(Base):
    """Creators a pseudonym follows (from follow events; the feed's own derived state)."""

    __tablename__ = "feed_follows"

    pseudonym: Mapped[str] = mapped_column(String(PSEUDONYM), primary_key=True)
    creator_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedHidden(Base):
    """What a pseudonym marked "not interested" (a video, or its creator or product with a reason)."""

    __tablename__ = "feed_hidden"

    pseudonym: Mapped[str] = mapped_column(String(PSEUDONYM), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # video | live_room | creator | product
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedBought(Base):
    """Products a pseudonym bought, and when last (from purchase events): their videos are not shown again
    within ``bought_window_hours``, long after the purchase has left the latest interactions."""

    __tablename__ = "feed_bought"

    pseudonym: Mapped[str] = mapped_column(String(PSEUDONYM), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    bought_ms: Mapped[int] = mapped_column(BigInteger)  # epoch ms, like the events' ``ts``


class FeedHistory(Base):
    """A pseudonym's latest interactions (compact events, oldest first), kept by the feed's consumer, so a
    returning shopper whose events have left the in-memory tail still gets a personal feed."""

    __tablename__ = "feed_history"

    pseudonym: Mapped[str] = mapped_column(String(PSEUDONYM), primary_key=True)
    events: Mapped[list[Any]] = mapped_column(default=list)
    upto: Mapped[int] = mapped_column(BigInteger, default=0)  # the last log offset applied (replays skip)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedModelVersion(Base):
    """The model registry: every snapshot written, its evaluation, the event-log offset it covers, and
    whether a server accepted it (a corrupt or foreign one is marked refused, with the reason)."""

    __tablename__ = "feed_models"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16), default="ready")  # ready | refused | retired
    event_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    n_items: Mapped[int] = mapped_column(Integer, default=0)
    evaluation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_feed_models_status", "status", "created_at"),)
