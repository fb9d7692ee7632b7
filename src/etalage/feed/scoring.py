"""Fast blend of standardised component scores: one matrix product per request.

The blend standardises each component over the whole catalogue (z = (s − mean) / std) before
weighting. Done naively that is a dense pass per component; instead:

- dense low-rank components (collab, flow, content) have scores s = T·u for a fixed item table T,
  so mean = m·u and var = uᵀCu with the table's column means m and covariance C precomputed;
  their weighted z-scores fold into ONE product [T_collab | T_flow | T_content] · [a; b; c].
- sparse components (coeng, sequel) have few non-zeros: their mean and variance come from the
  non-zeros alone, and only those entries are touched.

Per request that is one read of the stacked item table (the memory-bandwidth floor) plus work
proportional to the history's neighbour lists. The serving path (one history, scores wanted at a few
thousand items) is ``blend_one_at``: the same sums on plain arrays, as scipy's per-call overhead on a
one-row matrix cost more than the arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from etalage.feed.components import weighted_rows

if TYPE_CHECKING:
    from etalage.feed.model import EtalageModel

DENSE = ("collab", "flow", "content")
SPARSE = ("coeng", "sequel")


@dataclass
class DenseTables:
    names: list[str]
    table: np.ndarray  # n_items × Σ dims, C-contiguous
    slices: dict[str, slice]
    means: dict[str, np.ndarray]
    covs: dict[str, np.ndarray]
    strided: dict[int, np.ndarray] = field(default_factory=dict)  # step -> table[::step], contiguous

    def every(self, step: int) -> np.ndarray:
        """The rows of an even stride (a standardisation sample), copied once per table."""
        rows = self.strided.get(step)
        if rows is None:
            rows = self.strided[step] = np.ascontiguousarray(self.table[::step])
        return rows


def build_dense_tables(model: EtalageModel) -> DenseTables:
    parts: list[tuple[str, np.ndarray]] = [("collab", model.right)]
    if model.ordered:
        parts.append(("flow", model.flow.T))
    if model.content is not None:
        parts.append(("content", model.content))
    names, slices, means, covs, start = [], {}, {}, {}, 0
    for name, t in parts:
        t64 = t.astype(np.float64)
        m = t64.mean(axis=0)
        means[name] = m
        covs[name] = t64.T @ t64 / max(len(t64), 1) - np.outer(m, m)
        slices[name] = slice(start, start + t.shape[1])
        start += t.shape[1]
        names.append(name)
    table = np.ascontiguousarray(np.hstack([t for _, t in parts]), dtype=np.float32)
    return DenseTables(names, table, slices, means, covs)


def _query_side(model: EtalageModel, name: str) -> np.ndarray:
    """The table a history is multiplied by to get a dense component's query."""
    return {"collab": model.left, "flow": model.item_factors}.get(name, model.content)


def blend_scores(
    model: EtalageModel, hist: sp.csr_matrix, hist_seq: sp.csr_matrix, cols: np.ndarray | None = None
) -> np.ndarray:
    """Σ_c w_c · zscore(component_c) + w_prior · prior_z, for each history row; only at the items ``cols``
    when given (the z-scores still standardise over the whole catalogue: that part is analytic)."""
    w = model.config.weights
    tables: DenseTables = model.dense_tables
    n_rows, n_items = hist.shape
    table = tables.table if cols is None else tables.table[cols]
    prior_z = model.prior_z if cols is None else model.prior_z[cols]
    n_out = n_items if cols is None else len(cols)
    where = None
    if cols is not None:  # item -> output column, -1 where not asked for
        where = np.full(n_items, -1, np.int64)
        where[cols] = np.arange(len(cols))
    coef = np.zeros((n_rows, tables.table.shape[1]), dtype=np.float64)
    offset = np.zeros(n_rows, dtype=np.float64)
    for name in tables.names:
        wc = float(w.get(name, 0.0))
        if not wc:
            continue
        u = np.asarray(hist @ _query_side(model, name)).astype(np.float64)
        mean = u @ tables.means[name]
        var = np.einsum("ij,jk,ik->i", u, tables.covs[name], u)
        std = np.sqrt(np.maximum(var, 0.0))
        ok = std > 1e-12 * (1.0 + np.abs(mean))
        scale = np.divide(wc, std, out=np.zeros_like(std), where=ok)
        coef[:, tables.slices[name]] = u * scale[:, None]
        offset -= mean * scale
    out = (coef.astype(np.float32) @ table.T) if coef.any() else np.zeros((n_rows, n_out), np.float32)
    out += offset[:, None].astype(np.float32)
    wp = float(w.get("prior", 0.0))
    if wp:
        out += np.float32(wp) * prior_z[None, :]
    for name in SPARSE:
        wc = float(w.get(name, 0.0))
        if not wc or (name == "sequel" and not model.ordered):
            continue
        s = model.sparse_product(name, hist if name == "coeng" else hist_seq)
        s.sum_duplicates()
        rows = np.repeat(np.arange(n_rows), np.diff(s.indptr))
        total = np.bincount(rows, weights=s.data, minlength=n_rows)
        total_sq = np.bincount(rows, weights=s.data.astype(np.float64) ** 2, minlength=n_rows)
        mean = total / n_items
        std = np.sqrt(np.maximum(total_sq / n_items - mean**2, 0.0))
        scale = np.divide(wc, std, out=np.zeros_like(std), where=std > 1e-12)
        out -= (mean * scale)[:, None].astype(np.float32)
        # a product of CSR matrices has no duplicate (row, col) pairs, so plain fancy-index add is exact
        add = (s.data * scale[rows]).astype(np.float32)
        if where is None:
            out[rows, s.indices] += add
        else:
            at = where[s.indices]
            keep = at >= 0
            out[rows[keep], at[keep]] += add[keep]
    # No usable history (new user, or only zero-weight events): the prior alone, at full weight,
    # even where the tuned blend gives the prior no weight next to personal components.
    empty = np.asarray(abs(hist).sum(axis=1)).ravel() == 0
    if empty.any():
        out[empty] = prior_z
    return out


