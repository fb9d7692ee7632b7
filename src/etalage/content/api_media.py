"""Serving renditions and posters: byte ranges, ETags, and cache headers a CDN can honour.

A published video's files are public and immutable under their versioned URL (cached for a year); an
unpublished one's are served only to its owner and moderators, never cached by shared caches. A removed
video stops being served at once by this origin; a CDN in front must be purged on the bus event
``content.video.removed`` (the ``immutable`` promise is about content, not about availability).
"""

from __future__ import annotations

import re

from fastapi import Request
from fastapi.responses import FileResponse, Response

from etalage.accounts.deps import OptionalPrincipal
from etalage.content import storage, videos
from etalage.content.models import Video
from etalage.core.deps import DbSession
from etalage.core.errors import NotFound, Problem
from etalage.core.routing import api_router

router = api_router(tags=["media"])
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(Problem):
    status, code, title = 416, "range-not-satisfiable", "Requested range not satisfiable"


def _check_range(header: str | None, size: int) -> None:
    """Refuse, as problem+json, a single range that cannot be served; multi-ranges go to Starlette."""
    if not header:
        return
    spec = header.strip()
    if "," in spec:
        return
    m = _RANGE.match(spec)
    if m is None:
        raise RangeNotSatisfiable(
            f"Range '{spec[:60]}' is not a byte range (use bytes=start-end).",
            headers={"Content-Range": f"bytes */{size}"},
        )
    start, end = m.groups()
    if start == "" and end == "":
        raise RangeNotSatisfiable("An empty byte range.", headers={"Content-Range": f"bytes */{size}"})
    if start != "" and (int(start) >= size or (end != "" and int(end) < int(start))):
        raise RangeNotSatisfiable(
            f"The range starts at {start} but the file has {size} bytes.",
            headers={"Content-Range": f"bytes */{size}"},
        )
    if start == "" and int(end) == 0:
        raise RangeNotSatisfiable("A zero-length suffix range.", headers={"Content-Range": f"bytes */{size}"})


@router.api_route(
    "/media/videos/{video_id}/{version}/{file_name}", methods=["GET", "HEAD"], include_in_schema=False
)
def serve_media(
    video_id: str,
    version: str,
    file_name: str,
    request: Request,
    session: DbSession,
    principal: OptionalPrincipal,
) -> Response:
    video = session.get(Video, video_id)
    if video is None or video.media_version != version or not videos.can_see(principal, video):
        raise NotFound("No such media file.")
    files = {r["file"]: r for r in video.renditions}
    if video.poster:
        files[video.poster["file"]] = video.poster
    entry = files.get(file_name)
    if entry is None:
        raise NotFound("No such media file.")
    path = storage.absolute(entry["path"])
    if not path.is_file():
        raise NotFound("The media file is missing on this server.")
    etag = f'"{entry["sha256"][:32]}"'
    public = video.state == "published"
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=31536000, immutable" if public else "private, no-store",
        "Accept-Ranges": "bytes",
        "Cross-Origin-Resource-Policy": "same-site",
    }
    if not public:
        headers["Vary"] = "Authorization, Cookie"
    if etag in [t.strip() for t in (request.headers.get("if-none-match") or "").split(",")]:
        return Response(status_code=304, headers=headers)
    _check_range(request.headers.get("range"), path.stat().st_size)
    media_type = "image/jpeg" if file_name.endswith(".jpg") else "video/mp4"
    return FileResponse(path, media_type=media_type, headers=headers)
