"""Etalage's own recommender: the model the offline benchmark measures AND the live feed serves.

A user is represented only by their history at request time (no per-user parameters), so a new
interaction changes the next page immediately and new users need no refit. Item-side state:

- ``prior``   per-item popularity / Bayesian engagement rate (positives ÷ shown, when negatives
              exist) / trend counters — what to show with no history, and a quality signal.
- ``collab``  low-rank collaborative filter: ridge regression of the interaction matrix on itself
              restricted to its top singular subspace (a scalable stand-in for EASE), with item
              columns popularity-normalised. Two n_items×rank tables; ~1.5 ms per request at 100k×64
              including every other component (see ``etalage feed bench``).
- ``coeng``   sparse top-k item→item co-engagement table (random-walk weights).
- ``sequel``  sparse top-k item→next-item table learned from ordered histories.
- ``flow``    low-rank next-item regression: the recency-weighted history, projected on the
              collab basis, regressed on the item that came next (ordered data only).
- ``content`` optional item feature vectors (captions/hashtags), for cold items and taste match.

Each component's scores are standardised over the catalogue per request, then blended with
weights tuned on the valid split. Everything is linear in the history, which is what makes the
``explain`` breakdown ("because you watched X") exact.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from etalage.feed.components import (
    cap_history,
    cooccurrence_table,
    history_matrix,
    next_item_regression,
    randomized_svd,
    recency_positions,
    transition_table,
)
from etalage.feed.dataset import DEFAULT_EVENT_WEIGHTS, Sequences, TrainView
from etalage.feed.scoring import blend_one_at, blend_scores, build_dense_tables

COMPONENTS = ("prior", "collab", "coeng", "sequel", "flow", "content")
REASONS = {
    "prior": "popular right now",
    "collab": "matches your taste",
    "coeng": "people who engaged with {item} also engaged with this",
    "sequel": "often watched next after {item}",
    "flow": "where your recent viewing is heading",
    "content": "similar to {item}",
}


@dataclass
class EtalageConfig:
    rank: int = 128  # low-rank dimensions
    pop_beta: float = 0.25  # column normalisation pop^-β before the SVD (de-biases towards niche)
    shrink: float = 0.05  # ridge λ relative to the largest squared singular value
    coeng_alpha: float = 0.5
    coeng_beta: float = 0.0
    coeng_k: int = 200  # neighbours kept per item
    seq_gaps: int = 3  # count b after a when it is up to this many steps later
    seq_gap_decay: float = 0.5
    seq_k: int = 200
    flow_shrink: float = 0.01  # ridge λ of the next-item regression, relative to its mean eigenvalue
    decay: float = 0.8  # recency decay per step back, for collab/coeng/content history weights
    seq_decay: float = 0.5  # steeper recency for the next-item component
    rate_weight: float = 0.5  # share of engagement rate vs log-popularity in the prior
    rate_strength: float = 10.0  # Bayesian pseudo-impressions shrinking rates to the global mean
    trend_half_life: float | None = None  # in timestamp units; None = counts never fade
    max_history: int = 500  # per-user cap when counting co-occurrences
    online_window: int = 20  # recent items remembered per user for online pair updates
    weights: dict[str, float] = field(
        default_factory=lambda: {
            "prior": 0.3,
            "collab": 1.0,
            "coeng": 0.5,
            "sequel": 0.5,
            "flow": 0.5,
            "content": 0.5,
        }
    )
    event_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS))
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EtalageConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def zscore_rows(s: np.ndarray) -> np.ndarray:
    """Standardise each row; a constant row (no signal) becomes all zeros."""
    mean = s.mean(axis=1, keepdims=True)
    std = s.std(axis=1, keepdims=True)
    return np.divide(s - mean, std, out=np.zeros_like(s), where=std > 1e-12)


class EtalageModel:
    """Fit offline, serve from request-time histories, update online, snapshot to disk."""

    def __init__(self, config: EtalageConfig | None = None) -> None:
        self.config = config or EtalageConfig()
        self.item_ids: list[str] = []
        self._index: dict[str, int] = {}
        self.fit_seconds = 0.0
        self.metadata: dict[str, Any] = {}
        # user id -> recent (item, weight, timestamp) engaged events, for online pair counting only
        self._recent: OrderedDict[str, list[tuple[int, float, float]]] = OrderedDict()

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        train: TrainView,
        item_ids: Sequence[str] | None = None,
        item_features: np.ndarray | None = None,
    ) -> EtalageModel:
        """Learn every item-side table from a TrainView (see ``dataset.InteractionData``)."""
        t0 = time.perf_counter()
        cfg = self.config
        n = train.n_items
        self.item_ids = [str(i) for i in item_ids] if item_ids is not None else [str(i) for i in range(n)]
        if len(self.item_ids) != n:
            raise ValueError(f"{len(self.item_ids)} item ids for {n} items")
        self._index = {s: i for i, s in enumerate(self.item_ids)}
        x = sp.csr_matrix(train.weights, dtype=np.float32)

        # prior counters: positive weight and impressions (any row) per item
        self.pos_counts = np.asarray(x.sum(axis=0)).ravel().astype(np.float64)
        self.shown_counts = np.asarray(train.exposure.sum(axis=0)).ravel().astype(np.float64)
        self.shown_counts = np.maximum(self.shown_counts, self.pos_counts)
        self.has_negatives = bool(train.negatives.nnz > 0)
        self.last_event_time = float(train.sequences.timestamps.max(initial=0))

        # collab: truncated SVD of the popularity-normalised matrix
        self.col_scale = np.power(np.maximum(self.pos_counts, 1.0), -cfg.pop_beta).astype(np.float32)
        rank = max(1, min(cfg.rank, min(x.shape) - 1))
        self.singular, self.item_factors = randomized_svd(x @ sp.diags(self.col_scale), rank, seed=cfg.seed)

        capped = cap_history(x, train.sequences, cfg.max_history)
        self.coeng = cooccurrence_table(capped, cfg.coeng_alpha, cfg.coeng_beta, cfg.coeng_k)
        self.sequel = transition_table(train.sequences, n, cfg.seq_gaps, cfg.seq_gap_decay, cfg.seq_k)
        self.ordered = bool(train.ordered and self.sequel.nnz > 0)
        if self.ordered:
            self.flow = next_item_regression(train.sequences, self.item_factors, cfg.decay, cfg.flow_shrink)
        else:
            self.flow = np.zeros((self.item_factors.shape[1], n), dtype=np.float32)
        self.coeng_online = sp.csr_matrix((n, n), dtype=np.float32)
        self.sequel_online = sp.csr_matrix((n, n), dtype=np.float32)
        self.fitted_items = n

        self.content: np.ndarray | None = None
        self.content_map: np.ndarray | None = None
        if item_features is not None:
            self.set_item_features(item_features)
        self._refresh()
        self.fit_seconds = time.perf_counter() - t0
        return self

    def set_item_features(self, features: np.ndarray) -> None:
        """Attach content vectors (n_items × d) and learn content → collaborative embedding.

        The map is a ridge regression fit on items that have interactions; items without any get
        their collaborative embedding from content alone (cold start).
        """
        f = np.asarray(features, dtype=np.float32)
        if f.shape[0] != self.n_items:
            raise ValueError(f"item_features has {f.shape[0]} rows for {self.n_items} items")
        norms = np.linalg.norm(f, axis=1, keepdims=True)
        self.content = np.divide(f, norms, out=np.zeros_like(f), where=norms > 0)
        warm = (self.pos_counts > 0) & (norms.ravel() > 0)
        if warm.sum() >= 2:
            a = self.content[warm]
            gram = a.T @ a + 1e-1 * np.eye(a.shape[1], dtype=np.float32)
            self.content_map = np.linalg.solve(gram, a.T @ self.item_factors[warm]).astype(np.float32)
        self._refresh()

    def _refresh(self) -> None:
        """Recompute derived tables after counts, factors or items change."""
        cfg = self.config
        s2 = self.singular.astype(np.float64) ** 2
        lam = cfg.shrink * (s2.max() if len(s2) else 1.0)
        self.factor_weight = (s2 / (s2 + lam)).astype(np.float32)
        right = self.item_factors.copy()
        cold = self.pos_counts <= 0
        if self.content is not None and self.content_map is not None and cold.any():
            right[cold] = self.content[cold] @ self.content_map
        self.right = right
        # history side: column scale × right factors × ridge shrinkage
        # fitted items keep the scale the SVD saw; items added later get it from their counts
        scale = np.power(np.maximum(self.pos_counts, 1.0), -cfg.pop_beta).astype(np.float32)
        scale[: self.fitted_items] = self.col_scale
        self.left = (right * scale[:, None]) * self.factor_weight[None, :]
        self.prior_z = self._prior()
        self.dense_tables = build_dense_tables(self)

    def _prior(self) -> np.ndarray:
        cfg = self.config
        pop = np.log1p(np.maximum(self.pos_counts, 0.0))
        prior = _zscore(pop)
        if self.has_negatives and cfg.rate_weight > 0:
            glob = self.pos_counts.sum() / max(self.shown_counts.sum(), 1e-12)
            rate = (self.pos_counts + cfg.rate_strength * glob) / (self.shown_counts + cfg.rate_strength)
            prior = (1 - cfg.rate_weight) * prior + cfg.rate_weight * _zscore(np.log(np.maximum(rate, 1e-12)))
        return _zscore(prior).astype(np.float32)

    # ------------------------------------------------------------------ scoring
    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def item_index(self, item_id: str) -> int:
        return self._index[str(item_id)]

    def item_indices(self, item_ids: Iterable[str]) -> np.ndarray:
        """Dense indices for ids; unknown ids map to -1, which scoring ignores."""
        return np.array([self._index.get(str(i), -1) for i in item_ids], dtype=np.int64)

    def component_scores(
        self, hist: sp.csr_matrix, hist_seq: sp.csr_matrix, components: Iterable[str] | None = None
    ) -> dict[str, np.ndarray]:
        """Raw (unstandardised) scores per component for a batch of weighted histories."""
        w = self.config.weights
        wanted = set(components) if components is not None else {c for c in COMPONENTS if w.get(c, 0)}
        out: dict[str, np.ndarray] = {}
        if "collab" in wanted:
            out["collab"] = np.asarray(hist @ self.left) @ self.right.T
        if "coeng" in wanted:
            out["coeng"] = self.sparse_product("coeng", hist).toarray()
        if "sequel" in wanted and self.ordered:
            out["sequel"] = self.sparse_product("sequel", hist_seq).toarray()
        if "flow" in wanted and self.ordered:
            out["flow"] = np.asarray(hist @ self.item_factors) @ self.flow
        if "content" in wanted and self.content is not None:
            out["content"] = np.asarray(hist @ self.content) @ self.content.T
        return out

    def sparse_product(self, name: str, hist: sp.csr_matrix) -> sp.csr_matrix:
        """hist @ (fitted table + online increments), without ever adding the two big tables
        (that would cost O(nnz) per online update)."""
        base, online = (
            (self.coeng, self.coeng_online) if name == "coeng" else (self.sequel, self.sequel_online)
        )
        out = sp.csr_matrix(hist @ base)
        return out + sp.csr_matrix(hist @ online) if online.nnz else out

    def score_users(self, sequences: Sequences, users: np.ndarray) -> np.ndarray:
        """Batch scoring from stored histories (the offline evaluation path)."""
        users = np.asarray(users)
        hist = history_matrix(sequences, users, self.n_items, self.config.decay)
        hist_seq = history_matrix(sequences, users, self.n_items, self.config.seq_decay)
        return blend_scores(self, hist, hist_seq)

    def _history_vectors(
        self, items: np.ndarray, weights: np.ndarray | None, order: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One history as (distinct items, their summed weights decayed by recency, the same by the
        sequence decay)."""
        items = np.asarray(items, dtype=np.int64)
        w = np.ones(len(items), np.float32) if weights is None else np.asarray(weights, np.float32)
        t = np.zeros(len(items), np.int64) if order is None else np.asarray(order)
        srt = np.argsort(t, kind="stable")
        pos = np.empty(len(items), np.int64)
        pos[srt] = recency_positions(np.zeros(len(items), np.int64), t[srt])
        keep = (items >= 0) & (items < self.n_items)
        cols, inv = np.unique(items[keep], return_inverse=True)

        def decayed(decay: float) -> np.ndarray:
            # repeated items summed with bincount (the COO route's conversion was a visible share of a page)
            vals = (w * np.power(np.float32(decay), pos).astype(np.float32))[keep]
            return np.bincount(inv, weights=vals, minlength=len(cols)).astype(np.float32)

        return cols, decayed(self.config.decay), decayed(self.config.seq_decay)

    def _history_rows(
        self, items: np.ndarray, weights: np.ndarray | None, order: np.ndarray | None
    ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        cols, vals, seq_vals = self._history_vectors(items, weights, order)
        indptr = np.array([0, len(cols)])
        return (sp.csr_matrix((vals, cols, indptr), shape=(1, self.n_items)),
                sp.csr_matrix((seq_vals, cols, indptr), shape=(1, self.n_items)))  # fmt: skip

    def score_history(
        self,
        item_indices: Sequence[int] | np.ndarray,
        weights: Sequence[float] | np.ndarray | None = None,
        timestamps: Sequence[float] | np.ndarray | None = None,
    ) -> np.ndarray:
        """Scores over all items for one user's history, computed at request time.

        ``item_indices``: dense item indices (``item_index(id)``) of past events; ``weights``:
        event weights (e.g. 1 for a positive, 0.5 for a cart, 0 to ignore); ``timestamps``: any
        increasing numbers (times or positions) giving the order, None if unknown. Empty history →
        the prior alone. The caller removes items it must not show (already seen, out of stock).
        """
        hist, hist_seq = self._history_rows(np.asarray(item_indices), weights, timestamps)
        return blend_scores(self, hist, hist_seq)[0]

    def score_history_at(
        self,
        cols: np.ndarray,
        item_indices: np.ndarray,
        weights: np.ndarray | None,
        timestamps: np.ndarray | None,
        sample_step: int = 0,
    ) -> np.ndarray:
        """``score_history(...)[cols]`` without scoring the rest of the catalogue (the serving path); with
        ``sample_step``, preceded by the scores of items ``0, sample_step, 2·sample_step, …``."""
        rows, vals, seq_vals = self._history_vectors(np.asarray(item_indices), weights, timestamps)
        return blend_one_at(self, rows, vals, seq_vals, np.asarray(cols, np.int64), sample_step)

    def recommend(
        self,
        item_indices: Sequence[int] | np.ndarray,
        weights: Sequence[float] | np.ndarray | None = None,
        timestamps: Sequence[float] | np.ndarray | None = None,
        k: int = 20,
        exclude: Sequence[int] | np.ndarray | None = None,
    ) -> list[tuple[str, float]]:
        """Top-k (item_id, score), excluding ``exclude`` (defaults to the history itself)."""
        scores = self.score_history(item_indices, weights, timestamps)
        ex = np.asarray(item_indices if exclude is None else exclude, dtype=np.int64)
        scores[ex[(ex >= 0) & (ex < self.n_items)]] = -np.inf
        k = min(k, self.n_items)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.item_ids[i], float(scores[i])) for i in top if np.isfinite(scores[i])]

    def explain(
        self,
        item_indices: Sequence[int] | np.ndarray,
        item: int,
        weights: Sequence[float] | np.ndarray | None = None,
        timestamps: Sequence[float] | np.ndarray | None = None,
        top: int = 3,
    ) -> dict[str, Any]:
        """Why ``item`` scores what it does for this history: per-component contributions that
        sum to ``score_history(...)[item]`` and the top reasons in words (see ``explain.py``)."""
        from etalage.feed.explain import explain_item

        return explain_item(self, np.asarray(item_indices), int(item), weights, timestamps, top)

    # ------------------------------------------------------------------ online updates
    def add_items(self, item_ids: Sequence[str], features: np.ndarray | None = None) -> np.ndarray:
        """Append unseen items (idempotent); returns their indices. Features enable cold start."""
        from etalage.feed.online import add_items

        return add_items(self, item_ids, features)

    def partial_fit(self, events: Iterable[tuple[str, str, str, float]]) -> dict[str, int]:
        """Learn from a batch of (user_id, item_id, event, timestamp) without a refit."""
        from etalage.feed.online import partial_fit

        return partial_fit(self, events)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str, evaluation: dict[str, Any] | None = None) -> str:
        from etalage.feed.snapshot import save_model

        return save_model(self, path, evaluation)

    @classmethod
    def load(cls, path: str) -> EtalageModel:
        from etalage.feed.snapshot import load_model

        return load_model(path)


def _zscore(v: np.ndarray) -> np.ndarray:
    std = v.std()
    return (v - v.mean()) / std if std > 1e-12 else np.zeros_like(v)