def _sparse_one(model: EtalageModel, name: str, rows: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One history's row of ``model.sparse_product(name, …)``: (sorted columns, summed values)."""
    base, online = (model.coeng, model.coeng_online) if name == "coeng" else (model.sequel, model.sequel_online)
    idx, v = weighted_rows(base, rows, vals)
    if online.nnz:
        more_idx, more_v = weighted_rows(online, rows, vals)
        idx, v = np.concatenate([idx, more_idx]), np.concatenate([v, more_v])
    cols, inverse = np.unique(idx, return_inverse=True)
    return cols, np.bincount(inverse, weights=v, minlength=len(cols))


def blend_one_at(
    model: EtalageModel, rows: np.ndarray, vals: np.ndarray, seq_vals: np.ndarray, cols: np.ndarray, step: int = 0
) -> np.ndarray:
    """``blend_scores`` for one history (distinct item ``rows`` with their decayed weights ``vals`` and
    ``seq_vals``) at the items ``cols``, which may repeat; with ``step``, the items ``0, step, 2·step, …``
    come first in the answer (their rows are kept contiguous, so the sample costs no gather)."""
    w = model.config.weights
    tables: DenseTables = model.dense_tables
    n_items = model.n_items
    wanted = np.asarray(cols, np.int64)
    cols = np.concatenate([np.arange(0, n_items, step, dtype=np.int64), wanted]) if step else wanted
    if not np.any(vals):  # no usable history: the prior alone, at full weight (as blend_scores)
        return model.prior_z[cols]
    coef = np.zeros(tables.table.shape[1], dtype=np.float64)
    offset = 0.0
    for name in tables.names:
        wc = float(w.get(name, 0.0))
        if not wc:
            continue
        u = (vals.astype(np.float32) @ _query_side(model, name)[rows]).astype(np.float64)
        mean = float(u @ tables.means[name])
        std = float(np.sqrt(max(float(u @ tables.covs[name] @ u), 0.0)))
        if std > 1e-12 * (1.0 + abs(mean)):
            coef[tables.slices[name]] = u * (wc / std)
            offset -= mean * wc / std
    coef32 = coef.astype(np.float32)
    out = tables.table[wanted] @ coef32
    if step:
        out = np.concatenate([tables.every(step) @ coef32, out])
    out += np.float32(offset)
    wp = float(w.get("prior", 0.0))
    if wp:
        out += np.float32(wp) * model.prior_z[cols]
    for name in SPARSE:
        wc = float(w.get(name, 0.0))
        if not wc or (name == "sequel" and not model.ordered):
            continue
        at, s = _sparse_one(model, name, rows, vals if name == "coeng" else seq_vals)
        mean = float(s.sum()) / n_items
        std = float(np.sqrt(max(float(s @ s) / n_items - mean**2, 0.0)))
        if std <= 1e-12:
            continue
        out -= np.float32(mean * wc / std)
        if len(at):
            pos = np.minimum(np.searchsorted(at, cols), len(at) - 1)
            hit = at[pos] == cols
            out[hit] += (s[pos[hit]] * (wc / std)).astype(np.float32)
    return out
