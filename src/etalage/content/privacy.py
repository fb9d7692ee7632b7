"""A person's content, for data export (GDPR Art. 15/20) and erasure (Art. 17), asked by compliance.

Erasure takes a person's videos down (announced like any removal, so the feed drops them at once) and
deletes their files after commit, blanks their comments and chat messages (threads keep their shape:
"[deleted]"), blanks the titles of the rooms they hosted, and drops their mutes and reports. Moderation
records keep the ids of who acted (a legal obligation under the DSA), not what the erased person wrote.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from etalage.content import storage, videos
from etalage.content.comments import _adjust
from etalage.content.models import (
    Comment,
    CommentReport,
    LiveMessage,
    LiveMute,
    LiveRoom,
    ModerationAction,
    Upload,
    Video,
)
from etalage.db import on_commit


def export_user_content(session: Session, user_id: str) -> dict[str, Any]:
    """Everything content holds that this person wrote or uploaded, as plain JSON-ready data."""
    vids = session.scalars(
        select(Video).where((Video.uploader_id == user_id) | (Video.creator_id == user_id))
    )
    comments = session.scalars(select(Comment).where(Comment.user_id == user_id).order_by(Comment.id))
    chat = session.scalars(select(LiveMessage).where(LiveMessage.user_id == user_id).order_by(LiveMessage.id))
    reports = session.scalars(select(CommentReport).where(CommentReport.user_id == user_id))
    return {
        "videos": [
            {
                "id": v.id,
                "caption": v.caption,
                "hashtags": v.hashtags,
                "language": v.language,
                "region": v.region,
                "state": v.state,
                "merchant_id": v.merchant_id,
                "created_at": v.created_at.isoformat(),
                "published_at": v.published_at.isoformat() if v.published_at else None,
                "files": [storage.media_url(v.id, v.media_version, r["file"]) for r in v.renditions]
                if v.media_version
                else [],
            }
            for v in vids
        ],  # fmt: skip
        "comments": [
            {
                "id": c.id,
                "video_id": c.video_id,
                "parent_id": c.parent_id,
                "text": c.text,
                "state": c.state,
                "created_at": c.created_at.isoformat(),
            }
            for c in comments
        ],  # fmt: skip
        "live_chat": [
            {
                "id": m.id,
                "room_id": m.room_id,
                "text": m.text,
                "state": m.state,
                "created_at": m.created_at.isoformat(),
            }
            for m in chat
        ],
        "comment_reports": [
            {"comment_id": r.comment_id, "reason": r.reason, "created_at": r.created_at.isoformat()}
            for r in reports
        ],
    }


def erase_user_content(session: Session, user_id: str) -> dict[str, int]:
    """Take down and forget a person's content; returns how many of each were erased."""
    own = list(
        session.scalars(select(Video).where((Video.uploader_id == user_id) | (Video.creator_id == user_id)))
    )
    folders = []
    for video in own:
        if "removed" in videos.TRANSITIONS.get(video.state, {}):  # erasure is the owner's own request
            videos.transition(
                session, video, "removed", actor_id=user_id, role="owner", reason="account erased"
            )
        video.caption, video.hashtags = "", []
        if video.media_version and not (video.renditions and video.renditions[0]["path"].startswith("demo/")):
            folders.append(storage.absolute(f"videos/{video.id}"))
        if video.source_path:
            folders.append(storage.absolute(video.source_path))
        video.renditions, video.poster, video.source_path = [], None, None
    comments = list(
        session.scalars(select(Comment).where(Comment.user_id == user_id, Comment.state != "deleted"))
    )
    for comment in comments:
        if comment.state == "visible":
            _adjust(session, comment, -1)
        comment.state, comment.text = "deleted", "[deleted]"
    message_ids = list(session.scalars(select(LiveMessage.id).where(LiveMessage.user_id == user_id)))
    chat = session.execute(
        update(LiveMessage).where(LiveMessage.user_id == user_id).values(text="[deleted]", state="removed")
    ).rowcount
    # a removal's record keeps who acted and why, not the words of the person now erased
    for action in session.scalars(
        select(ModerationAction).where(
            ModerationAction.subject_kind == "live_message", ModerationAction.subject_id.in_(message_ids)
        )
    ):
        if "text" in action.details:
            action.details = {**action.details, "text": "[deleted]"}
    rooms = session.execute(
        update(LiveRoom).where(LiveRoom.host_user_id == user_id).values(title="[deleted]")
    ).rowcount
    session.execute(delete(LiveMute).where(LiveMute.user_id == user_id))
    session.execute(delete(CommentReport).where(CommentReport.user_id == user_id))
    uploads = list(session.scalars(select(Upload.id).where(Upload.user_id == user_id)))
    folders += [storage.absolute(storage.original_relpath(u)) for u in uploads]
    session.execute(
        update(Upload).where(Upload.user_id == user_id, Upload.state != "consumed").values(state="aborted")
    )

    def delete_files() -> None:
        from etalage.content.media import remove_tree

        for path in folders:
            remove_tree(path) if path.is_dir() else path.unlink(missing_ok=True)

    on_commit(session, delete_files)
    return {
        "videos": len(own),
        "comments": len(comments),
        "live_chat": chat,
        "live_rooms": rooms,
        "uploads": len(uploads),
    }
