"""Static files: versioned URLs (content hash) served with year-long immutable caching, gzip when accepted.

Files are read into memory on first use and re-read when they change on disk, so editing a stylesheet
during development needs no restart and production serves from memory.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import threading
from dataclasses import dataclass
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
PREFIX = "/static"
COMPRESSIBLE = {".css", ".js", ".svg", ".json", ".txt"}


@dataclass(frozen=True)
class Asset:
    path: str
    body: bytes
    gzipped: bytes | None
    version: str
    content_type: str
    mtime_ns: int

    @property
    def url(self) -> str:
        return f"{PREFIX}/{self.version}/{self.path}"


_cache: dict[str, Asset] = {}
_lock = threading.Lock()


def _content_type(path: Path) -> str:
    if path.suffix == ".js":
        return "text/javascript; charset=utf-8"
    if path.suffix == ".css":
        return "text/css; charset=utf-8"
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return guessed + ("; charset=utf-8" if guessed.startswith("text/") or guessed.endswith("+xml") else "")


def get(path: str) -> Asset | None:
    """The asset at ``path`` (relative to static/), or None when there is no such file."""
    if not path or ".." in path.split("/") or path.startswith("/") or "\\" in path:
        return None
    file = STATIC_DIR / path
    try:
        stat = file.stat()
    except OSError:
        return None
    if not file.is_file():
        return None
    cached = _cache.get(path)
    if cached is not None and cached.mtime_ns == stat.st_mtime_ns:
        return cached
    body = file.read_bytes()
    gzipped = None
    if file.suffix in COMPRESSIBLE and len(body) > 512:
        gzipped = gzip.compress(body, compresslevel=9, mtime=0)
    asset = Asset(
        path=path,
        body=body,
        gzipped=gzipped,
        version=hashlib.sha256(body).hexdigest()[:12],
        content_type=_content_type(file),
        mtime_ns=stat.st_mtime_ns,
    )
    with _lock:
        _cache[path] = asset
    return asset


def url(path: str) -> str:
    asset = get(path)
    if asset is None:
        raise LookupError(f"no static file {path!r}")
    return asset.url
