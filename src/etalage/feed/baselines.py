"""Reference recommenders: popularity, item-kNN (cosine), EASE and ALS (``implicit``).

They exist to be beaten: every one is fit on train and tuned on valid through the same protocol
as Etalage's model. As in the data README's reference run, items without a positive train row are
ranked last by all of them (they have nothing to be scored from).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.linalg.lapack as lapack
import scipy.sparse as sp

from etalage.feed.dataset import TrainView
from etalage.feed.threads import blas_threads, cpu_count

# Below every real score but above the -inf the protocol uses for excluded items.
LAST = np.float32(-1e30)


class Recommender:
    """Common shape: ``fit(train)`` then ``score_users(users) -> (batch × n_items)``."""

    name = "base"

    def __init__(self, **params: Any) -> None:
        self.params = params
        self._train: TrainView | None = None
        self._cold: np.ndarray | None = None

    def fit(self, train: TrainView) -> Recommender:
        self._train = train
        self._cold = np.diff(train.weights.tocsc().indptr) == 0
        self._fit(train)
        return self

    def _fit(self, train: TrainView) -> None:
        raise NotImplementedError

    def _score(self, users: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def score_users(self, users: np.ndarray) -> np.ndarray:
        s = np.asarray(self._score(np.asarray(users)), dtype=np.float32)
        s[:, self._cold] = LAST
        return s

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.params.items()) or "-"


class Popularity(Recommender):
    """Sum of positive train weights per item, the same list for everyone."""

    name = "popularity"

    def _fit(self, train: TrainView) -> None:
        self._pop = np.asarray(train.weights.sum(axis=0)).ravel().astype(np.float32)

    def _score(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self._pop, (len(users), len(self._pop))).copy()


def topk_rows(dense_block: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of the k largest entries of each row."""
    k = min(k, dense_block.shape[1])
    idx = np.argpartition(-dense_block, k - 1, axis=1)[:, :k]
    return idx, np.take_along_axis(dense_block, idx, axis=1)


def cosine_topk(x: sp.csr_matrix, k: int, block: int = 2048) -> sp.csr_matrix:
    """Item×item cosine similarities, only the k nearest neighbours of each item kept.

    Built block by block so memory stays O(block × n_items) rather than O(n_items²).
    """
    xt = sp.csr_matrix(x.T, dtype=np.float32)
    norms = np.sqrt(np.asarray(xt.multiply(xt).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    xn = sp.diags(1.0 / norms).astype(np.float32) @ xt
    xn_t = sp.csr_matrix(xn.T)
    n = xt.shape[0]
    rows, cols, vals = [], [], []
    for start in range(0, n, block):
        stop = min(n, start + block)
        sims = (xn[start:stop] @ xn_t).toarray()
        sims[np.arange(stop - start), np.arange(start, stop)] = 0.0  # no self-similarity
        idx, val = topk_rows(sims, k)
        keep = val > 0
        rows.append(np.repeat(np.arange(start, stop), idx.shape[1])[keep.ravel()])
        cols.append(idx[keep])
        vals.append(val[keep])
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n), dtype=np.float32
    )


class ItemKNN(Recommender):
    """score(u, j) = sum of cosine(i, j) over history items i among j's k nearest neighbours."""

    name = "itemknn"

    def _fit(self, train: TrainView) -> None:
        # neighbours[j, i] = sim(i, j) for i in N(j); scores = X @ neighbours.T
        self._sim_t = sp.csr_matrix(cosine_topk(train.weights, int(self.params.get("k", 100))).T)

    def _score(self, users: np.ndarray) -> np.ndarray:
        assert self._train is not None
        return (self._train.weights[users] @ self._sim_t).toarray()


class EASE(Recommender):
    """Closed-form linear autoencoder (Steck 2019): B = I - P diagMat(1/diag(P)), P = (XᵀX+λI)⁻¹.

    Dense item×item, so only for evaluation-sized catalogues; Etalage's served model avoids this.
    """

    name = "ease"
    max_items = 30_000

    def _fit(self, train: TrainView) -> None:
        n = train.n_items
        if n > self.max_items:
            raise MemoryError(f"EASE needs a dense {n}×{n} matrix; refusing above {self.max_items} items")
        x = train.weights.astype(np.float32)
        g = (x.T @ x).toarray()
        g[np.diag_indices(n)] += float(self.params.get("lam", 100.0))
        with blas_threads(cpu_count()):
            # Cholesky-based inverse of the SPD Gram matrix: ~2x cheaper than a general inverse.
            c, info = lapack.spotrf(g, lower=1, overwrite_a=1)
            if info != 0:
                raise np.linalg.LinAlgError(f"EASE Gram matrix not positive definite (info={info})")
            p, info = lapack.spotri(c, lower=1, overwrite_c=1)
        p = np.tril(p) + np.tril(p, -1).T
        b = p / (-np.diag(p))
        b[np.diag_indices(n)] = 0.0
        self._b = b.astype(np.float32)

    def _score(self, users: np.ndarray) -> np.ndarray:
        assert self._train is not None
        with blas_threads(cpu_count()):
            return np.asarray(self._train.weights[users] @ self._b)


class ALS(Recommender):
    """Implicit-feedback ALS (Hu et al. 2008) from the ``implicit`` library, confidence 1 + αx."""

    name = "als"

    def _fit(self, train: TrainView) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        # implicit parallelises over users itself; a multi-threaded BLAS underneath oversubscribes
        # (implicit checks this when the model is built, so the limit wraps construction too).
        with blas_threads(1), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            model = AlternatingLeastSquares(
                factors=int(self.params.get("factors", 64)),
                regularization=float(self.params.get("reg", 0.1)),
                alpha=float(self.params.get("alpha", 10.0)),
                iterations=int(self.params.get("iterations", 15)),
                random_state=int(self.params.get("seed", 0)),
                num_threads=cpu_count(),
                calculate_training_loss=False,
            )
            model.fit(sp.csr_matrix(train.weights, dtype=np.float32), show_progress=False)
        self._uf = np.asarray(model.user_factors, dtype=np.float32)
        self._if = np.asarray(model.item_factors, dtype=np.float32)

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self._uf[users] @ self._if.T


BASELINES: dict[str, type[Recommender]] = {cls.name: cls for cls in (Popularity, ItemKNN, EASE, ALS)}

# Small grids, tuned on valid (NDCG@20). EASE's λ is one ordered knob searched as a ladder (each fit
# is a dense n_items³ inversion, so we only walk towards the peak instead of sweeping).
BASELINE_GRIDS: dict[str, list[dict[str, Any]]] = {
    "popularity": [{}],
    "itemknn": [{"k": k} for k in (50, 100, 200)],
    "ease": [{"lam": lam} for lam in (10.0, 50.0, 200.0, 1000.0, 3000.0)],
    "als": [
        {"factors": f, "reg": r, "alpha": a} for f in (64, 128) for r in (0.01, 0.1) for a in (10.0, 40.0)
    ],
}
LADDER_SEARCH = frozenset({"ease"})
