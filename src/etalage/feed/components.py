"""Scalable building blocks of Etalage's model: nothing here is dense item×item.

- ``randomized_svd``: low-rank factors of a sparse user×item matrix (Halko et al. 2011), so the
  collaborative component is two n_items×rank tables instead of an n_items² matrix.
- ``cooccurrence_table``: sparse top-k item→item "co-engagement" table (RP3-style random-walk
  weights, Paudel et al. 2017), built block by block from a sparse product.
- ``transition_table``: sparse top-k item→next-item table from ordered histories.
- ``recency_positions`` / ``history_matrix``: how far back each history event is, so recent
  events can weigh more at request time.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from etalage.feed.dataset import Sequences


def randomized_svd(
    a: sp.spmatrix, rank: int, n_iter: int = 4, oversample: int = 16, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Top ``rank`` singular values and right singular vectors (n_cols × rank) of a sparse matrix.

    Power iterations with re-orthonormalisation keep it accurate on the slowly decaying spectra
    of interaction data; cost is a few sparse products plus QRs of tall n×(rank+oversample) blocks.
    """
    rng = np.random.default_rng(seed)
    a = sp.csr_matrix(a, dtype=np.float32)
    at = sp.csr_matrix(a.T)
    k = min(rank + oversample, min(a.shape))
    q, _ = np.linalg.qr(a @ rng.standard_normal((a.shape[1], k)).astype(np.float32))
    for _ in range(n_iter):
        z, _ = np.linalg.qr(at @ q)
        q, _ = np.linalg.qr(a @ z)
    b = np.asarray((at @ q).T)  # k × n_cols, small
    _, s, vt = np.linalg.svd(b, full_matrices=False)
    r = min(rank, len(s))
    return s[:r].astype(np.float32), np.ascontiguousarray(vt[:r].T, dtype=np.float32)


def csr_topk_rows(m: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the k largest entries of each row of a sparse matrix.

    Only rows longer than k are touched, each with one argpartition over its own entries, which
    is far cheaper than sorting all entries when a few popular items have very long rows.
    """
    m = sp.csr_matrix(m)
    m.eliminate_zeros()
    counts = np.diff(m.indptr)
    heavy = np.flatnonzero(counts > k)
    if len(heavy) == 0:
        return m
    keep = np.ones(m.nnz, dtype=bool)
    for r in heavy:
        lo, hi = m.indptr[r], m.indptr[r + 1]
        seg = m.data[lo:hi]
        mask = np.zeros(hi - lo, dtype=bool)
        mask[np.argpartition(-seg, k - 1)[:k]] = True
        keep[lo:hi] = mask
    rows = np.repeat(np.arange(m.shape[0]), counts)
    return sp.csr_matrix((m.data[keep], (rows[keep], m.indices[keep])), shape=m.shape)


def row_entries(m: sp.csr_matrix | sp.csc_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where ``rows``' entries sit in ``m.indices`` / ``m.data`` (a CSC matrix: its columns), row after row,
    and how many each row has: reading a few rows without building a sparse matrix of them (scipy's per-call
    overhead was more than the arithmetic)."""
    lo = m.indptr[rows]
    counts = m.indptr[np.asarray(rows) + 1] - lo
    return np.repeat(lo - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum())), counts


