"""The online engine's only window onto ``EtalageModel`` (owned by the model engineer).

Besides the public API (``score_history``, ``explain``, ``partial_fit``, ``add_items``, ``item_indices``,
``sparse_product``) the engine needs the learned item embeddings for its nearest-neighbour source and a
safe way to learn online while requests read the model. Both depend on attributes documented in
``docs/FEED_MODEL.md`` (``left``/``right``: the two n_items × rank tables, score = (h·L)·Rᵀ); if the model
changes shape, this module is the one place to follow it, and ``tests/feed/test_modelview.py`` says so.
"""

from __future__ import annotations

import copy
import logging
from collections import OrderedDict
from typing import Any

import numpy as np
import scipy.sparse as sp

log = logging.getLogger("etalage.feed")

# Our interaction events -> the model's event names (weights in its config: positive 1, cart 0.5,
# purchase 1, negative 0 = shown but not engaged).
MODEL_EVENT = {"impression": "negative", "view_complete": "positive", "view_half": "positive", "like": "positive",
               "share": "positive", "comment": "positive", "product_click": "positive", "add_to_cart": "cart",
               "purchase": "purchase"}  # fmt: skip
# Arrays that partial_fit / add_items change in place: a serving copy must not share them.
_MUTATED_IN_PLACE = ("pos_counts", "shown_counts", "item_factors", "content")


def item_embeddings(model: Any) -> np.ndarray | None:
    right = getattr(model, "right", None)
    return np.asarray(right, dtype=np.float32) if right is not None else None


def user_query(model: Any, model_items: np.ndarray, weights: np.ndarray) -> np.ndarray | None:
    """The viewer's point in embedding space: Σ weight · L[item] over their history."""
    left = getattr(model, "left", None)
    keep = (model_items >= 0) & (model_items < (0 if left is None else left.shape[0]))
    if left is None or not keep.any():
        return None
    return (np.asarray(weights, np.float32)[keep, None] * left[model_items[keep]]).sum(axis=0)


def _row(table: Any, i: int) -> tuple[np.ndarray, np.ndarray]:
    if i >= table.shape[0]:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    if getattr(table, "format", None) != "csr":  # not expected; correct, only slower
        table, i = sp.csr_matrix(table.getrow(i)), 0
    lo, hi = table.indptr[i], table.indptr[i + 1]
    return table.indices[lo:hi].astype(np.int64), table.data[lo:hi].astype(np.float32)


def coengaged(model: Any, seed: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Items most co-engaged with model item ``seed`` (fitted table plus online increments), read straight
    from the tables' rows (a sparse product per seed cost ~1 ms of scipy overhead on every page)."""
    base, online = getattr(model, "coeng", None), getattr(model, "coeng_online", None)
    if base is None or seed < 0 or seed >= model.n_items:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    idx, vals = _row(base, seed)
    if online is not None and online.nnz:
        more_idx, more_vals = _row(online, seed)
        if len(more_idx):
            idx, inverse = np.unique(np.concatenate([idx, more_idx]), return_inverse=True)
            vals = np.bincount(inverse, np.concatenate([vals, more_vals]), len(idx)).astype(np.float32)
    if len(idx) > k:
        top = np.argpartition(-vals, k - 1)[:k]
        idx, vals = idx[top], vals[top]
    return idx, vals


def serving_copy(model: Any) -> Any:
    """A copy that keeps serving unchanged while the original learns (partial_fit, add_items).

    Big tables are shared: the model replaces them with new objects when it changes them; the few
    arrays it updates in place are copied (tens of ms at 100k items, not the 200+ MB of the tables).
    """
    clone = copy.copy(model)
    for name in _MUTATED_IN_PLACE:
        value = getattr(model, name, None)
        if isinstance(value, np.ndarray):
            setattr(clone, name, value.copy())
    clone.item_ids = list(model.item_ids)
    clone._index = dict(model._index)
    clone._recent = OrderedDict()  # the per-user pairing buffer belongs to the learning copy only
    return clone


def model_events(rows: list[tuple[str, str, str, float]]) -> list[tuple[str, str, str, float]]:
    """(user, item, our event kind, ts seconds) -> the model's event names; unknown kinds are dropped."""
    return [(u, i, MODEL_EVENT[k], t) for u, i, k, t in rows if k in MODEL_EVENT]
