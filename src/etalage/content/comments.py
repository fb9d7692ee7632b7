"""Comments on published videos: one level of replies, sentiment per comment, reports, moderation.

Each video keeps a running count and sentiment sum of its visible comments (updated atomically), so the
feed reads the mean without scanning comments.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_scope
from etalage.content import moderation, sentiment, videos
from etalage.content.models import Comment, CommentReport, Video
from etalage.core import bus
from etalage.core.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from etalage.core.ratelimit import RateLimiter


def _adjust(session: Session, comment: Comment, sign: int) -> None:
    """Count a comment in (or out of) its video's aggregates, without a read-modify-write race."""
    session.execute(
        update(Video)
        .where(Video.id == comment.video_id)
        .values(
            comment_count=Video.comment_count + sign,
            sentiment_sum=Video.sentiment_sum + sign * comment.sentiment,
        )
    )
    if comment.parent_id is not None:
        session.execute(
            update(Comment)
            .where(Comment.id == comment.parent_id)
            .values(reply_count=Comment.reply_count + sign)
        )


def create(
    session: Session,
    principal: Principal,
    video_id: str,
    *,
    text: str,
    parent_id: str | None,
    limiter: RateLimiter,
) -> Comment:
    require_scope(principal, "shop")
    video = videos.load(session, video_id, principal)
    if video.state != "published":
        raise Conflict("Comments open once the video is published.")
    for key, limit, window in (
        (f"content:comment:{principal.user_id}", 10, 60),
        (f"content:comment-day:{principal.user_id}", 300, 86400),
    ):
        decision = limiter.hit(key, limit, window)
        if not decision.allowed:
            raise RateLimited("You are commenting too fast; wait a moment.", retry_after=decision.retry_after)
    text = moderation.clean_text(text)
    if not text:
        raise InvalidInput(
            "The comment is empty.", errors=[{"loc": "text", "message": "empty", "type": "empty"}]
        )
    if moderation.blocked_hit(text):
        raise InvalidInput(
            "The comment contains words that are not allowed here.",
            reason="blocked-word",
            errors=[{"loc": "text", "message": "contains a blocked word", "type": "blocked_word"}],
        )
    if parent_id is not None:
        parent = session.get(Comment, parent_id)
        if parent is None or parent.video_id != video_id or parent.state != "visible":
            raise InvalidInput(f"No comment {parent_id} on this video to reply to.")
        if parent.parent_id is not None:
            parent_id = parent.parent_id  # replies stay one level deep: a reply to a reply joins its thread
    scored = sentiment.score(text, video.language)
    comment = Comment(
        video_id=video_id,
        user_id=principal.user_id,
        parent_id=parent_id,
        text=text,
        language=scored.language,
        sentiment=scored.score,
    )
    session.add(comment)
    session.flush()
    _adjust(session, comment, +1)
    bus.publish(
        session,
        "content.comment.created",
        {
            "comment_id": comment.id,
            "video_id": video_id,
            "language": scored.language,
            "sentiment": scored.score,
        },
    )
    return comment


def list_stmt(session: Session, principal: Principal | None, video_id: str, parent_id: str | None) -> Any:
    videos.load(session, video_id, principal)
    stmt = select(Comment).where(Comment.video_id == video_id, Comment.state == "visible")
    return (
        stmt.where(Comment.parent_id == parent_id) if parent_id else stmt.where(Comment.parent_id.is_(None))
    )


def _visible_comment(session: Session, principal: Principal | None, comment_id: str) -> Comment:
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(f"No comment {comment_id}.")
    video = session.get(Video, comment.video_id)
    if video is None or not videos.can_see(principal, video):
        raise NotFound(f"No comment {comment_id}.")
    if comment.state != "visible" and not videos.is_moderator(principal):
        raise NotFound(f"No comment {comment_id}.")
    return comment


def delete_own(session: Session, principal: Principal, comment_id: str) -> None:
    comment = _visible_comment(session, principal, comment_id)
    if comment.user_id != principal.user_id:
        raise Forbidden("Only its author may delete a comment; report it instead.")
    if comment.state == "visible":
        comment.state = "deleted"
        _adjust(session, comment, -1)


def report(
    session: Session, principal: Principal, comment_id: str, reason: str, limiter: RateLimiter
) -> Comment:
    require_scope(principal, "shop")
    comment = _visible_comment(session, principal, comment_id)
    decision = limiter.hit(f"content:report:{principal.user_id}", 30, 3600)
    if not decision.allowed:
        raise RateLimited("Too many reports in the last hour.", retry_after=decision.retry_after)
    if session.get(CommentReport, (comment_id, principal.user_id)) is not None:
        return comment  # reporting twice changes nothing
    try:
        with session.begin_nested():
            session.add(CommentReport(comment_id=comment_id, user_id=principal.user_id, reason=reason))
            session.flush()
    except IntegrityError:
        return comment  # a concurrent duplicate
    session.execute(
        update(Comment).where(Comment.id == comment_id).values(report_count=Comment.report_count + 1)
    )
    return comment


def moderate(session: Session, principal: Principal, comment_id: str, action: str, reason: str) -> Comment:
    """Moderators, and the video's own creator or merchant, may remove and restore comments."""
    comment = session.get(Comment, comment_id)
    video = session.get(Video, comment.video_id) if comment is not None else None
    if comment is None or video is None or not videos.can_see(principal, video) or comment.state == "deleted":
        raise NotFound(f"No comment {comment_id}.")
    if videos.is_moderator(principal):
        role = "moderator"
    elif videos.is_owner(principal, video) and principal.has_scope("content:write"):
        role = "owner"
    else:
        raise (
            NotFound(f"No comment {comment_id}.")
            if comment.state != "visible"
            else Forbidden("Only moderators and the video's owner moderate comments.")
        )
    target = {"remove": "removed", "restore": "visible"}[action]
    if comment.state == target:
        return comment
    comment.state = target
    _adjust(session, comment, -1 if target == "removed" else +1)
    moderation.record(
        session,
        subject_kind="comment",
        subject_id=comment.id,
        action=action,
        actor_id=principal.user_id,
        actor_role=role,
        reason=reason,
        details={"video_id": video.id},
    )
    return comment


def reported_stmt(principal: Principal) -> Any:
    require_scope(principal, "moderation")
    return select(Comment).where(Comment.report_count > 0, Comment.state == "visible")