def weighted_rows(
    m: sp.csr_matrix | sp.csc_matrix, rows: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Σ_j weights[j] · m[rows[j]] as (index, value) pairs, an index possibly repeated."""
    take, counts = row_entries(m, rows)
    return m.indices[take], m.data[take].astype(np.float64) * np.repeat(weights, counts)


def cap_history(x: sp.csr_matrix, sequences: Sequences | None, max_len: int) -> sp.csr_matrix:
    """Keep each user's ``max_len`` most recent items: the cost of co-occurrence counting grows
    with the square of a history's length, and very long histories say little per pair anyway."""
    counts = np.diff(x.indptr)
    if counts.max(initial=0) <= max_len:
        return x
    if sequences is None:
        # No order known: keep the first max_len stored entries of long rows.
        keep = (np.arange(x.nnz) - np.repeat(x.indptr[:-1], counts)) < max_len
    else:
        seq_counts = np.diff(sequences.indptr)
        from_end = np.repeat(sequences.indptr[1:], seq_counts) - 1 - np.arange(len(sequences.items))
        recent = from_end < max_len
        users = np.repeat(np.arange(sequences.n_users), seq_counts)
        allowed = sp.csr_matrix(
            (np.ones(int(recent.sum()), dtype=np.float32), (users[recent], sequences.items[recent])),
            shape=x.shape,
        )
        return sp.csr_matrix(x.multiply(allowed > 0))
    rows = np.repeat(np.arange(x.shape[0]), counts)
    return sp.csr_matrix((x.data[keep], (rows[keep], x.indices[keep])), shape=x.shape)


def cooccurrence_table(
    x: sp.csr_matrix, alpha: float = 0.5, beta: float = 0.0, k: int = 200, block: int = 1024
) -> sp.csr_matrix:
    """Item→item co-engagement: W[i, j] = Σ_u P(u|i)^α P(j|u)^α / pop_j^β, top k per row i.

    The two-step random walk (item → users who engaged → their items) damps heavy users and
    very popular items better than raw counts; α < 1 flattens the transition probabilities.
    Rows are history items, so serving sums the rows of what a user engaged with.
    """
    x = sp.csr_matrix(x, dtype=np.float32)
    n_items = x.shape[1]
    user_deg = np.asarray(x.sum(axis=1)).ravel()
    item_deg = np.asarray(x.sum(axis=0)).ravel()
    p_ui = sp.diags(1.0 / np.maximum(user_deg, 1e-12)).astype(np.float32) @ x
    p_iu = sp.diags(1.0 / np.maximum(item_deg, 1e-12)).astype(np.float32) @ sp.csr_matrix(x.T)
    if alpha != 1.0:
        p_ui = p_ui.power(alpha)
        p_iu = p_iu.power(alpha)
    penalty = sp.diags(np.power(np.maximum(item_deg, 1.0), -beta).astype(np.float32))
    p_ui = sp.csr_matrix(p_ui @ penalty)
    p_iu = sp.csr_matrix(p_iu)
    parts = []
    for start in range(0, n_items, block):
        stop = min(n_items, start + block)
        w = sp.csr_matrix(p_iu[start:stop] @ p_ui)
        w.setdiag(0.0)  # an item is not its own recommendation
        parts.append(csr_topk_rows(w, k))
    return sp.csr_matrix(sp.vstack(parts), dtype=np.float32)


def transition_table(
    sequences: Sequences, n_items: int, gaps: int = 3, gap_decay: float = 0.5, k: int = 200
) -> sp.csr_matrix:
    """Item→later-item counts from ordered histories: T[a, b] += gap_decay^(g-1) when b follows a
    by g steps (g ≤ gaps), counted only where b's timestamp is strictly later (ties carry no order).
    """
    items, ts = sequences.items, sequences.timestamps
    users = np.repeat(np.arange(sequences.n_users), np.diff(sequences.indptr))
    rows, cols, vals = [], [], []
    for g in range(1, gaps + 1):
        if len(items) <= g:
            break
        ok = (users[g:] == users[:-g]) & (ts[g:] > ts[:-g])
        rows.append(items[:-g][ok])
        cols.append(items[g:][ok])
        vals.append(np.full(int(ok.sum()), gap_decay ** (g - 1), dtype=np.float32))
    if not rows:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    t = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_items, n_items),
        dtype=np.float32,
    )
    t.setdiag(0.0)
    return csr_topk_rows(t, k)


def recency_positions(users: np.ndarray, timestamps: np.ndarray) -> np.ndarray:
    """How many distinct timestamps back each event is within its user (0 = most recent).

    Input must be grouped by user and sorted by timestamp. Using ranks rather than time gaps
    keeps the decay unit-free (sequence positions and wall-clock times behave alike), and
    events sharing a timestamp share a position, so unordered data gets no recency weighting.
    """
    n = len(users)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    new_user = np.ones(n, dtype=bool)
    new_user[1:] = users[1:] != users[:-1]
    new_time = new_user.copy()
    new_time[1:] |= timestamps[1:] != timestamps[:-1]
    distinct = np.cumsum(new_time)  # running count of distinct (user, timestamp) pairs
    segment = np.cumsum(new_user) - 1
    last_of_segment = np.r_[np.flatnonzero(new_user)[1:], n] - 1
    return (distinct[last_of_segment][segment] - distinct).astype(np.int64)


