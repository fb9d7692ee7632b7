"""What other domains ask of content. Plain reads, bulk where the feed needs bulk; no HTTP, no commit.

    get_video(session, video_id) -> VideoInfo            (any state; NotFound if absent)
    get_videos(session, ids) -> dict[id, VideoInfo]      (bulk, for the feed's hydration; absent ids left out)
    videos_exist(session, ids) -> set[str]               (ids that name a video, any state)
    comments_exist(session, ids) -> set[str]             (ids of comments that are visible)
    published_video_ids(session, since=None) -> list[str]  (oldest first; ``since``: published at/after)
    video_sentiment(session, ids | None) -> dict[id, (count, mean)]   (None: every commented video)
    live_deal_for(session, room_id, variant_id) -> LiveDealInfo | None
    reserve_live_deal(session, room_id, variant_id, quantity) -> LiveDealInfo | None
    room_exists(session, room_id) -> bool
    room_hosts(session, room_ids) -> dict[id, (host_user_id, merchant_id | None)]   (who earns from a room)
    video_owners(session, video_ids) -> dict[id, (creator_id | None, merchant_id | None)]   (one query)
    moderation_subject(session, kind, id) -> dict | None  (a comment, live chat message or live room as a
        moderator sees it, any state: author, text/title, state, where; for compliance's queue and decisions)
    export_user_content(session, user_id) -> dict        (GDPR export: videos, comments, chat, reports)
    erase_user_content(session, user_id) -> dict         (GDPR erasure: take down, blank, delete files)
    attribute_order_to_room(session, order_paid_payload) -> bool   (idempotent; commerce may call it in
        its own transaction; content also does it on the ``order.paid`` bus event)

Bus events published on commit: ``content.video.published`` {video_id, creator_id, merchant_id,
product_ids, language, region, hashtags, published_at}; ``content.video.removed`` {video_id, state,
reason}; ``content.comment.created`` {comment_id, video_id, language, sentiment};
``content.live.started`` / ``content.live.ended`` {room_id, merchant_id}.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from etalage.content import storage
from etalage.content.live_chat import attribute as attribute_order_to_room
from etalage.content.live_deals import LiveDealInfo, live_deal_for, release_live_deal, reserve_live_deal
from etalage.content.models import Comment, LiveMessage, LiveRoom, Video
from etalage.content.privacy import erase_user_content, export_user_content
from etalage.content.videos import product_tags
from etalage.core.errors import NotFound

__all__ = [
    "LiveDealInfo",
    "VideoInfo",
    "attribute_order_to_room",
    "comments_exist",
    "erase_user_content",
    "export_user_content",
    "get_video",
    "get_videos",
    "live_deal_for",
    "moderation_subject",
    "published_video_ids",
    "release_live_deal",
    "reserve_live_deal",
    "room_exists",
    "room_hosts",
    "video_sentiment",
    "video_owners",
    "videos_exist",
]


@dataclass(frozen=True)
class Rendition:
    name: str
    url: str
    width: int
    height: int
    bytes: int


@dataclass(frozen=True)
class VideoInfo:
    id: str
    state: str
    caption: str
    hashtags: tuple[str, ...]
    language: str
    region: str | None
    creator_id: str | None
    merchant_id: str | None
    product_ids: tuple[str, ...]
    product_starts_ms: tuple[int | None, ...]  # parallel to product_ids
    duration_ms: int | None
    width: int | None
    height: int | None
    renditions: tuple[Rendition, ...]
    poster_url: str | None
    comment_count: int
    mean_sentiment: float | None
    created_at: datetime
    published_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def renditions_of(video: Video) -> tuple[Rendition, ...]:
    if not video.media_version:
        return ()
    return tuple(
        Rendition(
            r["name"],
            storage.media_url(video.id, video.media_version, r["file"]),
            r["width"],
            r["height"],
            r["bytes"],
        )
        for r in video.renditions
    )


def poster_url(video: Video) -> str | None:
    if not video.poster or not video.media_version:
        return None
    return storage.media_url(video.id, video.media_version, video.poster["file"])


def mean_sentiment(video: Video) -> float | None:
    return round(video.sentiment_sum / video.comment_count, 4) if video.comment_count else None


def _info(video: Video, tags: list[Any]) -> VideoInfo:
    return VideoInfo(
        id=video.id,
        state=video.state,
        caption=video.caption,
        hashtags=tuple(video.hashtags),
        language=video.language,
        region=video.region,
        creator_id=video.creator_id,
        merchant_id=video.merchant_id,
        product_ids=tuple(t.product_id for t in tags),
        product_starts_ms=tuple(t.starts_at_ms for t in tags),
        duration_ms=video.duration_ms,
        width=video.width,
        height=video.height,
        renditions=renditions_of(video),
        poster_url=poster_url(video),
        comment_count=video.comment_count,
        mean_sentiment=mean_sentiment(video),
        created_at=video.created_at,
        published_at=video.published_at,
    )


def get_video(session: Session, video_id: str) -> VideoInfo:
    found = get_videos(session, [video_id])
    if video_id not in found:
        raise NotFound(f"No video {video_id}.")
    return found[video_id]


_vt = Video.__table__
# A prebuilt Core read (rows have the model's attribute names): the feed asks for the cards of every page's
# videos it has not cached, and the ORM's object loading was most of that page's database time.
_VIDEOS_BY_ID = select(_vt).where(_vt.c.id.in_(bindparam("ids", expanding=True)))


def get_videos(session: Session, ids: Iterable[str]) -> dict[str, VideoInfo]:
    wanted = list(dict.fromkeys(ids))
    out: dict[str, VideoInfo] = {}
    conn = session.connection()
    for start in range(0, len(wanted), 500):  # keeps IN lists within every backend's limits
        chunk = wanted[start : start + 500]
        rows = conn.execute(_VIDEOS_BY_ID, {"ids": chunk}).all()
        tags = product_tags(session, [v.id for v in rows])
        out.update({v.id: _info(v, tags[v.id]) for v in rows})
    return out


def videos_exist(session: Session, ids: Iterable[str]) -> set[str]:
    wanted = list(set(ids))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        found.update(session.scalars(select(Video.id).where(Video.id.in_(wanted[start : start + 500]))))
    return found


def comments_exist(session: Session, ids: Iterable[str]) -> set[str]:
    wanted = list(set(ids))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(
            session.scalars(select(Comment.id).where(Comment.id.in_(chunk), Comment.state == "visible"))
        )
    return found


def published_video_ids(session: Session, since: datetime | None = None) -> list[str]:
    stmt = select(Video.id).where(Video.state == "published")
    if since is not None:
        stmt = stmt.where(Video.published_at >= since)
    return list(session.scalars(stmt.order_by(Video.published_at, Video.id)))


def video_sentiment(
    session: Session, ids: Iterable[str] | None = None
) -> dict[str, tuple[int, float | None]]:
    """(comment count, mean sentiment) of ``ids``; ``None``: of every video with a comment, in one scan
    (the feed's quality refresh asks for all of them: 200 queries of 500 ids took 1.8 s at 100,000)."""
    stmt = select(Video.id, Video.comment_count, Video.sentiment_sum)
    stmt = stmt.where(Video.comment_count > 0) if ids is None else stmt.where(Video.id.in_(list(set(ids))))
    rows = session.execute(stmt)
    return {vid: (n, round(total / n, 4) if n else None) for vid, n, total in rows}


def room_exists(session: Session, room_id: str) -> bool:
    return session.get(LiveRoom, room_id) is not None


def video_owners(session: Session, video_ids: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
    """Each video's creator and the merchant it was posted for (None: the creator's own), any state."""
    wanted = list(set(video_ids))
    rows = session.execute(select(Video.id, Video.creator_id, Video.merchant_id).where(Video.id.in_(wanted)))
    return {vid: (creator, merchant) for vid, creator, merchant in rows}


def room_hosts(session: Session, room_ids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """Each room's host and the merchant it was opened for (None: the host's own room), any state."""
    wanted = list(set(room_ids))
    rows = session.execute(
        select(LiveRoom.id, LiveRoom.host_user_id, LiveRoom.merchant_id).where(LiveRoom.id.in_(wanted))
    )
    return {rid: (host, merchant) for rid, host, merchant in rows}


def moderation_subject(session: Session, kind: str, subject_id: str) -> dict[str, Any] | None:
    """A comment, live chat message or live room, any state, as a moderator sees it (None if unknown)."""
    if kind == "comment":
        c = session.get(Comment, subject_id)
        if c is None:
            return None
        video = session.get(Video, c.video_id)
        return {"id": c.id, "author_id": c.user_id, "text": c.text, "state": c.state, "video_id": c.video_id,
                "video_state": video.state if video else None, "merchant_id": video.merchant_id if video else None,
                "created_at": c.created_at}  # fmt: skip
    if kind == "live_message":
        m = session.get(LiveMessage, subject_id)
        if m is None or m.kind != "chat":
            return None
        room = session.get(LiveRoom, m.room_id)
        return {"id": m.id, "author_id": m.user_id, "text": m.text, "state": m.state, "room_id": m.room_id,
                "merchant_id": room.merchant_id if room else None, "created_at": m.created_at}  # fmt: skip
    if kind == "live_room":
        r = session.get(LiveRoom, subject_id)
        if r is None:
            return None
        return {"id": r.id, "author_id": r.host_user_id, "text": r.title, "state": r.state,
                "merchant_id": r.merchant_id, "created_at": r.created_at}  # fmt: skip
    return None
