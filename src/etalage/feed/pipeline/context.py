"""What flows through the pipeline: the request, the viewer's history, the candidate set."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

PERSONALISED, NON_PROFILED = "personalised", "non_profiled"
MODES = (PERSONALISED, NON_PROFILED)


@dataclass
class FeedRequest:
    pseudonym: str | None
    mode: str
    mode_reason: str  # requested | remembered | default | anonymous | minor_protection
    region: str
    age_band: str
    limit: int
    page: int = 0
    chain_id: str | None = None
    exclude: set[str] = field(default_factory=set)  # item ids served on earlier pages of this chain
    now_ms: float = 0.0

    @property
    def personal(self) -> bool:
        return self.mode == PERSONALISED and self.pseudonym is not None


@dataclass
class History:
    """The viewer's recent interactions as the ranker reads them (empty in the non-profiled mode)."""

    items: np.ndarray  # index positions of engaged items, newest first
    weights: np.ndarray
    ts_ms: np.ndarray
    seen: set[int]  # shown within the seen window
    hidden_items: set[int]
    hidden_creators: set[int]
    hidden_products: set[str]
    follows: set[int]  # creator codes
    bought_products: set[str]  # bought within the bought window
    logged: list[list[Any]]  # [[item_id, weight, ts_ms], ...] for the served log

    @classmethod
    def empty(cls) -> History:
        z = np.zeros(0, np.int64)
        return cls(z, np.zeros(0, np.float32), np.zeros(0, np.float64), set(), set(), set(), set(), set(), set(), [])


@dataclass
class Candidates:
    idx: np.ndarray  # index positions
    source: np.ndarray  # int8 code into parameters.SOURCES (the first source that proposed it)
    because: np.ndarray  # index position of the history item that led to it, or -1
    feats: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.idx)

    def take(self, mask: np.ndarray) -> Candidates:
        return Candidates(
            self.idx[mask], self.source[mask], self.because[mask], {k: v[mask] for k, v in self.feats.items()}
        )
