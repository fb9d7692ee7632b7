"""Tables of the events domain in the main database: consumer positions and what consumers derive.

The log itself is not here (it is a SQLite file of its own, or a JetStream stream). A consumer's position
lives next to the state it derives, committed in the same transaction, so a crash never applies an event
twice or skips one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from etalage.db import Base, utcnow


class ConsumerOffset(Base):
    __tablename__ = "event_consumer_offsets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)  # the last offset whose effects are committed
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ItemEngagement(Base):
    """Interaction counts per video, live room, product or creator (the engagement consumer's state)."""

    __tablename__ = "item_engagement"

    item_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # video | live_room | product | creator
    impressions: Mapped[int] = mapped_column(default=0)
    views: Mapped[int] = mapped_column(default=0)
    completions: Mapped[int] = mapped_column(default=0)  # view_end with watch_ratio >= 0.9
    watch_ms: Mapped[int] = mapped_column(default=0)
    likes: Mapped[int] = mapped_column(default=0)  # net of undos
    shares: Mapped[int] = mapped_column(default=0)
    comments: Mapped[int] = mapped_column(default=0)
    follows: Mapped[int] = mapped_column(default=0)  # net of undos, on creators
    clicks: Mapped[int] = mapped_column(default=0)
    add_to_carts: Mapped[int] = mapped_column(default=0)
    purchases: Mapped[int] = mapped_column(default=0)
    units_sold: Mapped[int] = mapped_column(default=0)
    skips: Mapped[int] = mapped_column(default=0)
    not_interested: Mapped[int] = mapped_column(default=0)
    reports: Mapped[int] = mapped_column(default=0)
    # The newest event applied to this row: replaying older events finds them already counted.
    last_offset: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
