"""Comment routes: write, list (cursor-paginated), delete your own, report, moderate."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, status
from sqlalchemy.orm import Session

from etalage.accounts import service as accounts
from etalage.accounts.deps import CurrentPrincipal, Moderator, OptionalPrincipal, Shopper
from etalage.content import comments
from etalage.content.models import Comment
from etalage.content.schemas import CommentCreate, CommentModeration, CommentOut, CommentReportIn
from etalage.core.deps import DbSession
from etalage.core.pagination import Page, PageParams, page_params, paginate
from etalage.core.routing import api_router

router = api_router(prefix="/api/v1", tags=["comments"])


def comments_out(session: Session, rows: list[Comment]) -> list[CommentOut]:
    names = accounts.display_names(session, list({c.user_id for c in rows}))
    return [
        CommentOut(
            id=c.id,
            video_id=c.video_id,
            user_id=c.user_id,
            author=names.get(c.user_id, ""),
            parent_id=c.parent_id,
            text=c.text,
            language=c.language,
            sentiment=c.sentiment,
            reply_count=c.reply_count,
            created_at=c.created_at,
        )
        for c in rows
    ]


@router.post("/videos/{video_id}/comments", status_code=status.HTTP_201_CREATED, response_model=CommentOut)
def write_comment(
    video_id: str, body: CommentCreate, request: Request, session: DbSession, principal: Shopper
) -> CommentOut:
    """Comment on a published video (``parent_id`` to reply). Scored for sentiment in [-1, 1]."""
    comment = comments.create(
        session,
        principal,
        video_id,
        text=body.text,
        parent_id=body.parent_id,
        limiter=request.app.state.limiter,
    )
    return comments_out(session, [comment])[0]


@router.get("/videos/{video_id}/comments", response_model=Page[CommentOut])
def list_comments(
    video_id: str,
    session: DbSession,
    principal: OptionalPrincipal,
    params: Annotated[PageParams, Depends(page_params)],
    parent_id: Annotated[
        str | None, Query(max_length=40, description="List the replies to this comment.")
    ] = None,
) -> Page[CommentOut]:
    """Newest first; top-level comments, or the replies to ``parent_id``."""
    rows, cursor = paginate(
        session, comments.list_stmt(session, principal, video_id, parent_id), Comment.id, params
    )
    return Page[CommentOut](items=comments_out(session, rows), next_cursor=cursor)


@router.delete("/comments/{comment_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_comment(comment_id: str, session: DbSession, principal: CurrentPrincipal) -> None:
    comments.delete_own(session, principal, comment_id)


@router.post("/comments/{comment_id}/reports", status_code=status.HTTP_202_ACCEPTED)
def report_comment(
    comment_id: str, body: CommentReportIn, request: Request, session: DbSession, principal: Shopper
) -> dict[str, str]:
    """Flag a comment for moderators (once per person; a second report changes nothing)."""
    comments.report(session, principal, comment_id, body.reason, request.app.state.limiter)
    return {"status": "received"}


@router.post("/comments/{comment_id}/moderation", response_model=dict[str, str], tags=["moderation"])
def moderate_comment(
    comment_id: str, body: CommentModeration, session: DbSession, principal: CurrentPrincipal
) -> dict[str, str]:
    """Remove or restore a comment (moderators, or the video's creator or merchant), with the reason."""
    comment = comments.moderate(session, principal, comment_id, body.action, body.reason)
    return {"id": comment.id, "state": comment.state}


@router.get("/moderation/comments", response_model=Page[CommentOut], tags=["moderation"])
def reported_comments(
    session: DbSession, principal: Moderator, params: Annotated[PageParams, Depends(page_params)]
) -> Page[CommentOut]:
    """Visible comments that someone reported, newest first."""
    rows, cursor = paginate(session, comments.reported_stmt(principal), Comment.id, params)
    return Page[CommentOut](items=comments_out(session, rows), next_cursor=cursor)
