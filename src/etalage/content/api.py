"""Video routes: resumable and one-request uploads, the video resource, moderation, and media serving."""

from __future__ import annotations

import json
import shutil
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request, status
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from etalage.accounts.authz import Principal, require_merchant
from etalage.accounts.deps import CurrentPrincipal, Moderator, OptionalPrincipal, scoped
from etalage.config import get_settings
from etalage.content import service, storage, uploads, videos
from etalage.content.api_comments import router as comments_router
from etalage.content.api_live import router as live_router
from etalage.content.api_live import shutdown_live, startup_live
from etalage.content.api_media import router as media_router
from etalage.content.api_uploads import release
from etalage.content.api_uploads import router as uploads_router
from etalage.content.models import Video
from etalage.content.schemas import (
    CommentStats,
    ProductTag,
    ProductTagsPut,
    RenditionOut,
    VideoCreate,
    VideoEventOut,
    VideoMeta,
    VideoModeration,
    VideoOut,
    VideoPatch,
)
from etalage.core.deps import DbSession
from etalage.core.errors import InvalidInput, UnsupportedMediaType, field_errors
from etalage.core.http import register_body_limit
from etalage.core.pagination import Page, PageParams, page_params, paginate
from etalage.core.routing import api_router

router = api_router(prefix="/api/v1", tags=["content"])
extra_routers = [uploads_router, comments_router, live_router, media_router]
ContentWriter = Annotated[Principal, Depends(scoped("content:write"))]
FORM_SLACK = 64 * 1024  # room for the form's other fields around the file


def startup(app: FastAPI) -> None:
    settings = app.state.settings
    register_body_limit("/api/v1/uploads/", settings.upload_chunk_bytes)
    register_body_limit("/api/v1/videos/upload", settings.upload_chunk_bytes + FORM_SLACK)
    startup_live(app)


def shutdown(app: FastAPI) -> None:
    shutdown_live(app)


# --- output -----------------------------------------------------------------------------------------------


def video_out(
    session: Session, video: Video, principal: Principal | None, tags: list[Any] | None = None
) -> VideoOut:
    if tags is None:
        tags = videos.product_tags(session, [video.id])[video.id]
    private = videos.is_owner(principal, video) or videos.is_moderator(principal)
    return VideoOut(
        id=video.id,
        state=video.state,
        state_reason=video.state_reason if private else None,
        progress=video.progress if private else None,
        caption=video.caption,
        hashtags=list(video.hashtags),
        language=video.language,
        region=video.region,
        creator_id=video.creator_id,
        merchant_id=video.merchant_id,
        products=[ProductTag(product_id=t.product_id, starts_at_ms=t.starts_at_ms) for t in tags],
        duration_ms=video.duration_ms,
        width=video.width,
        height=video.height,
        renditions=[RenditionOut(**r.__dict__) for r in service.renditions_of(video)],
        poster_url=service.poster_url(video),
        comments=CommentStats(count=video.comment_count, mean_sentiment=service.mean_sentiment(video)),
        created_at=video.created_at,
        published_at=video.published_at,
    )


def page_out(
    session: Session, rows: list[Video], cursor: str | None, principal: Principal | None
) -> Page[VideoOut]:
    tags = videos.product_tags(session, [v.id for v in rows])
    return Page[VideoOut](
        items=[video_out(session, v, principal, tags[v.id]) for v in rows], next_cursor=cursor
    )


# --- videos -----------------------------------------------------------------------------------------------


@router.post("/videos", status_code=status.HTTP_202_ACCEPTED, response_model=VideoOut)
def create_video(
    body: VideoCreate, request: Request, principal: ContentWriter, session: DbSession
) -> VideoOut:
    """Turn a complete upload into a video: sniffed now (422 with the reason if it is not a video we
    accept), transcoded in the background (poll ``progress``; ``publish`` makes it public when ready)."""
    release(session)
    db = request.app.state.db
    meta = VideoMeta(**body.model_dump(exclude={"upload_id"}))
    video_id = videos.create_from_upload(db, principal, meta, body.upload_id, request.app.state.limiter)
    with db.read() as s:
        return video_out(s, videos.load(s, video_id, principal), principal)


@router.post(
    "/videos/upload",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=VideoOut,
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "metadata": {
                                "type": "string",
                                "description": "JSON: caption, hashtags, products, …",
                            },
                        },
                    }
                }
            }
        }
    },
)
async def upload_video(request: Request, principal: ContentWriter, session: DbSession) -> VideoOut:
    """One request for a small file (up to ``ETALAGE_UPLOAD_CHUNK_BYTES``): multipart ``file`` plus a
    ``metadata`` JSON field. Larger files use the resumable /uploads protocol."""
    await run_in_threadpool(release, session)
    if not (request.headers.get("content-type") or "").startswith("multipart/form-data"):
        raise UnsupportedMediaType("Send multipart/form-data with a 'file' part (and optional 'metadata').")
    settings = get_settings()
    async with request.form(max_files=1, max_fields=5, max_part_size=FORM_SLACK) as form:
        file = form.get("file")
        if file is None or isinstance(file, str):
            raise InvalidInput(
                "The form has no 'file' part.",
                errors=[{"loc": "file", "message": "required", "type": "missing"}],
            )
        try:
            meta = VideoMeta(**json.loads(str(form.get("metadata") or "{}")))
        except (ValueError, TypeError) as exc:
            errors = field_errors(exc.errors()) if isinstance(exc, ValidationError) else None
            raise InvalidInput("The 'metadata' part is not valid.", errors=errors) from None
        size = file.size if file.size is not None else 0
        if size > settings.upload_chunk_bytes:
            raise InvalidInput(
                f"Files over {settings.upload_chunk_bytes} bytes use the resumable /api/v1/uploads."
            )
        db = request.app.state.db
        limiter = request.app.state.limiter

        def store() -> str:
            with db.session() as s:
                upload = uploads.create(
                    s,
                    principal,
                    size=size,
                    filename=file.filename,
                    content_type=file.content_type,
                    limiter=limiter,
                    state="complete",
                )
                upload.offset = size
                path = storage.absolute(storage.original_relpath(upload.id))
                path.parent.mkdir(parents=True, exist_ok=True)
                file.file.seek(0)
                with path.open("wb") as out:
                    shutil.copyfileobj(file.file, out, 1 << 20)
                return upload.id

        upload_id = await run_in_threadpool(store)
    video_id = await run_in_threadpool(videos.create_from_upload, db, principal, meta, upload_id, limiter)

    def read() -> VideoOut:
        with db.read() as s:
            return video_out(s, videos.load(s, video_id, principal), principal)

    return await run_in_threadpool(read)


