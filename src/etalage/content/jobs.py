"""Background work for content: transcoding (with progress and retries) and expiring unfinished uploads.

Both are idempotent: a transcode writes into a fresh work folder and only moves it into its version's
place when complete, and does nothing if the video is no longer processing that version.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from sqlalchemy import update

from etalage.content import media, storage, uploads, videos
from etalage.content.models import Video
from etalage.core import jobs
from etalage.db import Database, utcnow

log = logging.getLogger("etalage.content.jobs")


def _set_progress(db: Database, video_id: str, pct: int) -> None:
    with db.session() as s:
        s.execute(update(Video).where(Video.id == video_id, Video.state == "processing").values(progress=pct))


def _fail(db: Database, video_id: str, version: str, reason: str) -> None:
    with db.session() as s:
        video = s.get(Video, video_id)
        if video is None or video.state != "processing" or video.media_version != version:
            return
        videos.transition(s, video, "failed", actor_id=None, role="system", reason=reason)


@jobs.handler(videos.TRANSCODE_JOB, max_attempts=videos.TRANSCODE_ATTEMPTS, lease_seconds=3600)
def transcode(db: Database, payload: dict[str, Any]) -> None:
    video_id, version = payload["video_id"], payload["version"]
    with db.session() as s:
        video = s.get(Video, video_id)
        if video is None or video.state != "processing" or video.media_version != version:
            return  # done already, removed meanwhile, or superseded by a newer transcode
        video.transcode_attempts += 1
        attempt = video.transcode_attempts
        source = media.Probe(**video.source)
        src = storage.absolute(video.source_path or "")
    if not src.exists():
        _fail(db, video_id, version, "The uploaded file is missing on the server.")
        return
    work = storage.tmp_dir() / f"{video_id}-{version}-{secrets.token_hex(4)}"
    started = time.perf_counter()
    try:
        files, poster = media.transcode(
            src, source, work, on_progress=lambda p: _set_progress(db, video_id, p)
        )
    except media.TranscodeFailed as exc:
        media.remove_tree(work)
        _fail(db, video_id, version, str(exc))  # the input is bad: retrying cannot help
        return
    except Exception as exc:
        media.remove_tree(work)
        if attempt >= videos.TRANSCODE_ATTEMPTS:
            _fail(db, video_id, version, f"Transcoding failed {attempt} times; the last error: {exc}")
            return
        raise  # the queue retries with backoff
    seconds = time.perf_counter() - started
    relpath = storage.version_relpath(video_id, version)
    media.atomic_move_dir(work, storage.absolute(relpath))
    with db.session() as s:
        video = s.get(Video, video_id)
        if video is None or video.state != "processing" or video.media_version != version:
            return
        video.renditions = [
            {
                "name": f.name,
                "file": f.file,
                "path": f"{relpath}/{f.file}",
                "width": f.width,
                "height": f.height,
                "bytes": f.bytes,
                "sha256": f.sha256,
                "duration_ms": f.duration_ms,
            }
            for f in files
        ]
        video.poster = {
            "file": poster.file,
            "path": f"{relpath}/{poster.file}",
            "width": poster.width,
            "height": poster.height,
            "bytes": poster.bytes,
            "sha256": poster.sha256,
        }
        video.progress = 100
        video.transcode_seconds = round(seconds, 3)
        video.ready_at = utcnow()
        videos.transition(s, video, "ready", actor_id=None, role="system", reason=None)
        if video.publish_when_ready:
            videos.transition(
                s,
                video,
                "published",
                actor_id=video.uploader_id,
                role="owner",
                reason="published when ready, as asked on upload",
            )
    log.info("transcoded %s (%.1f s of video) in %.2f s", video_id, source.duration, seconds)


@jobs.handler(uploads.EXPIRE_JOB, max_attempts=20)
def expire_upload(db: Database, payload: dict[str, Any]) -> None:
    uploads.expire(db, payload["upload_id"])
