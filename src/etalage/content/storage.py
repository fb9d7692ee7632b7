"""Where media files live under the media folder, and the URLs they are served at.

    originals/<upload id>             what the uploader sent, byte for byte
    videos/<video id>/<version>/      720p.mp4, 360p.mp4, poster.jpg (a new version per transcode)
    demo/clips/<n>/                   the demo's rendered clips, shared by many demo videos
    tmp/                              work folders, moved into place when complete

A video's URLs name its version, so a URL once handed out always means the same bytes and can be cached
for a year (``immutable``); a new transcode gets a new version, hence new URLs.
"""

from __future__ import annotations

from pathlib import Path

from etalage.config import get_settings

MEDIA_PREFIX = "/media/videos"


def media_root() -> Path:
    return get_settings().media_dir


def original_relpath(upload_id: str) -> str:
    return f"originals/{upload_id}"


def version_relpath(video_id: str, version: str) -> str:
    return f"videos/{video_id}/{version}"


def absolute(relpath: str) -> Path:
    root = media_root().resolve()
    path = (root / relpath).resolve()
    if not path.is_relative_to(root):  # stored paths are ours, but never trust a join blindly
        raise ValueError(f"media path escapes the media folder: {relpath}")
    return path


def tmp_dir() -> Path:
    path = media_root() / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def media_url(video_id: str, version: str, file_name: str) -> str:
    return f"{get_settings().media_base_url.rstrip('/')}{MEDIA_PREFIX}/{video_id}/{version}/{file_name}"
