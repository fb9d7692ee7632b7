"""Resumable uploads (a small subset of tus 1.0): declare the size, append chunks at the offset, resume.

    POST   /api/v1/uploads              {"size": n}            -> 201, Location, Upload-Offset: 0
    PATCH  /api/v1/uploads/{id}         Upload-Offset: k, body -> 204, Upload-Offset: k + len(body)
    HEAD   /api/v1/uploads/{id}                                -> Upload-Offset, Upload-Length
    POST   /api/v1/videos               {"upload_id": id, ...} -> 202, the video (processing)

A declared size over the limit is refused before a byte is sent. Bytes stream to disk and are fsynced
before the new offset is recorded, so an acknowledged offset always survives a crash; a chunk cut off by
the client keeps what arrived, a chunk that breaks the protocol (too long) is discarded whole.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import anyio
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from starlette.requests import ClientDisconnect

from etalage.accounts.authz import Principal, require_scope
from etalage.config import get_settings
from etalage.content import media, storage
from etalage.content.models import Upload
from etalage.core import jobs
from etalage.core.errors import Conflict, Gone, NotFound, PayloadTooLarge, Problem, RateLimited
from etalage.core.ratelimit import RateLimiter
from etalage.db import Database, new_id, utcnow

EXPIRE_JOB = "content.expire_upload"
UPLOAD_TTL = timedelta(hours=24)
LEASE = timedelta(minutes=15)  # an append in flight; only outlives its request if the server died
MAX_OPEN_UPLOADS = 10
FREE_SPACE_MARGIN = 512 * 1024**2


class InsufficientStorage(Problem):
    status, code, title = 507, "insufficient-storage", "Not enough storage"


class OffsetMismatch(Conflict):
    def __init__(self, detail: str, offset: int) -> None:
        super().__init__(detail, offset=offset, headers={"Upload-Offset": str(offset)})


def _safe_name(name: str | None) -> str | None:
    if not name:
        return None
    base = os.path.basename(name.replace("\\", "/"))
    return "".join(ch for ch in base if ch.isprintable())[:255] or None


def create(
    session: Session,
    principal: Principal,
    *,
    size: int,
    filename: str | None,
    content_type: str | None,
    limiter: RateLimiter,
    state: str = "uploading",
) -> Upload:
    require_scope(principal, "content:write")
    settings = get_settings()
    if size > settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"The file ({size} bytes) is larger than the limit of {settings.max_upload_bytes} bytes.",
            limit_bytes=settings.max_upload_bytes,
        )
    if size == 0:
        raise media.MediaRejected("empty", "The file is empty (0 bytes).")
    decision = limiter.hit(f"content:uploads:{principal.user_id}", 60, 3600)
    if not decision.allowed:
        raise RateLimited("Too many uploads started in the last hour.", retry_after=decision.retry_after)
    open_count, open_bytes = session.execute(
        select(func.count(), func.coalesce(func.sum(Upload.size - Upload.offset), 0)).where(
            Upload.user_id == principal.user_id, Upload.state == "uploading", Upload.expires_at > utcnow()
        )
    ).one()
    if state == "uploading" and open_count >= MAX_OPEN_UPLOADS:
        raise Conflict(
            f"You have {open_count} unfinished uploads; finish or delete one first.", open_uploads=open_count
        )
    if media.disk_free(storage.media_root()) < size + int(open_bytes) + FREE_SPACE_MARGIN:
        raise InsufficientStorage("The server has no room for this file now; try again later.")
    now = utcnow()
    upload = Upload(
        id=new_id("upl"),
        user_id=principal.user_id,
        size=size,
        filename=_safe_name(filename),
        content_type=(content_type or "")[:100] or None,
        state=state,
        expires_at=now + UPLOAD_TTL,
    )
    session.add(upload)
    # Whatever becomes of it, an upload that never turns into a video is deleted after its TTL.
    jobs.enqueue(session, EXPIRE_JOB, {"upload_id": upload.id}, delay_seconds=UPLOAD_TTL.total_seconds() + 60)
    return upload


def get_own(session: Session, principal: Principal, upload_id: str) -> Upload:
    upload = session.get(Upload, upload_id)
    if upload is None or upload.user_id != principal.user_id:
        raise NotFound(f"No upload {upload_id}.")
    return upload


def _check_writable(upload: Upload, offset: int) -> None:
    if upload.state in ("aborted", "expired", "rejected") or upload.expires_at <= utcnow():
        raise Gone(
            f"Upload {upload.id} is {upload.state if upload.state != 'uploading' else 'expired'}; start a new one."
        )
    if upload.state != "uploading":
        raise OffsetMismatch(f"Upload {upload.id} is already complete.", upload.offset)
    if offset != upload.offset:
        raise OffsetMismatch(
            f"Upload-Offset {offset} does not match the upload's offset {upload.offset}; resume from there.",
            upload.offset,
        )


def begin_append(db: Database, principal: Principal, upload_id: str, offset: int) -> Upload:
    """Check the offset and take the upload's lease, in a short transaction of its own."""
    with db.session() as s:
        upload = get_own(s, principal, upload_id)
        _check_writable(upload, offset)
        now = utcnow()
        taken = s.execute(
            update(Upload)
            .where(
                Upload.id == upload_id,
                Upload.offset == offset,
                Upload.state == "uploading",
                or_(Upload.busy_until.is_(None), Upload.busy_until < now),
            )
            .values(busy_until=now + LEASE)
        )
        if taken.rowcount != 1:
            raise OffsetMismatch(
                "Another request is appending to this upload; retry when it ends.", upload.offset
            )
        s.expunge(upload)
        return upload


