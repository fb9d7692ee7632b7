"""Moderation console: published videos and reported comments (decided through the compliance queue, with
a statement of reasons: routes_moderation_cases), and traders to verify (the merchants domain's decision)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from etalage.accounts import service as accounts
from etalage.core.errors import Conflict, InvalidInput
from etalage.core.pagination import PageParams, paginate
from etalage.core.routing import api_router
from etalage.web.i18n import N_
from etalage.web.pages import Form, ModeratorPage, PageRoute, redirect, render

router = api_router(route_class=PageRoute, include_in_schema=False)

QUEUES = [
    ("videos", "/moderation/videos", N_("Published videos"), "live"),
    ("comments", "/moderation/comments", N_("Reported comments"), "chat"),
    ("traders", "/moderation/traders", N_("Traders to verify"), "person"),
]
TRADER_DECISIONS = [
    ("verify", N_("Verify")),
    ("reject", N_("Reject")),
    ("suspend", N_("Suspend")),
    ("reinstate", N_("Reinstate")),
]
MIN_REASON = 3


def console(queue: str, **extra: Any) -> dict[str, Any]:
    return {"area": "moderation", "section": queue, "queues": QUEUES, **extra}


def _reason(form: Any) -> str:
    reason = " ".join(str(form.get("reason", "")).split())[:1000]
    if len(reason) < MIN_REASON:
        raise InvalidInput("Give a reason.")
    return reason


@router.get("/moderation")
def console_home(ctx: ModeratorPage) -> Response:
    return redirect(ctx, "/moderation/cases")


@router.get("/moderation/videos")
def videos_queue(ctx: ModeratorPage, cursor: str | None = None, done: str | None = None) -> Response:
    """Published videos, newest first, with the decision form (reported videos come from notices once the
    compliance domain exists)."""
    from sqlalchemy import select

    from etalage.content import service as content
    from etalage.content.models import Video

    rows, next_cursor = paginate(
        ctx.db, select(Video).where(Video.state == "published"), Video.id, PageParams(cursor=cursor, limit=20)
    )
    infos = content.get_videos(ctx.db, [v.id for v in rows])
    authors = accounts.display_names(ctx.db, [v.creator_id for v in rows if v.creator_id])
    items = [
        {"info": infos[v.id], "author": authors.get(v.creator_id or "", ""), "reports": None} for v in rows
    ]
    return render(
        ctx,
        "moderation/videos.html",
        **console("videos", items=items, next_cursor=next_cursor, done=done),
    )


@router.get("/moderation/comments")
def comments_queue(ctx: ModeratorPage, cursor: str | None = None, done: str | None = None) -> Response:
    from etalage.content import comments
    from etalage.content.models import Comment

    rows, next_cursor = paginate(
        ctx.db,
        comments.reported_stmt(ctx.principal),
        Comment.id,
        PageParams(cursor=cursor, limit=30),  # type: ignore[arg-type]
    )
    authors = accounts.display_names(ctx.db, [c.user_id for c in rows])
    return render(
        ctx,
        "moderation/comments.html",
        **console("comments", comments=rows, authors=authors, next_cursor=next_cursor, done=done),
    )


@router.get("/moderation/traders")
def traders_queue(
    ctx: ModeratorPage, status: str = "submitted", cursor: str | None = None, done: str | None = None
) -> Response:
    from etalage.merchants import service as merchants

    if status not in ("submitted", "verified", "rejected", "suspended"):
        status = "submitted"
    rows, next_cursor = merchants.review_queue(
        ctx.db,
        ctx.principal,
        status,
        PageParams(cursor=cursor, limit=30),  # type: ignore[arg-type]
    )
    return render(
        ctx,
        "moderation/traders.html",
        **console(
            "traders", rows=rows, shown=status, decisions=TRADER_DECISIONS, next_cursor=next_cursor, done=done
        ),
    )


@router.post("/moderation/traders/{merchant_id}")
def decide_trader(ctx: ModeratorPage, merchant_id: str, form: Form) -> Response:
    from etalage.merchants import service as merchants

    decision = str(form.get("decision", ""))
    if decision not in dict(TRADER_DECISIONS):
        raise InvalidInput("Choose a decision.")
    try:
        reason = _reason(form)
    except InvalidInput:
        return redirect(ctx, "/moderation/traders?done=noreason")
    try:
        merchants.decide(ctx.db, ctx.principal, merchant_id, decision, reason)  # type: ignore[arg-type]
    except Conflict:
        return redirect(ctx, "/moderation/traders?done=conflict")
    return redirect(ctx, f"/moderation/traders?done={decision}")
