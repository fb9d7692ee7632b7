"""Which rows to fit on, tune on and report on (the data README's protocol).

Models are fit on ``train``, hyperparameters are chosen on ``valid`` and figures are reported on
``test`` with the same train-only fit. When ``valid`` cannot tell settings apart (no relevant valid
pair that is not already a train pair) one relevant train row per user is held out for tuning
instead, and the caller is told so via ``TuningSetup.note``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from etalage.feed.dataset import RELEVANT_EVENTS, InteractionData, TrainView
from etalage.feed.metrics import EvalTarget


@dataclass(frozen=True)
class TuningSetup:
    train: TrainView  # what to fit on while tuning
    target: EvalTarget  # what to score the candidates against
    holdout: bool  # True if valid was unusable and train rows were held out instead
    note: str


def build_target(data: InteractionData, split: str, exclude_split: str = "train") -> EvalTarget:
    """Relevant/negative rows of ``split``; the user's ``exclude_split`` rows are never ranked."""
    return EvalTarget(
        relevant=data.matrix(split, "relevant"),
        exclude=data.matrix(exclude_split, "any"),
        negative=data.matrix(split, "negative"),
        name=split,
    )


def valid_is_useful(data: InteractionData) -> bool:
    """Valid helps tuning only if it has relevant pairs the model has not seen in train."""
    valid = data.matrix("valid", "relevant")
    if valid.nnz == 0:
        return False
    seen = data.matrix("train", "any")
    overlap = valid.multiply(seen)
    return valid.nnz - overlap.nnz > 0


def holdout_rows(data: InteractionData, seed: int = 0) -> np.ndarray:
    """One relevant train row per user (with >= 2 of them): the latest, random among ties."""
    codes = [i for i, e in enumerate(data.event_names) if e in RELEVANT_EVENTS]
    rows = np.flatnonzero(data.split_mask("train") & np.isin(data.events, codes))
    if len(rows) == 0:
        return rows
    tiebreak = np.random.default_rng(seed).random(len(rows))
    order = rows[np.lexsort((tiebreak, data.timestamps[rows], data.users[rows]))]
    users = data.users[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = users[1:] != users[:-1]
    counts = np.bincount(users, minlength=data.n_users)
    chosen = order[last]
    return chosen[counts[data.users[chosen]] >= 2]


def tuning_setup(data: InteractionData, full_train: TrainView | None = None, seed: int = 0) -> TuningSetup:
    if valid_is_useful(data):
        train = full_train if full_train is not None else data.train_view()
        return TuningSetup(
            train=train,
            target=build_target(data, "valid"),
            holdout=False,
            note="tuned on the valid split",
        )
    rows = holdout_rows(data, seed)
    tuned = data.without_rows(rows)
    relevant = _pairs_matrix(data, rows)
    target = EvalTarget(
        relevant=relevant, exclude=tuned.matrix("train", "any"), negative=None, name="holdout"
    )
    return TuningSetup(
        train=tuned.train_view(),
        target=target,
        holdout=True,
        note=(
            f"valid split unusable for tuning (no relevant valid pair outside train); held out "
            f"{len(rows)} relevant train rows (one per user) for tuning instead"
        ),
    )


def _pairs_matrix(data: InteractionData, rows: np.ndarray) -> sp.csr_matrix:
    m = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (data.users[rows], data.items[rows])),
        shape=(data.n_users, data.n_items),
    )
    m.data[:] = 1.0
    return m
