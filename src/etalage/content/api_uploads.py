"""Resumable upload routes (see ``content/uploads.py`` for the protocol)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from etalage.accounts.authz import Principal
from etalage.accounts.deps import CurrentPrincipal, scoped
from etalage.content import storage, uploads
from etalage.content.schemas import UploadCreate, UploadOut
from etalage.core.deps import DbSession
from etalage.core.errors import BadRequest, UnsupportedMediaType
from etalage.core.routing import api_router

router = api_router(prefix="/api/v1", tags=["content"])
ContentWriter = Annotated[Principal, Depends(scoped("content:write"))]


def release(session: Session) -> None:
    """End the request's transaction now: what follows streams a body or runs ffprobe, and must hold no
    database lock meanwhile (SQLite's single writer, or an idle PostgreSQL transaction)."""
    session.commit()


def upload_out(upload: Any) -> UploadOut:
    return UploadOut(
        id=upload.id,
        size=upload.size,
        offset=upload.offset,
        state=upload.state,
        filename=upload.filename,
        video_id=upload.video_id,
        created_at=upload.created_at,
        expires_at=upload.expires_at,
        upload_url=f"/api/v1/uploads/{upload.id}",
    )


@router.post("/uploads", status_code=status.HTTP_201_CREATED, response_model=UploadOut)
def create_upload(
    body: UploadCreate, request: Request, response: Response, principal: ContentWriter, session: DbSession
) -> UploadOut:
    """Declare a file (its size first: one over the limit is refused before a byte is sent)."""
    upload = uploads.create(
        session,
        principal,
        size=body.size,
        filename=body.filename,
        content_type=body.content_type,
        limiter=request.app.state.limiter,
    )
    response.headers["Location"] = f"/api/v1/uploads/{upload.id}"
    response.headers["Upload-Offset"] = "0"
    response.headers["Upload-Length"] = str(upload.size)
    return upload_out(upload)


@router.get("/uploads/{upload_id}", response_model=UploadOut)
def get_upload(upload_id: str, principal: CurrentPrincipal, session: DbSession) -> UploadOut:
    return upload_out(uploads.get_own(session, principal, upload_id))


@router.head("/uploads/{upload_id}", status_code=status.HTTP_200_OK)
def upload_offset(upload_id: str, principal: CurrentPrincipal, session: DbSession) -> Response:
    """Where to resume: ``Upload-Offset`` bytes of ``Upload-Length`` have arrived."""
    upload = uploads.get_own(session, principal, upload_id)
    return Response(
        status_code=200,
        headers={
            "Upload-Offset": str(upload.offset),
            "Upload-Length": str(upload.size),
            "Cache-Control": "no-store",
        },
    )


@router.patch(
    "/uploads/{upload_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    openapi_extra={
        "requestBody": {
            "content": {"application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}}}
        }
    },
)
async def append_chunk(
    upload_id: str,
    request: Request,
    principal: CurrentPrincipal,
    session: DbSession,
    upload_offset: Annotated[str | None, Header(alias="Upload-Offset", max_length=20)] = None,
) -> Response:
    """Append the body at ``Upload-Offset`` (which must equal the upload's current offset)."""
    await run_in_threadpool(uploads.get_own, session, principal, upload_id)  # 404 before anything else
    if upload_offset is None or not upload_offset.isdigit():
        raise BadRequest("Send the Upload-Offset header: the byte position this chunk starts at.")
    kind = (request.headers.get("content-type") or "").split(";")[0].strip()
    if kind not in ("application/offset+octet-stream", "application/octet-stream"):
        raise UnsupportedMediaType("Send chunks as application/offset+octet-stream.")
    offset = int(upload_offset)
    await run_in_threadpool(release, session)
    db = request.app.state.db
    upload = await run_in_threadpool(uploads.begin_append, db, principal, upload_id, offset)
    path = storage.absolute(storage.original_relpath(upload_id))
    received = 0
    try:
        received = await uploads.receive_into(path, offset, upload.size - offset, request.stream())
    finally:
        # Always give the lease back, keeping whatever arrived (0 when the chunk was refused).
        done = await run_in_threadpool(uploads.end_append, db, upload_id, offset + received)
    return Response(
        status_code=204, headers={"Upload-Offset": str(done.offset), "Upload-Length": str(done.size)}
    )


@router.delete("/uploads/{upload_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_upload(upload_id: str, principal: CurrentPrincipal, session: DbSession) -> None:
    uploads.abort(session, principal, upload_id)
