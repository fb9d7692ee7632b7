"""Versioned, verifiable model snapshots: ``<dir>/arrays.npz`` + ``<dir>/manifest.json``.

The manifest carries the format version, hyperparameters, creation time, evaluation figures and
the SHA-256 of the array file. ``load_model`` refuses anything it cannot fully trust (unknown
format or version, checksum mismatch, missing or malformed arrays) with ``SnapshotError``, so
the server can keep serving its last good model. Arrays are read with ``allow_pickle=False`` and
the manifest is JSON: loading never executes code from the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from etalage.feed.model import EtalageConfig, EtalageModel

FORMAT_NAME = "etalage-feed-model"
FORMAT_VERSION = 1
ARRAYS_FILE = "arrays.npz"
MANIFEST_FILE = "manifest.json"
_SPARSE = ("coeng", "sequel", "coeng_online", "sequel_online")
_DENSE = ("pos_counts", "shown_counts", "col_scale", "singular", "item_factors", "flow")


class SnapshotError(RuntimeError):
    """A snapshot could not be loaded; the previous model should stay in service."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_model(
    model: EtalageModel, path: str | os.PathLike[str], evaluation: dict[str, Any] | None = None
) -> str:
    """Write a snapshot directory; the manifest is written last, so a crash mid-save leaves a
    checksum mismatch (refused on load) rather than a silently inconsistent model."""
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {name: np.asarray(getattr(model, name)) for name in _DENSE}
    arrays["item_ids"] = np.array(model.item_ids, dtype=str)
    for name in _SPARSE:
        m = sp.csr_matrix(getattr(model, name))
        arrays[f"{name}_data"], arrays[f"{name}_indices"], arrays[f"{name}_indptr"] = (
            m.data,
            m.indices,
            m.indptr,
        )
    if model.content is not None:
        arrays["content"] = model.content
    if model.content_map is not None:
        arrays["content_map"] = model.content_map
    _atomic_write(out / ARRAYS_FILE, lambda fh: np.savez(fh, **arrays))
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": model.config.to_dict(),
        "state": {
            "n_items": model.n_items,
            "fitted_items": model.fitted_items,
            "rank": int(model.item_factors.shape[1]),
            "ordered": model.ordered,
            "has_negatives": model.has_negatives,
            "last_event_time": model.last_event_time,
            "fit_seconds": model.fit_seconds,
        },
        "evaluation": evaluation or model.metadata.get("evaluation") or {},
        "arrays_file": ARRAYS_FILE,
        "arrays_sha256": _sha256(out / ARRAYS_FILE),
    }
    text = json.dumps(manifest, indent=2, sort_keys=True).encode()
    _atomic_write(out / MANIFEST_FILE, lambda fh: fh.write(text))
    return str(out)


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    p = Path(path) / MANIFEST_FILE
    try:
        manifest = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotError(f"no {MANIFEST_FILE} in {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"unreadable manifest {p}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise SnapshotError(f"{p} is not an {FORMAT_NAME} manifest")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise SnapshotError(
            f"snapshot format version {version!r} is not supported (this code reads {FORMAT_VERSION})"
        )
    return manifest


def load_model(path: str | os.PathLike[str]) -> EtalageModel:
    """Load and verify a snapshot; raises ``SnapshotError`` on any doubt."""
    root = Path(path)
    manifest = read_manifest(root)
    arrays_path = root / str(manifest.get("arrays_file", ARRAYS_FILE))
    if arrays_path.parent != root or not arrays_path.is_file():
        raise SnapshotError(f"array file missing: {arrays_path}")
    if _sha256(arrays_path) != manifest.get("arrays_sha256"):
        raise SnapshotError(f"checksum mismatch for {arrays_path}: file is corrupt or was modified")
    try:
        with np.load(arrays_path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        model = EtalageModel(EtalageConfig.from_dict(manifest.get("config", {})))
        state = manifest["state"]
        model.item_ids = [str(s) for s in arrays["item_ids"]]
        model._index = {s: i for i, s in enumerate(model.item_ids)}
        n = len(model.item_ids)
        for name in _DENSE:
            setattr(model, name, arrays[name])
        for name in _SPARSE:
            m = sp.csr_matrix(
                (arrays[f"{name}_data"], arrays[f"{name}_indices"], arrays[f"{name}_indptr"]), shape=(n, n)
            )
            setattr(model, name, m)
        model.content = arrays.get("content")
        model.content_map = arrays.get("content_map")
        model.fitted_items = int(state["fitted_items"])
        model.ordered = bool(state["ordered"])
        model.has_negatives = bool(state["has_negatives"])
        model.last_event_time = float(state["last_event_time"])
        model.fit_seconds = float(state.get("fit_seconds", 0.0))
        model.metadata = {
            "evaluation": manifest.get("evaluation", {}),
            "created_at": manifest.get("created_at"),
        }
        _check_shapes(model, int(state["n_items"]))
        model._refresh()
    except SnapshotError:
        raise
    except (KeyError, ValueError, TypeError, OSError) as exc:
        raise SnapshotError(f"malformed snapshot {root}: {exc}") from None
    return model


def _check_shapes(model: EtalageModel, n_items: int) -> None:
    n = model.n_items
    problems = []
    if n != n_items:
        problems.append(f"{n} item ids, manifest says {n_items}")
    for name in ("pos_counts", "shown_counts"):
        if getattr(model, name).shape != (n,):
            problems.append(f"{name} shape {getattr(model, name).shape}")
    if model.item_factors.ndim != 2 or model.item_factors.shape[0] != n:
        problems.append(f"item_factors shape {model.item_factors.shape}")
    elif model.flow.shape != (model.item_factors.shape[1], n):
        problems.append(f"flow shape {model.flow.shape}")
    if model.col_scale.shape != (model.fitted_items,):
        problems.append(f"col_scale shape {model.col_scale.shape}")
    if model.content is not None and model.content.shape[0] != n:
        problems.append(f"content shape {model.content.shape}")
    if problems:
        raise SnapshotError("inconsistent snapshot: " + "; ".join(problems))
