"""Creator studio: your videos and their processing status, uploading (with a progress bar), product tags,
live rooms, and per-video figures."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

from etalage.core.errors import Problem
from etalage.core.pagination import PageParams, paginate
from etalage.core.routing import api_router
from etalage.web import sources
from etalage.web.i18n import N_
from etalage.web.pages import CreatorPage, Form, PageCtx, PageRoute, redirect, render

router = api_router(route_class=PageRoute, include_in_schema=False)

STATE_LABELS = {
    "processing": N_("Processing"),
    "ready": N_("Ready (not published)"),
    "published": N_("Published"),
    "rejected": N_("Rejected"),
    "removed": N_("Removed"),
    "failed": N_("Failed"),
}
SECTIONS = [
    ("videos", "/studio", N_("Videos"), "box"),
    ("upload", "/studio/upload", N_("Upload"), "upload"),
    ("earnings", "/studio/earnings", N_("Earnings"), "chart"),
    ("live", "/studio/live", N_("Live"), "live"),
    ("decisions", "/me/decisions", N_("Moderation decisions"), "flag"),
]
LANGUAGES = [
    ("en", "English"),
    ("nl", "Nederlands"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("es", "Español"),
]


def studio(section: str, **extra: Any) -> dict[str, Any]:
    return {"area": "studio", "section": section, "sections": SECTIONS, "state_labels": STATE_LABELS, **extra}


def video_row(video: Any) -> dict[str, Any]:
    from etalage.content import service as content

    return {
        "id": video.id,
        "caption": video.caption,
        "state": video.state,
        "progress": video.progress,
        "reason": video.state_reason,
        "poster": content.poster_url(video),
        "created_at": video.created_at,
        "published_at": video.published_at,
        "comments": video.comment_count,
    }


@router.get("/studio")
def videos_page(ctx: CreatorPage, cursor: str | None = None) -> Response:
    from etalage.content import videos
    from etalage.content.models import Video

    rows, next_cursor = paginate(
        ctx.db,
        videos.mine(ctx.db, ctx.principal),
        Video.id,
        PageParams(cursor=cursor, limit=30),  # type: ignore[arg-type]
    )
    from etalage.web import studio_stats

    figures = studio_stats.video_figures(ctx.db, ctx.principal.user_id, [v.id for v in rows], ctx.lang)  # type: ignore[union-attr]
    return render(ctx, "studio/videos.html", **studio("videos", videos=[video_row(v) for v in rows],
                                                      figures=figures, next_cursor=next_cursor))  # fmt: skip


@router.get("/studio/earnings")
def earnings_page(ctx: CreatorPage) -> Response:
    from etalage.web import studio_stats

    return render(
        ctx,
        "studio/earnings.html",
        **studio("earnings", **studio_stats.earnings(ctx.db, ctx.principal, ctx.lang)),
    )


@router.get("/studio/upload")
def upload_page(ctx: CreatorPage) -> Response:
    from etalage.accounts.authz import merchant_ids

    return render(
        ctx,
        "studio/upload.html",
        **studio(
            "upload",
            languages=LANGUAGES,
            shops=_shops(ctx, merchant_ids(ctx.principal)),  # type: ignore[arg-type]
            region=sources.region_of(ctx),
        ),
    )


def _shops(ctx: PageCtx, ids: list[str]) -> list[tuple[str, str]]:
    from etalage.accounts import service as accounts

    names = accounts.organisation_names(ctx.db, ids)
    return sorted(names.items(), key=lambda item: item[1])


@router.get("/studio/videos/{video_id}")
def video_page(ctx: CreatorPage, video_id: str) -> Response:
    from etalage.content import videos

    video = videos.load_owned(ctx.db, video_id, ctx.principal)  # type: ignore[arg-type]
    tags = videos.product_tags(ctx.db, [video.id])[video.id]
    history = videos.history(ctx.db, ctx.principal, video_id)  # type: ignore[arg-type]
    return render(
        ctx,
        "studio/video.html",
        **studio(
            "videos",
            video=video_row(video),
            tags=[t.product_id for t in tags],
            history=list(reversed(history)),
            stats=video_stats(ctx, video_id),
            state_labels_translated={k: ctx.gettext(v) for k, v in STATE_LABELS.items()},
        ),
    )


def video_stats(ctx: PageCtx, video_id: str) -> dict[str, Any] | None:
    """Views, completion, orders, sales and commission (pending / payable / paid) of one of your videos."""
    from etalage.web import studio_stats

    return studio_stats.video_stats(ctx.db, ctx.principal.user_id, video_id, ctx.lang)  # type: ignore[union-attr]


@router.post("/studio/videos/{video_id}/publish")
def publish_video(ctx: CreatorPage, video_id: str, form: Form) -> Response:
    from etalage.content import videos

    videos.publish(ctx.db, ctx.principal, video_id)  # type: ignore[arg-type]
    return redirect(ctx, f"/studio/videos/{video_id}")


@router.post("/studio/videos/{video_id}/delete")
def delete_video(ctx: CreatorPage, video_id: str, form: Form) -> Response:
    from etalage.content import videos

    videos.remove_own(ctx.db, ctx.principal, video_id)  # type: ignore[arg-type]
    return redirect(ctx, "/studio")


@router.get("/studio/live")
def live_page(ctx: CreatorPage, error: str | None = None) -> Response:
    from sqlalchemy import select

    from etalage.content.models import LiveRoom, Video

    user_id = ctx.principal.user_id  # type: ignore[union-attr]
    rooms = list(
        ctx.db.scalars(
            select(LiveRoom).where(LiveRoom.host_user_id == user_id).order_by(LiveRoom.id.desc()).limit(20)
        )
    )
    clips = list(
        ctx.db.scalars(
            select(Video)
            .where(
                (Video.uploader_id == user_id) | (Video.creator_id == user_id),
                Video.state.in_(("ready", "published")),
            )
            .order_by(Video.id.desc())
            .limit(50)
        )
    )
    return render(ctx, "studio/live.html", **studio("live", rooms=rooms, clips=clips, error=error))


@router.post("/studio/live")
def open_room(ctx: CreatorPage, form: Form) -> Response:
    from etalage.content import live
    from etalage.content.schemas import RoomCreate

    try:
        body = RoomCreate.model_validate(
            {
                "title": str(form.get("title", ""))[:200],
                "source": {"kind": "clip", "video_id": str(form.get("video_id", "")) or None},
                "language": ctx.lang,
                "start_now": True,
            }
        )
        room = live.create(ctx.db, ctx.principal, body)  # type: ignore[arg-type]
    except (ValidationError, Problem):
        return redirect(ctx, "/studio/live?error=1")
    return redirect(ctx, f"/live/{room.id}")


@router.post("/studio/live/{room_id}/end")
def end_room(ctx: CreatorPage, room_id: str, form: Form) -> Response:
    from etalage.content import live

    live.end(ctx.db, ctx.principal, room_id)  # type: ignore[arg-type]
    return redirect(ctx, "/studio/live")
