"""Loader for interaction logs in the shared ``interactions.csv`` format.

Format (see the data README): header ``user_id,item_id,event,timestamp,split``; ids are opaque
strings, ``event`` is any name (mapped to a weight by the caller), ``timestamp`` is an integer that
orders a user's events, ``split`` is ``train``, ``valid`` or ``test``.

Everything downstream works on dense integer indices and scipy CSR matrices, so the string ids are
mapped once here (in order of first appearance, which keeps the mapping deterministic).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

EXPECTED_HEADER = ("user_id", "item_id", "event", "timestamp", "split")
SPLITS = ("train", "valid", "test")

# Negatives are kept (for AUC and engagement rates) but are not a positive training signal.
DEFAULT_EVENT_WEIGHTS: dict[str, float] = {
    "positive": 1.0,
    "purchase": 1.0,
    "cart": 0.5,
    "collect": 0.5,
    "negative": 0.0,
}
# Events that make a held-out row "relevant" in evaluation, and events that mark "shown, not engaged".
RELEVANT_EVENTS = frozenset({"positive", "purchase"})
NEGATIVE_EVENTS = frozenset({"negative"})


class DataFormatError(ValueError):
    """The file exists but does not follow the interactions.csv format."""


@dataclass(frozen=True)
class Sequences:
    """Per-user event sequences in CSR layout, each user's slice ordered by timestamp.

    ``items[indptr[u]:indptr[u + 1]]`` are user ``u``'s items, oldest first. Storing one flat array
    instead of a list of arrays keeps it cheap for 10k+ users and easy to save.
    """

    indptr: np.ndarray
    items: np.ndarray
    weights: np.ndarray
    timestamps: np.ndarray

    def of(self, user: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lo, hi = self.indptr[user], self.indptr[user + 1]
        return self.items[lo:hi], self.weights[lo:hi], self.timestamps[lo:hi]

    @property
    def n_users(self) -> int:
        return len(self.indptr) - 1


@dataclass(frozen=True)
class TrainView:
    """What a model may learn from: one split's rows, in matrix and sequence form.

    ``weights``: user×item max event weight (0-weight rows such as negatives are not stored).
    ``exposure``: 1 wherever the user has ANY row (shown, engaged or not).
    ``negatives``: 1 where the user has a negative row.
    ``sequences``: rows with weight > 0, per user, ordered by timestamp.
    ``ordered``: whether timestamps actually order events (False when every timestamp ties,
    e.g. KuaiRec here), so sequence-aware components know whether "next item" means anything.
    """

    weights: sp.csr_matrix
    exposure: sp.csr_matrix
    negatives: sp.csr_matrix
    sequences: Sequences
    ordered: bool

    @property
    def n_users(self) -> int:
        return self.weights.shape[0]

    @property
    def n_items(self) -> int:
        return self.weights.shape[1]


@dataclass
class InteractionData:
    """All rows of one file, with ids mapped to dense indices."""

    user_ids: list[str]
    item_ids: list[str]
    event_names: list[str]
    users: np.ndarray  # int32 per row
    items: np.ndarray  # int32 per row
    events: np.ndarray  # int16 code into event_names
    timestamps: np.ndarray  # int64
    splits: np.ndarray  # int8 code into SPLITS
    event_weights: dict[str, float]

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def _row_weights(self) -> np.ndarray:
        # Unknown event names weigh 0: accepted, stored, but not a positive signal unless mapped.
        table = np.array([self.event_weights.get(e, 0.0) for e in self.event_names], dtype=np.float32)
        return table[self.events]

    def _event_mask(self, names: frozenset[str]) -> np.ndarray:
        codes = [i for i, e in enumerate(self.event_names) if e in names]
        return np.isin(self.events, codes)

    def _matrix(self, mask: np.ndarray, values: np.ndarray) -> sp.csr_matrix:
        # Duplicated (user, item) rows keep the strongest signal rather than summing repeats.
        u, i, v = self.users[mask], self.items[mask], values[mask]
        order = np.lexsort((-v, i, u))
        u, i, v = u[order], i[order], v[order]
        keep = np.ones(len(u), dtype=bool)
        keep[1:] = (u[1:] != u[:-1]) | (i[1:] != i[:-1])
        m = sp.csr_matrix((v[keep], (u[keep], i[keep])), shape=(self.n_users, self.n_items))
        m.sort_indices()
        return m

    def split_mask(self, split: str) -> np.ndarray:
        return self.splits == SPLITS.index(split)

    def matrix(self, split: str, kind: str = "weight") -> sp.csr_matrix:
        """One split as a user×item CSR matrix.

        kind: ``weight`` (max event weight, zero-weight rows dropped), ``any`` (1 for any row),
        ``relevant`` (1 for positive/purchase rows), ``negative`` (1 for negative rows).
        """
        in_split = self.split_mask(split)
        ones = np.ones(len(self.users), dtype=np.float32)
        if kind == "weight":
            w = self._row_weights()
            return self._matrix(in_split & (w > 0), w)
        if kind == "any":
            return self._matrix(in_split, ones)
        if kind == "relevant":
            return self._matrix(in_split & self._event_mask(RELEVANT_EVENTS), ones)
        if kind == "negative":
            return self._matrix(in_split & self._event_mask(NEGATIVE_EVENTS), ones)
        raise ValueError(f"unknown matrix kind {kind!r}; use weight, any, relevant or negative")

    def sequences(self, split: str = "train", mask: np.ndarray | None = None) -> Sequences:
        """Rows with weight > 0 of a split, grouped per user and ordered by timestamp.

        Ties keep file order (stable sort), which is the best guess when timestamps are missing.
        """
        w = self._row_weights()
        sel = self.split_mask(split) & (w > 0)
        if mask is not None:
            sel &= mask
        idx = np.flatnonzero(sel)
        order = idx[np.lexsort((idx, self.timestamps[idx], self.users[idx]))]
        counts = np.bincount(self.users[order], minlength=self.n_users)
        indptr = np.zeros(self.n_users + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return Sequences(
            indptr=indptr,
            items=self.items[order].astype(np.int32),
            weights=w[order],
            timestamps=self.timestamps[order],
        )

    def is_ordered(self, split: str = "train") -> bool:
        """True if some user has two events of the split with different timestamps."""
        sel = self.split_mask(split)
        u, t = self.users[sel], self.timestamps[sel]
        if len(u) == 0:
            return False
        tmin = np.full(self.n_users, np.iinfo(np.int64).max)
        tmax = np.full(self.n_users, np.iinfo(np.int64).min)
        np.minimum.at(tmin, u, t)
        np.maximum.at(tmax, u, t)
        return bool(np.any(tmax[np.unique(u)] > tmin[np.unique(u)]))

    def train_view(self, split: str = "train", exclude_rows: np.ndarray | None = None) -> TrainView:
        """Everything a model may learn from; ``exclude_rows`` hides rows (for hold-out tuning)."""
        if exclude_rows is None:
            return TrainView(
                weights=self.matrix(split, "weight"),
                exposure=self.matrix(split, "any"),
                negatives=self.matrix(split, "negative"),
                sequences=self.sequences(split),
                ordered=self.is_ordered(split),
            )
        sub = self.without_rows(exclude_rows)
        return sub.train_view(split)

    def without_rows(self, rows: np.ndarray) -> InteractionData:
        """A copy with the given row indices removed (ids and index space unchanged)."""
        keep = np.ones(len(self.users), dtype=bool)
        keep[rows] = False
        return InteractionData(
            user_ids=self.user_ids,
            item_ids=self.item_ids,
            event_names=self.event_names,
            users=self.users[keep],
            items=self.items[keep],
            events=self.events[keep],
            timestamps=self.timestamps[keep],
            splits=self.splits[keep],
            event_weights=self.event_weights,
        )

    def subsample_users(self, n_users: int, seed: int = 0) -> InteractionData:
        """A deterministic subset of users (all their rows); item index space is re-densified."""
        rng = np.random.default_rng(seed)
        chosen = np.sort(rng.choice(self.n_users, size=min(n_users, self.n_users), replace=False))
        keep = np.isin(self.users, chosen)
        new_u = np.full(self.n_users, -1, dtype=np.int32)
        new_u[chosen] = np.arange(len(chosen), dtype=np.int32)
        items_kept = np.unique(self.items[keep])
        new_i = np.full(self.n_items, -1, dtype=np.int32)
        new_i[items_kept] = np.arange(len(items_kept), dtype=np.int32)
        return InteractionData(
            user_ids=[self.user_ids[u] for u in chosen],
            item_ids=[self.item_ids[i] for i in items_kept],
            event_names=self.event_names,
            users=new_u[self.users[keep]],
            items=new_i[self.items[keep]],
            events=self.events[keep],
            timestamps=self.timestamps[keep],
            splits=self.splits[keep],
            event_weights=self.event_weights,
        )


def _resolve(path: str | Path) -> Path:
    p = Path(path)
    if p.is_dir():
        p = p / "interactions.csv"
    if not p.is_file():
        raise FileNotFoundError(
            f"interaction file not found: {p} (expected a directory containing interactions.csv "
            "or the path of the csv itself)"
        )
    return p


def load_interactions(
    path: str | Path,
    event_weights: Mapping[str, float] | None = None,
    user_filter: Callable[[str], bool] | None = None,
) -> InteractionData:
    """Read ``interactions.csv`` (or a directory holding it).

    ``event_weights`` maps event names to training weights; names not in the map are accepted
    and weigh 0. Raises ``FileNotFoundError`` or ``DataFormatError`` with the offending line.
    """
    weights = dict(DEFAULT_EVENT_WEIGHTS if event_weights is None else event_weights)
    p = _resolve(path)
    user_index: dict[str, int] = {}
    item_index: dict[str, int] = {}
    event_index: dict[str, int] = {}
    split_index = {s: i for i, s in enumerate(SPLITS)}
    cols: tuple[list[int], ...] = ([], [], [], [], [])
    with p.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise DataFormatError(f"{p}: empty file, expected header {','.join(EXPECTED_HEADER)}")
        if tuple(h.strip() for h in header) != EXPECTED_HEADER:
            raise DataFormatError(
                f"{p}: bad header {','.join(header)!r}, expected {','.join(EXPECTED_HEADER)!r}"
            )
        for lineno, row in enumerate(reader, start=2):
            if len(row) != 5:
                if not row:
                    continue  # tolerate blank lines
                raise DataFormatError(f"{p}:{lineno}: expected 5 fields, got {len(row)}: {row!r}")
            user, item, event, ts, split = row
            if not user or not item or not event:
                raise DataFormatError(f"{p}:{lineno}: empty user_id, item_id or event: {row!r}")
            if user_filter is not None and not user_filter(user):
                continue
            s = split_index.get(split)
            if s is None:
                raise DataFormatError(
                    f"{p}:{lineno}: bad split value {split!r}, expected one of {', '.join(SPLITS)}"
                )
            try:
                t = int(ts)
            except ValueError:
                raise DataFormatError(f"{p}:{lineno}: timestamp {ts!r} is not an integer") from None
            cols[0].append(user_index.setdefault(user, len(user_index)))
            cols[1].append(item_index.setdefault(item, len(item_index)))
            cols[2].append(event_index.setdefault(event, len(event_index)))
            cols[3].append(t)
            cols[4].append(s)
    return InteractionData(
        user_ids=list(user_index),
        item_ids=list(item_index),
        event_names=list(event_index),
        users=np.array(cols[0], dtype=np.int32),
        items=np.array(cols[1], dtype=np.int32),
        events=np.array(cols[2], dtype=np.int16),
        timestamps=np.array(cols[3], dtype=np.int64),
        splits=np.array(cols[4], dtype=np.int8),
        event_weights=weights,
    )