def end_append(db: Database, upload_id: str, new_offset: int) -> Upload:
    with db.session() as s:
        upload = s.get(Upload, upload_id)
        assert upload is not None
        upload.offset = new_offset
        upload.busy_until = None
        upload.updated_at = utcnow()
        if new_offset == upload.size:
            upload.state = "complete"
        s.flush()
        s.expunge(upload)
        return upload


async def receive_into(path: Path, offset: int, remaining: int, chunks: AsyncIterator[bytes]) -> int:
    """Append the body at ``offset``; returns how many bytes were kept.

    Bytes beyond the recorded offset (from a chunk that died with the server) are dropped first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = await anyio.to_thread.run_sync(lambda: open(path, "r+b" if path.exists() else "w+b"))  # noqa: SIM115
    received = 0
    buffer = bytearray()
    try:
        await anyio.to_thread.run_sync(fh.truncate, offset)
        await anyio.to_thread.run_sync(fh.seek, offset)
        try:
            async for chunk in chunks:
                if received + len(buffer) + len(chunk) > remaining:
                    await anyio.to_thread.run_sync(fh.truncate, offset)
                    raise PayloadTooLarge(
                        f"This chunk goes past the declared size ({remaining} bytes were left); it was discarded.",
                    )
                buffer += chunk
                if len(buffer) >= 1 << 20:  # write in 1 MiB blocks, off the event loop
                    await anyio.to_thread.run_sync(fh.write, bytes(buffer))
                    received += len(buffer)
                    buffer.clear()
        except ClientDisconnect:
            pass  # keep what arrived; the client resumes from the offset HEAD reports
        except PayloadTooLarge:
            await anyio.to_thread.run_sync(fh.truncate, offset)
            raise
        if buffer:
            await anyio.to_thread.run_sync(fh.write, bytes(buffer))
            received += len(buffer)
        await anyio.to_thread.run_sync(_sync, fh)
    finally:
        await anyio.to_thread.run_sync(fh.close)
    return received


def _sync(fh) -> None:  # type: ignore[no-untyped-def]
    fh.flush()
    os.fsync(fh.fileno())


def abort(session: Session, principal: Principal, upload_id: str) -> None:
    upload = get_own(session, principal, upload_id)
    if upload.state == "consumed":
        raise Conflict(
            f"Upload {upload_id} already became video {upload.video_id}; delete the video instead."
        )
    if upload.busy_until is not None and upload.busy_until > utcnow():
        raise Conflict("A chunk is being appended to this upload; retry when it ends.")
    upload.state = "aborted"
    upload.updated_at = utcnow()
    path = storage.absolute(storage.original_relpath(upload_id))
    from etalage.db import on_commit

    on_commit(session, lambda: path.unlink(missing_ok=True))


def expire(db: Database, upload_id: str) -> None:
    """The job behind UPLOAD_TTL: an upload never finished is deleted, with its bytes."""
    with db.session() as s:
        upload = s.get(Upload, upload_id)
        if upload is None or upload.state not in ("uploading", "complete"):
            return
        if upload.expires_at > utcnow():
            raise jobs.RetryLater((upload.expires_at - utcnow()).total_seconds() + 1, "not expired yet")
        upload.state = "expired"
    storage.absolute(storage.original_relpath(upload_id)).unlink(missing_ok=True)