@router.get("/videos", response_model=Page[VideoOut])
def list_videos(
    session: DbSession,
    principal: OptionalPrincipal,
    params: Annotated[PageParams, Depends(page_params)],
    creator_id: Annotated[str | None, Query(max_length=40)] = None,
    merchant_id: Annotated[str | None, Query(max_length=40)] = None,
    hashtag: Annotated[str | None, Query(max_length=50)] = None,
    language: Annotated[str | None, Query(max_length=8)] = None,
    region: Annotated[str | None, Query(max_length=2)] = None,
) -> Page[VideoOut]:
    """Published videos, newest first."""
    from sqlalchemy import select

    stmt = select(Video).where(Video.state == "published")
    for column, value in (
        (Video.creator_id, creator_id),
        (Video.merchant_id, merchant_id),
        (Video.language, language),
        (Video.region, region),
    ):
        if value:
            stmt = stmt.where(column == value)
    rows, cursor = paginate(session, stmt, Video.id, params)
    if hashtag:  # JSON lists are not portably indexable; filter the page (hashtag search belongs to search)
        rows = [v for v in rows if hashtag.lstrip("#").lower() in v.hashtags]
    return page_out(session, rows, cursor, principal)


@router.get("/me/videos", response_model=Page[VideoOut])
def my_videos(
    session: DbSession, principal: CurrentPrincipal, params: Annotated[PageParams, Depends(page_params)]
) -> Page[VideoOut]:
    """Your own videos, in every state (processing ones show their progress)."""
    rows, cursor = paginate(session, videos.mine(session, principal), Video.id, params)
    return page_out(session, rows, cursor, principal)


@router.get("/merchants/{merchant_id}/videos", response_model=Page[VideoOut], tags=["merchants"])
def merchant_videos(
    merchant_id: str,
    session: DbSession,
    principal: CurrentPrincipal,
    params: Annotated[PageParams, Depends(page_params)],
) -> Page[VideoOut]:
    """A merchant's videos in every state, for its members."""
    require_merchant(principal, merchant_id)
    from sqlalchemy import select

    rows, cursor = paginate(session, select(Video).where(Video.merchant_id == merchant_id), Video.id, params)
    return page_out(session, rows, cursor, principal)


@router.get("/videos/{video_id}", response_model=VideoOut)
def get_video(video_id: str, session: DbSession, principal: OptionalPrincipal) -> VideoOut:
    return video_out(session, videos.load(session, video_id, principal), principal)


@router.patch("/videos/{video_id}", response_model=VideoOut)
def edit_video(video_id: str, body: VideoPatch, session: DbSession, principal: ContentWriter) -> VideoOut:
    video = videos.update_meta(session, principal, video_id, body.model_dump(exclude_unset=True))
    return video_out(session, video, principal)


@router.put("/videos/{video_id}/products", response_model=VideoOut)
def tag_products(
    video_id: str, body: ProductTagsPut, session: DbSession, principal: ContentWriter
) -> VideoOut:
    """Replace the products the video features (optionally each from a moment, in ms)."""
    video = videos.set_products(session, principal, video_id, body.products)
    session.flush()
    return video_out(session, video, principal)


@router.post("/videos/{video_id}/publish", response_model=VideoOut)
def publish_video(video_id: str, session: DbSession, principal: ContentWriter) -> VideoOut:
    return video_out(session, videos.publish(session, principal, video_id), principal)


@router.delete("/videos/{video_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_video(video_id: str, session: DbSession, principal: ContentWriter) -> None:
    """Take your video down (it is removed everywhere at once; the record of it stays)."""
    videos.remove_own(session, principal, video_id)


@router.post("/videos/{video_id}/moderation", response_model=VideoOut, tags=["moderation"])
def moderate_video(
    video_id: str, body: VideoModeration, session: DbSession, principal: Moderator
) -> VideoOut:
    """Reject, remove or restore a video, with the reason (recorded with who and when)."""
    return video_out(
        session, videos.moderate(session, principal, video_id, body.action, body.reason), principal
    )


@router.get("/videos/{video_id}/history", response_model=list[VideoEventOut])
def video_history(video_id: str, session: DbSession, principal: CurrentPrincipal) -> list[VideoEventOut]:
    """Every state change: from, to, who, why, when (the owner's and moderators' view)."""
    return [
        VideoEventOut.model_validate(e, from_attributes=True)
        for e in videos.history(session, principal, video_id)
    ]
