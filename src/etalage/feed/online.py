"""Online learning for EtalageModel: new items and new events without a full refit.

What changes immediately: popularity / impression counters (and so the prior and engagement
rates, with optional exponential fading for "trending"), co-engagement and next-item pair counts
(kept in separate "online" sparse tables added at scoring time), and embeddings of items that had
no interactions at fit time (folded in from the items they were co-engaged with, or mapped from
their content vector). The low-rank factors of fitted items stay fixed until the next refit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from etalage.feed.model import EtalageModel

MAX_TRACKED_USERS = 200_000  # bound on the per-user recent-items buffer (LRU)


def _grow_square(m: sp.csr_matrix, n: int) -> sp.csr_matrix:
    m = sp.csr_matrix(m)
    m.resize((n, n))
    return m


def add_items(model: EtalageModel, item_ids: Sequence[str], features: np.ndarray | None = None) -> np.ndarray:
    """Append unknown items (known ones are left alone); returns indices of all ``item_ids``.

    ``features`` (len(item_ids) × d) are content vectors; for items without interactions the
    collaborative embedding is then predicted from content (cold start).
    """
    ids = [str(i) for i in item_ids]
    fresh = [i for i in dict.fromkeys(ids) if i not in model._index]
    if features is not None:
        features = np.asarray(features, dtype=np.float32)
        if features.shape[0] != len(ids):
            raise ValueError(f"features has {features.shape[0]} rows for {len(ids)} item ids")
    if fresh:
        old_n, n = model.n_items, model.n_items + len(fresh)
        for i in fresh:
            model._index[i] = len(model.item_ids)
            model.item_ids.append(i)
        model.pos_counts = np.r_[model.pos_counts, np.zeros(len(fresh))]
        model.shown_counts = np.r_[model.shown_counts, np.zeros(len(fresh))]
        rank = model.item_factors.shape[1]
        model.item_factors = np.vstack([model.item_factors, np.zeros((len(fresh), rank), np.float32)])
        model.flow = np.hstack([model.flow, np.zeros((model.flow.shape[0], len(fresh)), np.float32)])
        for name in ("coeng", "sequel", "coeng_online", "sequel_online"):
            setattr(model, name, _grow_square(getattr(model, name), n))
        if model.content is not None:
            model.content = np.vstack(
                [model.content, np.zeros((n - old_n, model.content.shape[1]), np.float32)]
            )
    if features is not None:
        idx = np.array([model._index[i] for i in ids])
        if model.content is None:
            model.content = np.zeros((model.n_items, features.shape[1]), np.float32)
        if features.shape[1] != model.content.shape[1]:
            raise ValueError(
                f"features have {features.shape[1]} dims, model content has {model.content.shape[1]}"
            )
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        model.content[idx] = np.divide(features, norms, out=np.zeros_like(features), where=norms > 0)
    if fresh or features is not None:
        model._refresh()
    return np.array([model._index[i] for i in ids], dtype=np.int64)


def partial_fit(model: EtalageModel, events: Iterable[tuple[str, str, str, float]]) -> dict[str, int]:
    """Update counters and online pair tables from (user_id, item_id, event, timestamp) rows.

    Events are applied in timestamp order. Every event counts as an impression; events with a
    positive weight also count as engagement and pair up with the user's recent engaged items.
    """
    cfg = model.config
    rows = sorted(events, key=lambda e: float(e[3]))
    if not rows:
        return {"events": 0, "new_items": 0, "pairs": 0}
    before = model.n_items
    idx = add_items(model, [r[1] for r in rows])
    t_new = max(float(r[3]) for r in rows)
    if cfg.trend_half_life:
        # Fade existing counts to "now" so the prior tracks what is trending, not all-time hits.
        fade = 0.5 ** (max(t_new - model.last_event_time, 0.0) / cfg.trend_half_life)
        model.pos_counts *= fade
        model.shown_counts *= fade
    co_r, co_c, co_v, sq_r, sq_c, sq_v = [], [], [], [], [], []
    for (user, _item, event, ts), i in zip(rows, idx, strict=True):
        w = float(cfg.event_weights.get(event, 0.0))
        age = 0.5 ** (max(t_new - float(ts), 0.0) / cfg.trend_half_life) if cfg.trend_half_life else 1.0
        model.shown_counts[i] += age
        if w <= 0:
            continue
        model.pos_counts[i] += w * age
        model.shown_counts[i] = max(model.shown_counts[i], model.pos_counts[i])
        recent = model._recent.pop(str(user), [])
        deg_u = len(recent) + 1
        for h, hw, _hts in recent:
            if h == i:
                continue
            # one user's contribution to the random-walk weights, in both directions
            a = cfg.coeng_alpha
            co_r += [h, i]
            co_c += [i, h]
            co_v += [
                hw * w * (1 / max(model.pos_counts[h], 1.0)) ** a * (1 / deg_u) ** a,
                hw * w * (1 / max(model.pos_counts[i], 1.0)) ** a * (1 / deg_u) ** a,
            ]
        earlier = [(h, hts) for h, _, hts in recent if hts < float(ts) and h != i]
        for g, (h, _hts) in enumerate(reversed(earlier[-cfg.seq_gaps :])):
            sq_r.append(h)
            sq_c.append(i)
            sq_v.append(cfg.seq_gap_decay**g)
        recent.append((int(i), w, float(ts)))
        model._recent[str(user)] = recent[-cfg.online_window :]
        while len(model._recent) > MAX_TRACKED_USERS:
            model._recent.popitem(last=False)
    n = model.n_items
    if co_r:
        model.coeng_online = model.coeng_online + sp.csr_matrix(
            (np.array(co_v, np.float32), (co_r, co_c)), shape=(n, n)
        )
    if sq_r:
        model.sequel_online = model.sequel_online + sp.csr_matrix(
            (np.array(sq_v, np.float32), (sq_r, sq_c)), shape=(n, n)
        )
        model.ordered = True
    _fold_in_new_items(
        model, np.unique(np.r_[co_r, co_c]).astype(np.int64) if co_r else np.zeros(0, np.int64)
    )
    model.last_event_time = max(model.last_event_time, t_new)
    model._refresh()
    return {"events": len(rows), "new_items": model.n_items - before, "pairs": len(co_r) // 2}


def _fold_in_new_items(model: EtalageModel, touched: np.ndarray) -> None:
    """Embed items unseen at fit time as the co-engagement-weighted mean of their neighbours'
    embeddings, so they can surface through the collaborative component too."""
    new = touched[touched >= model.fitted_items]
    if len(new) == 0:
        return
    rows = model.coeng_online[new]
    known = sp.diags((np.arange(model.n_items) < model.fitted_items).astype(np.float32))
    rows = sp.csr_matrix(rows @ known)
    mass = np.asarray(rows.sum(axis=1)).ravel()
    emb = np.asarray(rows @ model.item_factors)
    ok = mass > 0
    model.item_factors[new[ok]] = emb[ok] / mass[ok, None]
