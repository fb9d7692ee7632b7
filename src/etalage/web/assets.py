"""Static files: versioned URLs (content hash) served with year-long immutable caching, gzip when accepted.

Files are read into memory on first use and re-read when they change on disk, so editing a stylesheet
during development needs no restart and production serves from memory.

JavaScript modules import each other as ``./name.js``; when served, those specifiers are rewritten to the
imported file's versioned URL, and a module's version covers its imports, so changing one module changes
the URL of every module that depends on it and nothing stale is ever served from a cache.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
import threading
from dataclasses import dataclass
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
PREFIX = "/static"
COMPRESSIBLE = {".css", ".js", ".svg", ".json", ".txt"}
_IMPORT = re.compile(r"""(\bfrom\s*|\bimport\s*\(?\s*)(['"])\./([A-Za-z0-9_-]+\.js)\2""")


@dataclass(frozen=True)
class Asset:
    path: str
    body: bytes
    gzipped: bytes | None
    version: str
    content_type: str
    mtime_ns: int
    deps: tuple[tuple[str, str], ...] = ()  # (path, version) of the modules this one imports

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
    if cached is not None and cached.mtime_ns == stat.st_mtime_ns and _deps_current(cached):
        return cached
    body = file.read_bytes()
    deps: list[tuple[str, str]] = []
    if file.suffix == ".js":
        body, deps = _link_modules(path, body)
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
        deps=tuple(deps),
    )
    with _lock:
        _cache[path] = asset
    return asset


def _deps_current(asset: Asset) -> bool:
    for dep_path, version in asset.deps:
        dep = get(dep_path)
        if dep is None or dep.version != version:
            return False
    return True


def _link_modules(path: str, body: bytes) -> tuple[bytes, list[tuple[str, str]]]:
    folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
    deps: list[tuple[str, str]] = []

    def versioned(match: re.Match[str]) -> str:
        dep = get(folder + match.group(3))
        if dep is None:
            return match.group(0)
        deps.append((dep.path, dep.version))
        return f"{match.group(1)}{match.group(2)}{dep.url}{match.group(2)}"

    text = _IMPORT.sub(versioned, body.decode("utf-8"))
    return text.encode("utf-8"), deps


def module_graph(path: str) -> list[str]:
    """URLs of every module ``path`` imports, directly or not (for ``<link rel=modulepreload>``)."""
    seen: dict[str, str] = {}
    stack = [path]
    while stack:
        asset = get(stack.pop())
        if asset is None:
            continue
        for dep_path, _version in asset.deps:
            if dep_path not in seen:
                dep = get(dep_path)
                if dep is not None:
                    seen[dep_path] = dep.url
                    stack.append(dep_path)
    return list(seen.values())


def url(path: str) -> str:
    asset = get(path)
    if asset is None:
        raise LookupError(f"no static file {path!r}")
    return asset.url
