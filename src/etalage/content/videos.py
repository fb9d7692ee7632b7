"""Videos: created from a finished upload, transcoded, published, moderated. Every state change is recorded.

States: processing -> ready -> published; ready/published -> rejected|removed (moderators; owners may
remove their own); rejected/removed -> published (a moderator restores it, e.g. after an appeal);
processing -> failed (the transcoder could not read it, with the reason).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_scope
from etalage.config import get_settings
from etalage.content import media, products, storage
from etalage.content.models import Upload, Video, VideoEvent, VideoProduct
from etalage.content.schemas import ProductTag, VideoMeta
from etalage.core import bus, jobs
from etalage.core.errors import Conflict, Forbidden, NotFound, RateLimited, ServiceUnavailable
from etalage.core.ratelimit import RateLimiter
from etalage.db import Database, new_id, utcnow

TRANSCODE_JOB = "content.transcode"
TRANSCODE_ATTEMPTS = 4
_HASHTAG = re.compile(r"#(\w{1,50})", re.UNICODE)

# from-state -> to-state -> who may make the move
TRANSITIONS: dict[str, dict[str, set[str]]] = {
    "processing": {"ready": {"system"}, "failed": {"system"}, "removed": {"owner", "moderator"}},
    "ready": {"published": {"owner", "system"}, "rejected": {"moderator"}, "removed": {"owner", "moderator"}},
    "published": {"rejected": {"moderator"}, "removed": {"owner", "moderator"}},
    "rejected": {"published": {"moderator"}},
    "removed": {"published": {"moderator"}},
    "failed": {"removed": {"owner", "moderator"}},
}


# --- who may see and change a video -----------------------------------------------------------------------


def is_owner(principal: Principal | None, video: Video) -> bool:
    if principal is None:
        return False
    if principal.bound_merchant_id is not None:
        return video.merchant_id == principal.bound_merchant_id and video.merchant_id in principal.memberships
    if video.uploader_id == principal.user_id or video.creator_id == principal.user_id:
        return True
    return video.merchant_id is not None and video.merchant_id in principal.memberships


def is_moderator(principal: Principal | None) -> bool:
    return principal is not None and principal.has_scope("moderation")


def can_see(principal: Principal | None, video: Video) -> bool:
    return video.state == "published" or is_owner(principal, video) or is_moderator(principal)


def load(session: Session, video_id: str, principal: Principal | None, *, lock: bool = False) -> Video:
    """The video if this caller may see it; 404 otherwise (so ids reveal nothing)."""
    stmt = select(Video).where(Video.id == video_id)
    if lock and session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    video = session.scalar(stmt)
    if video is None or not can_see(principal, video):
        raise NotFound(f"No video {video_id}.")
    return video


def load_owned(session: Session, video_id: str, principal: Principal) -> Video:
    require_scope(principal, "content:write")
    video = load(session, video_id, principal, lock=True)
    if not is_owner(principal, video):
        raise (
            NotFound(f"No video {video_id}.")
            if video.state != "published"
            else Forbidden("Only the video's creator or merchant may change it.")
        )
    return video


_vp = VideoProduct.__table__
_TAGS_OF = select(_vp).where(_vp.c.video_id.in_(bindparam("ids", expanding=True))).order_by(_vp.c.position)


def product_tags(session: Session, video_ids: list[str]) -> dict[str, list[Any]]:
    """Each video's product tags in order, as read-only rows with the model's attribute names (a prebuilt
    Core read: the feed loads the cards of every page's uncached videos through it)."""
    out: dict[str, list[Any]] = {vid: [] for vid in video_ids}
    if not video_ids:
        return out
    for tag in session.connection().execute(_TAGS_OF, {"ids": list(video_ids)}):
        out[tag.video_id].append(tag)
    return out


# --- creating ---------------------------------------------------------------------------------------------


def hashtags_of(caption: str, explicit: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for tag in [*explicit, *_HASHTAG.findall(caption)]:
        clean = tag.strip().lstrip("#").lower()
        if clean and re.fullmatch(r"\w{1,50}", clean):
            seen.setdefault(clean, None)
    return list(seen)[:30]


def _check_poster_for(principal: Principal, merchant_id: str | None) -> str | None:
    """Who the video is by: a merchant's member posts for it; otherwise the caller must be a creator.
    Returns the creator id (None for merchant videos)."""
    require_scope(principal, "content:write")
    if merchant_id is not None:
        if principal.bound_merchant_id not in (None, merchant_id) or (
            merchant_id not in principal.memberships and not principal.is_admin
        ):
            raise NotFound(f"No merchant {merchant_id} is reachable with this credential.")
        return None
    if principal.bound_merchant_id is not None:
        raise Forbidden("A merchant-bound token posts for its merchant: give merchant_id.")
    if "creator" not in principal.roles and not principal.is_admin:
        raise Forbidden(
            "Only creators post their own videos; merchant staff post for their merchant (merchant_id)."
        )
    return principal.user_id


def _set_tags(session: Session, video: Video, tags: list[ProductTag]) -> None:
    products.check_featurable(session, [t.product_id for t in tags], merchant_id=video.merchant_id)
    for tag in tags:
        if (
            tag.starts_at_ms is not None
            and video.duration_ms is not None
            and tag.starts_at_ms >= video.duration_ms
        ):
            raise Conflict(
                f"Product {tag.product_id} is featured from {tag.starts_at_ms} ms, after the video ends."
            )
    session.execute(VideoProduct.__table__.delete().where(VideoProduct.video_id == video.id))
    for i, tag in enumerate(tags):
        session.add(
            VideoProduct(
                video_id=video.id, product_id=tag.product_id, starts_at_ms=tag.starts_at_ms, position=i
            )
        )


def claim_upload(session: Session, principal: Principal, upload_id: str) -> Upload:
    upload = session.get(Upload, upload_id)
    if upload is None or upload.user_id != principal.user_id:
        raise NotFound(f"No upload {upload_id}.")
    if upload.state == "consumed":
        raise Conflict(
            f"Upload {upload_id} already became video {upload.video_id}.", video_id=upload.video_id
        )
    if upload.state != "complete":
        raise Conflict(
            f"Upload {upload_id} is {upload.state}: {upload.offset} of {upload.size} bytes have arrived.",
            offset=upload.offset,
        )
    return upload


def create_from_upload(
    db: Database, principal: Principal, meta: VideoMeta, upload_id: str, limiter: RateLimiter
) -> str:
    """Sniff the upload with ffprobe (outside any transaction), then create the video and its transcode job.

    A file that is not a video we accept is answered 422 with the reason, and its upload is closed."""
    creator_id = _check_poster_for(principal, meta.merchant_id)
    if not media.ffmpeg_available():
        raise ServiceUnavailable(
            "Video processing is not available on this server (ffmpeg is not installed)."
        )
    decision = limiter.hit(f"content:videos:{principal.user_id}", 60, 3600)
    if not decision.allowed:
        raise RateLimited("Too many videos in the last hour.", retry_after=decision.retry_after)
    with db.read() as s:  # the cheap checks first, so a wrong tag never costs a probe
        upload = claim_upload(s, principal, upload_id)
        path = storage.absolute(storage.original_relpath(upload.id))
        products.check_featurable(s, [t.product_id for t in meta.products], merchant_id=meta.merchant_id)
    settings = get_settings()
    try:
        found = media.probe(
            path, min_seconds=settings.video_min_seconds, max_seconds=settings.video_max_seconds
        )
    except media.MediaRejected:
        with db.session() as s:
            s.execute(
                update(Upload)
                .where(Upload.id == upload_id, Upload.state == "complete")
                .values(state="rejected")
            )
        path.unlink(missing_ok=True)
        raise
    with db.session() as s:
        video = Video(
            id=new_id("vid"),
            uploader_id=principal.user_id,
            creator_id=creator_id,
            merchant_id=meta.merchant_id,
            caption=meta.caption,
            hashtags=hashtags_of(meta.caption, meta.hashtags),
            language=meta.language,
            region=meta.region,
            publish_when_ready=meta.publish,
            source=found.summary(),
            source_path=storage.original_relpath(upload_id),
            duration_ms=round(found.duration * 1000),
            width=found.width,
            height=found.height,
            media_version=secrets.token_hex(6),
        )
        claimed = s.execute(
            update(Upload)
            .where(Upload.id == upload_id, Upload.state == "complete")
            .values(state="consumed", video_id=video.id, updated_at=utcnow())
        )
        if claimed.rowcount != 1:  # a concurrent request made the video first
            raise Conflict(f"Upload {upload_id} already became a video.")
        s.add(video)
        s.flush()
        _set_tags(s, video, meta.products)
        record(s, video, None, "processing", None, "system", "uploaded")
        enqueue_transcode(s, video)
        return video.id


def enqueue_transcode(session: Session, video: Video) -> None:
    jobs.enqueue(
        session,
        TRANSCODE_JOB,
        {"video_id": video.id, "version": video.media_version},
        dedupe_key=f"{TRANSCODE_JOB}:{video.id}:{video.media_version}",
        max_attempts=TRANSCODE_ATTEMPTS,
    )


# --- state changes ----------------------------------------------------------------------------------------


def record(
    session: Session,
    video: Video,
    from_state: str | None,
    to_state: str,
    actor_id: str | None,
    role: str,
    reason: str | None,
) -> None:
    session.add(
        VideoEvent(
            video_id=video.id,
            from_state=from_state,
            to_state=to_state,
            actor_id=actor_id,
            actor_role=role,
            reason=reason,
        )
    )


def transition(
    session: Session, video: Video, to_state: str, *, actor_id: str | None, role: str, reason: str | None
) -> None:
    allowed = TRANSITIONS.get(video.state, {}).get(to_state, set())
    if role not in allowed and not (role == "admin" and allowed & {"moderator", "owner"}):
        raise Conflict(f"A {video.state} video cannot become {to_state} this way.", state=video.state)
    if to_state == "published" and not video.renditions:
        raise Conflict("This video has no playable renditions.")
    before = video.state
    now = utcnow()
    video.state, video.updated_at = to_state, now
    video.state_reason = reason if to_state in ("rejected", "removed", "failed") else None
    if to_state == "published":
        video.published_at = video.published_at or now
    record(session, video, before, to_state, actor_id, role, reason)
    if to_state == "published":
        bus.publish(session, "content.video.published", published_payload(session, video))
    elif before == "published" or (to_state in ("rejected", "removed") and before == "ready"):
        # The feed and caches drop it at once, in every process (through Redis when configured).
        bus.publish(
            session, "content.video.removed", {"video_id": video.id, "state": to_state, "reason": reason}
        )


def published_payload(session: Session, video: Video) -> dict[str, Any]:
    tags = product_tags(session, [video.id])[video.id]
    return {
        "video_id": video.id,
        "creator_id": video.creator_id,
        "merchant_id": video.merchant_id,
        "product_ids": [t.product_id for t in tags],
        "language": video.language,
        "region": video.region,
        "hashtags": list(video.hashtags),
        "published_at": (video.published_at or utcnow()).isoformat(),
    }


def publish(session: Session, principal: Principal, video_id: str) -> Video:
    video = load_owned(session, video_id, principal)
    if video.state == "published":
        return video
    transition(session, video, "published", actor_id=principal.user_id, role="owner", reason=None)
    return video


def remove_own(session: Session, principal: Principal, video_id: str) -> Video:
    video = load_owned(session, video_id, principal)
    if video.state != "removed":
        transition(
            session, video, "removed", actor_id=principal.user_id, role="owner", reason="deleted by its owner"
        )
    return video


def moderate(session: Session, principal: Principal, video_id: str, action: str, reason: str) -> Video:
    require_scope(principal, "moderation")
    video = load(session, video_id, principal, lock=True)
    to_state = {"reject": "rejected", "remove": "removed", "restore": "published"}[action]
    role = "admin" if principal.is_admin and "moderator" not in principal.roles else "moderator"
    transition(session, video, to_state, actor_id=principal.user_id, role=role, reason=reason)
    return video


def update_meta(session: Session, principal: Principal, video_id: str, changes: dict[str, Any]) -> Video:
    video = load_owned(session, video_id, principal)
    if video.state in ("removed", "rejected"):
        raise Conflict(f"A {video.state} video cannot be edited.")
    if "caption" in changes or "hashtags" in changes:
        caption = changes.get("caption", video.caption)
        explicit = changes.get("hashtags") if changes.get("hashtags") is not None else video.hashtags
        video.caption, video.hashtags = caption, hashtags_of(caption, explicit)
    for key in ("language", "region"):
        if changes.get(key) is not None:
            setattr(video, key, changes[key])
    video.updated_at = utcnow()
    return video


def set_products(session: Session, principal: Principal, video_id: str, tags: list[ProductTag]) -> Video:
    video = load_owned(session, video_id, principal)
    if video.state in ("removed", "rejected"):
        raise Conflict(f"A {video.state} video cannot be edited.")
    _set_tags(session, video, tags)
    video.updated_at = utcnow()
    return video


def history(session: Session, principal: Principal, video_id: str) -> list[VideoEvent]:
    video = load(session, video_id, principal)
    if not (is_owner(principal, video) or is_moderator(principal)):
        raise NotFound(f"No video {video_id}.")
    return list(
        session.scalars(select(VideoEvent).where(VideoEvent.video_id == video_id).order_by(VideoEvent.id))
    )


def mine(session: Session, principal: Principal, *, merchant_id: str | None = None) -> Any:
    """A statement for the caller's own videos (any state), or a merchant's, for cursor pagination."""
    stmt = select(Video)
    if merchant_id is not None:
        _check_poster_for(principal, merchant_id)
        return stmt.where(Video.merchant_id == merchant_id)
    return stmt.where((Video.uploader_id == principal.user_id) | (Video.creator_id == principal.user_id))