def history_matrix(sequences: Sequences, users: np.ndarray, n_items: int, decay: float) -> sp.csr_matrix:
    """Rows of recency-weighted histories (weight × decay^position) for a batch of users."""
    lo, hi = sequences.indptr[users], sequences.indptr[users + 1]
    lengths = hi - lo
    idx = np.repeat(lo - np.cumsum(np.r_[0, lengths[:-1]]), lengths) + np.arange(int(lengths.sum()))
    rows = np.repeat(np.arange(len(users)), lengths)
    pos = recency_positions(rows, sequences.timestamps[idx])
    vals = sequences.weights[idx] * np.power(np.float32(decay), pos).astype(np.float32)
    return sp.csr_matrix((vals, (rows, sequences.items[idx])), shape=(len(users), n_items), dtype=np.float32)


def next_item_regression(
    sequences: Sequences,
    basis: np.ndarray,
    decay: float,
    shrink: float,
    chunk: int = 100_000,
) -> np.ndarray:
    """Low-rank "what comes next" model: ridge-regress each event's item on the recency-weighted
    history before it, projected onto the collaborative basis (n_items × rank).

    The full-rank version is an n_items² matrix (the transition part of SLIST, Choi et al. 2021);
    projecting the history keeps it to a rank × n_items table: score = (history · basis) @ table.
    The prefix of an event is every event of the user with an earlier timestamp, weighted
    decay^(distinct timestamps back − 1) exactly as ``history_matrix`` weights a live history; it
    is computed as a running exponential sum over timestamp groups, so cost is O(events × rank).
    """
    items, ts, w = sequences.items, sequences.timestamps, sequences.weights
    n_items, rank = basis.shape
    users = np.repeat(np.arange(sequences.n_users), np.diff(sequences.indptr))
    gram = np.zeros((rank, rank), dtype=np.float64)
    cross = np.zeros((n_items, rank), dtype=np.float64)  # Yᵀ (H·basis)
    if len(items) == 0:
        return np.zeros((rank, n_items), dtype=np.float32)
    # group position = how many distinct timestamps precede the event within its user
    group_pos = recency_positions(users[::-1], -ts[::-1])[::-1]
    order = np.argsort(group_pos, kind="stable")  # by position, then (user, ts) as stored
    bounds = np.searchsorted(group_pos[order], np.arange(group_pos.max() + 2))
    state = np.zeros((sequences.n_users, rank), dtype=np.float32)
    pending_proj: list[np.ndarray] = []
    pending_ev: list[np.ndarray] = []
    pending = 0

    def flush() -> None:
        nonlocal gram, cross, pending
        proj, ev = np.vstack(pending_proj), np.concatenate(pending_ev)
        gram += proj.T @ proj  # float32 BLAS; accumulated across chunks in float64
        y = sp.csr_matrix((w[ev], (items[ev], np.arange(len(ev)))), shape=(n_items, len(ev)))
        cross += y @ proj
        pending_proj.clear()
        pending_ev.clear()
        pending = 0

    for p in range(len(bounds) - 1):
        ev = order[bounds[p] : bounds[p + 1]]
        if len(ev) == 0:
            break
        us = users[ev]
        if p > 0:
            pending_proj.append(state[us])
            pending_ev.append(ev)
            pending += len(ev)
        # fold this timestamp group into each user's running sum (ties share one group)
        first = np.r_[True, us[1:] != us[:-1]]
        contrib = np.add.reduceat(w[ev, None] * basis[items[ev]], np.flatnonzero(first), axis=0)
        uniq = us[first]
        state[uniq] = np.float32(decay) * state[uniq] + contrib
        if pending >= chunk:
            flush()
    if pending:
        flush()
    if not gram.any():
        return np.zeros((rank, n_items), dtype=np.float32)
    lam = shrink * float(np.trace(gram)) / rank
    table = np.linalg.solve(gram + lam * np.eye(rank), cross.T)
    return table.astype(np.float32)
