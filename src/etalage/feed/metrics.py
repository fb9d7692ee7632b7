"""Ranking metrics of the shared evaluation protocol, vectorised over batches of users.

Protocol (data README): for every user with at least one relevant held-out row, rank ALL items
except those the user has any train row for; Recall@K = hits / #relevant; NDCG@K with binary gains
normalised by the ideal DCG over min(#relevant, K); per-user AUC of relevant vs negative held-out
items (ties count 0.5) averaged over users having both; Coverage@K = share of all items that appear
in at least one user's top K.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

ScoreFn = Callable[[np.ndarray], np.ndarray]
"""Maps a batch of user indices to a dense (batch × n_items) float score matrix."""


@dataclass(frozen=True)
class EvalTarget:
    """Ground truth for one evaluation split."""

    relevant: sp.csr_matrix  # users × items, 1 = relevant held-out row
    exclude: sp.csr_matrix  # users × items, nonzero = never ranked (the user's train rows)
    negative: sp.csr_matrix | None = None  # users × items, 1 = shown and not engaged
    name: str = "test"

    @property
    def users(self) -> np.ndarray:
        return np.flatnonzero(np.diff(self.relevant.indptr) > 0)

    @property
    def n_items(self) -> int:
        return self.relevant.shape[1]

    @property
    def has_negatives(self) -> bool:
        return self.negative is not None and self.negative.nnz > 0


@dataclass
class EvalResult:
    recall: dict[int, float]
    ndcg: dict[int, float]
    coverage: float
    coverage_k: int
    auc: float | None
    n_users: int
    n_auc_users: int
    per_user_ndcg: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, float | int | None]:
        out: dict[str, float | int | None] = {}
        for k, v in sorted(self.recall.items()):
            out[f"recall@{k}"] = v
        for k, v in sorted(self.ndcg.items()):
            out[f"ndcg@{k}"] = v
        out[f"coverage@{self.coverage_k}"] = self.coverage
        out["auc"] = self.auc
        out["n_users"] = self.n_users
        out["n_auc_users"] = self.n_auc_users
        return out


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best scores per row, best first (argpartition, then sort only k)."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def hit_matrix(top: np.ndarray, users: np.ndarray, relevant: sp.csr_matrix) -> np.ndarray:
    """Boolean (batch × k): is top[b, r] a relevant item of users[b]?

    Done with sorted (row, item) keys and np.isin so no dense relevance matrix is built.
    """
    n_items = relevant.shape[1]
    sub = relevant[users]
    rel_keys = np.repeat(np.arange(len(users), dtype=np.int64), np.diff(sub.indptr)) * n_items
    rel_keys += sub.indices
    top_keys = np.arange(len(users), dtype=np.int64)[:, None] * n_items + top
    return np.isin(top_keys, rel_keys)


def recall_ndcg(
    hits: np.ndarray, n_relevant: np.ndarray, ks: Sequence[int]
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Per-user Recall@K and NDCG@K from a best-first hit matrix."""
    kmax = hits.shape[1]
    discount = 1.0 / np.log2(np.arange(2, kmax + 2))
    ideal = np.cumsum(discount)
    recall, ndcg = {}, {}
    for k in ks:
        kk = min(k, kmax)
        h = hits[:, :kk]
        recall[k] = h.sum(axis=1) / n_relevant
        dcg = (h * discount[:kk]).sum(axis=1)
        ndcg[k] = dcg / ideal[np.minimum(n_relevant, kk) - 1]
    return recall, ndcg


def auc_of(pos_scores: np.ndarray, neg_scores: np.ndarray) -> float:
    """P(relevant scored above negative), ties 0.5, via sorted negatives and binary search."""
    neg = np.sort(neg_scores)
    below = np.searchsorted(neg, pos_scores, side="left")
    below_or_tied = np.searchsorted(neg, pos_scores, side="right")
    return float((below + 0.5 * (below_or_tied - below)).sum() / (len(pos_scores) * len(neg)))


def evaluate_scores(
    score_fn: ScoreFn,
    target: EvalTarget,
    ks: Sequence[int] = (10, 20, 50),
    coverage_k: int = 20,
    batch_size: int = 512,
    users: np.ndarray | None = None,
) -> EvalResult:
    """Run the protocol for every target user (or ``users``) in batches."""
    ks = sorted(set(ks))
    users = target.users if users is None else np.asarray(users)
    kmax = max(max(ks), coverage_k)
    n_rel_all = np.diff(target.relevant.indptr)
    recall_parts: dict[int, list[np.ndarray]] = {k: [] for k in ks}
    ndcg_parts: dict[int, list[np.ndarray]] = {k: [] for k in ks}
    covered = np.zeros(target.n_items, dtype=bool)
    aucs: list[float] = []
    for start in range(0, len(users), batch_size):
        batch = users[start : start + batch_size]
        scores = np.array(score_fn(batch), copy=True)
        if not np.issubdtype(scores.dtype, np.floating):
            scores = scores.astype(np.float64)
        if scores.shape != (len(batch), target.n_items):
            raise ValueError(
                f"score_fn returned shape {scores.shape}, expected {(len(batch), target.n_items)}"
            )
        if target.has_negatives:
            aucs.extend(_batch_auc(scores, batch, target))
        ex = target.exclude[batch].tocoo()
        scores[ex.row, ex.col] = -np.inf
        top = top_k(scores, kmax)
        covered[top[:, :coverage_k].ravel()] = True
        hits = hit_matrix(top, batch, target.relevant)
        rec, nd = recall_ndcg(hits, n_rel_all[batch], ks)
        for k in ks:
            recall_parts[k].append(rec[k])
            ndcg_parts[k].append(nd[k])
    per_user = {k: np.concatenate(ndcg_parts[k]) if ndcg_parts[k] else np.zeros(0) for k in ks}
    return EvalResult(
        recall={k: float(np.concatenate(recall_parts[k]).mean()) if len(users) else 0.0 for k in ks},
        ndcg={k: float(per_user[k].mean()) if len(users) else 0.0 for k in ks},
        coverage=float(covered.mean()),
        coverage_k=coverage_k,
        auc=float(np.mean(aucs)) if aucs else None,
        n_users=len(users),
        n_auc_users=len(aucs),
        per_user_ndcg=per_user,
    )


def _batch_auc(scores: np.ndarray, batch: np.ndarray, target: EvalTarget) -> list[float]:
    out = []
    rel, neg = target.relevant, target.negative
    assert neg is not None
    for b, u in enumerate(batch):
        p = rel.indices[rel.indptr[u] : rel.indptr[u + 1]]
        n = neg.indices[neg.indptr[u] : neg.indptr[u + 1]]
        if len(p) and len(n):
            out.append(auc_of(scores[b, p], scores[b, n]))
    return out
