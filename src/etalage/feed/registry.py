"""Versioned snapshots of everything the online feed learned, and the registry that lists them.

A snapshot is a folder ``<model_dir>/<version>/``:

- ``model/``: the served ``EtalageModel`` (its own manifest and checksum, ``feed.snapshot``);
- ``serving.npz``: the item counters (outcome rates, trending per region), keyed by item id;
- ``serving.json``, written last: format and version, the event-log offset the snapshot covers, the
  scoring heads, the evaluation figures, and the SHA-256 of ``serving.npz``.

A restart loads the newest snapshot that verifies and replays the events after its offset. Anything
doubtful (garbled, checksum mismatch, another format version, inconsistent shapes) raises
``SnapshotError``: the registry marks it refused, with the reason, and the previous good one is used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from etalage.db import Database, new_id
from etalage.feed.models import FeedModelVersion
from etalage.feed.pipeline.heads import Heads
from etalage.feed.snapshot import SnapshotError, load_model, save_model

log = logging.getLogger("etalage.feed.registry")
FORMAT = "etalage-feed-serving"
FORMAT_VERSION = 1
MANIFEST, ARRAYS, MODEL = "serving.json", "serving.npz", "model"


@dataclass
class Snapshot:
    version: str
    path: Path
    model: Any
    heads: Heads
    counters: dict[str, Any]  # ids, rates, rates_t_ref, trend, trend_t_ref, regions
    event_offset: int
    manifest: dict[str, Any]


def new_version() -> str:
    # Versions sort in time order (microseconds: two refits in the same second stay ordered); the suffix
    # keeps two workers' names apart.
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + new_id("m")[-4:].lower()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_snapshot(model_dir: Path, model: Any, heads: Heads, counters: dict[str, Any], event_offset: int,
                   evaluation: dict[str, Any] | None = None, version: str | None = None) -> Path:  # fmt: skip
    version = version or new_version()
    root = Path(model_dir) / version
    root.mkdir(parents=True, exist_ok=True)
    if model is not None:
        save_model(model, root / MODEL, evaluation)
    arrays = {
        "ids": np.array(counters["ids"], dtype=str),
        "rates": np.asarray(counters["rates"], np.float64),
        "trend": np.asarray(counters["trend"], np.float64),
        "regions": np.array(counters["regions"], dtype=str),
        "t_ref": np.array([_nan(counters.get("rates_t_ref")), _nan(counters.get("trend_t_ref"))]),
    }
    fd, tmp = tempfile.mkstemp(dir=root, suffix=".npz.tmp")
    with os.fdopen(fd, "wb") as fh:
        np.savez(fh, **arrays)
    os.replace(tmp, root / ARRAYS)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "event_offset": int(event_offset),
        "has_model": model is not None,
        "n_items": len(counters["ids"]),
        "heads": heads.as_dict(),
        "evaluation": evaluation or {},
        "arrays_sha256": _sha256(root / ARRAYS),
    }
    _atomic(root / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
    return root


def _nan(v: float | None) -> float:
    return float("nan") if v is None else float(v)


def _opt(v: float) -> float | None:
    return None if np.isnan(v) else float(v)


def read_manifest(path: Path) -> dict[str, Any]:
    p = Path(path) / MANIFEST
    try:
        manifest = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotError(f"no {MANIFEST} in {path} (unfinished or foreign snapshot)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"unreadable {p}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SnapshotError(f"{p} is not an {FORMAT} manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise SnapshotError(
            f"serving format version {manifest.get('format_version')!r} is not {FORMAT_VERSION}"
        )
    return manifest


def read_snapshot(path: Path) -> Snapshot:
    """Load and verify a snapshot folder; ``SnapshotError`` on any doubt."""
    root = Path(path)
    manifest = read_manifest(root)
    arrays_path = root / ARRAYS
    if not arrays_path.is_file() or _sha256(arrays_path) != manifest.get("arrays_sha256"):
        raise SnapshotError(f"checksum mismatch or missing {arrays_path}")
    try:
        with np.load(arrays_path, allow_pickle=False) as npz:
            ids = [str(i) for i in npz["ids"]]
            rates, trend, regions, t_ref = (
                npz["rates"],
                npz["trend"],
                [str(r) for r in npz["regions"]],
                npz["t_ref"],
            )
        if rates.shape[1] != len(ids) or trend.shape[1] != len(ids):
            raise SnapshotError(f"counters shape {rates.shape}/{trend.shape} for {len(ids)} items")
        heads = Heads.from_dict(manifest["heads"])
        model = load_model(root / MODEL) if manifest.get("has_model") else None
    except SnapshotError:
        raise
    except (KeyError, ValueError, TypeError, OSError) as exc:
        raise SnapshotError(f"malformed snapshot {root}: {exc}") from None
    counters = {"ids": ids, "rates": rates, "trend": trend, "regions": regions, "rates_t_ref": _opt(t_ref[0]),
                "trend_t_ref": _opt(t_ref[1])}  # fmt: skip
    return Snapshot(
        manifest["version"], root, model, heads, counters, int(manifest["event_offset"]), manifest
    )


# --- the registry table ----------------------------------------------------------------------------------


def register(session: Session, snap_path: Path, manifest: dict[str, Any]) -> FeedModelVersion:
    row = session.get(FeedModelVersion, manifest["version"])
    if row is None:
        row = FeedModelVersion(version=manifest["version"], path=str(snap_path))
        session.add(row)
    row.status, row.event_offset = "ready", int(manifest["event_offset"])
    row.n_items, row.evaluation = int(manifest.get("n_items", 0)), manifest.get("evaluation") or {}
    return row


def mark_refused(db: Database, version: str, path: Path, reason: str) -> None:
    with db.session() as s:
        row = s.get(FeedModelVersion, version)
        if row is None:
            row = FeedModelVersion(version=version, path=str(path))
            s.add(row)
        row.status, row.reason = "refused", reason[:2000]


def latest_good(db: Database, model_dir: Path, *, newer_than: str | None = None) -> Snapshot | None:
    """The newest snapshot that verifies (registry first, then folders on disk); refused ones are marked."""
    with db.read() as s:
        rows = list(
            s.execute(
                select(FeedModelVersion.version, FeedModelVersion.path, FeedModelVersion.status).order_by(
                    FeedModelVersion.created_at.desc(), FeedModelVersion.version.desc()
                )
            )
        )
    refused = {v for v, _, st in rows if st == "refused"}
    # a registered snapshot is looked for in this model folder first (a copied data folder keeps working)
    paths = [(v, Path(model_dir) / v if (Path(model_dir) / v).is_dir() else Path(p)) for v, p, st in rows
             if st == "ready"]  # fmt: skip
    known = {v for v, _ in paths} | refused
    if Path(model_dir).is_dir():  # folders written but never registered (e.g. a crash in between)
        on_disk = sorted(
            (p for p in Path(model_dir).iterdir() if p.is_dir() and p.name not in known), reverse=True
        )
        paths = sorted(paths + [(p.name, p) for p in on_disk], key=lambda vp: vp[0], reverse=True)
    for version, path in paths:
        if newer_than is not None and version <= newer_than:
            break
        try:
            return read_snapshot(path)
        except SnapshotError as exc:
            log.error("feed snapshot %s refused, keeping the previous one: %s", version, exc)
            mark_refused(db, version, path, str(exc))
    return None


def prune(model_dir: Path, keep: int, in_use: set[str]) -> list[str]:
    """Delete all but the newest ``keep`` snapshot folders (never one in use)."""
    if not Path(model_dir).is_dir():
        return []
    folders = sorted((p for p in Path(model_dir).iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True)
    removed = []
    for p in folders[keep:]:
        if p.name not in in_use:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
    return removed
