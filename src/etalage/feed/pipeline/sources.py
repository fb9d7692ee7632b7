"""Candidate sources: each proposes items and says why (its name, and the history item that led to it).

Personal sources (personalised mode with a history): ``collaborative`` (nearest items to the viewer in
the model's embedding space, IVF index), ``coengagement`` (items engaged with together with the viewer's
recent items), ``content`` (TF-IDF similarity to them, so a new video has candidates from its first
second), ``following`` (the newest videos of followed creators). Non-personal sources, used by every mode:
``trending`` (in the region), ``live`` (rooms on air), ``fresh`` (new uploads), ``popular`` (best value
in the region). Lists for the non-personal ones are precomputed (``lists.py``), so each costs a slice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from etalage.feed import modelview
from etalage.feed.index import FeedIndex
from etalage.feed.parameters import SOURCES, RankingParameters
from etalage.feed.pipeline.context import Candidates, FeedRequest, History

CODE = {name: i for i, name in enumerate(SOURCES)}
_EMPTY = (np.zeros(0, np.int64), np.zeros(0, np.int64))


@dataclass
class SourceInput:
    req: FeedRequest
    hist: History
    index: FeedIndex
    params: RankingParameters
    model: Any
    ann: Any
    model_to_index: np.ndarray | None
    lists: dict[str, np.ndarray]  # the region's precomputed lists


def _seeds(s: SourceInput, n: int) -> tuple[np.ndarray, np.ndarray]:
    return s.hist.items[:n], s.hist.weights[:n]


def collaborative(s: SourceInput, quota: int) -> tuple[np.ndarray, np.ndarray]:
    if s.model is None or s.ann is None or s.model_to_index is None or len(s.hist.items) == 0:
        return _EMPTY
    items, weights = _seeds(s, 50)
    midx = s.index.model_idx[items]
    decay = np.power(np.float32(0.9), np.arange(len(items), dtype=np.float32))  # recent counts more
    q = modelview.user_query(s.model, midx, weights * decay)
    if q is None:
        return _EMPTY
    found, _ = s.ann.search(q, quota)
    found = found[found < len(s.model_to_index)]
    idx = s.model_to_index[found]
    keep = idx >= 0
    idx, found = idx[keep], found[keep]
    because = np.full(len(idx), -1, np.int64)
    table = modelview.item_embeddings(s.model)
    ok = (midx >= 0) & (midx < (0 if table is None else table.shape[0]))
    if table is not None and ok.any() and len(idx):
        # the history item whose embedding is closest to each candidate's: "because you watched X"
        sims = table[found] @ table[midx[ok]].T
        because = items[ok][np.argmax(sims, axis=1)]
    return idx, because


def coengagement(s: SourceInput, quota: int) -> tuple[np.ndarray, np.ndarray]:
    if s.model is None or s.model_to_index is None or len(s.hist.items) == 0:
        return _EMPTY
    items, _ = _seeds(s, 5)
    per_seed = max(10, quota // max(1, len(items)))
    parts_i, parts_b = [], []
    for item in items:
        m = int(s.index.model_idx[item])
        found, _ = modelview.coengaged(s.model, m, per_seed)
        found = found[found < len(s.model_to_index)]
        idx = s.model_to_index[found]
        idx = idx[idx >= 0]
        parts_i.append(idx)
        parts_b.append(np.full(len(idx), item, np.int64))
    if not parts_i:
        return _EMPTY
    return np.concatenate(parts_i), np.concatenate(parts_b)


def content(s: SourceInput, quota: int) -> tuple[np.ndarray, np.ndarray]:
    if len(s.hist.items) == 0:
        return _EMPTY
    items, weights = _seeds(s, 10)
    n = s.index.n
    scores = s.index.text.query(items.tolist(), weights.tolist(), n)
    scores[items[items < n]] = 0.0
    hits = np.flatnonzero(scores > 0)
    if len(hits) == 0:
        return _EMPTY
    if len(hits) > quota:
        hits = hits[np.argpartition(-scores[hits], quota - 1)[:quota]]
    # the "because" (the most similar of these seeds) is named in hydration, which measures every
    # candidate's similarity to them anyway
    return hits.astype(np.int64), np.full(len(hits), -1, np.int64)


def following(s: SourceInput, quota: int) -> tuple[np.ndarray, np.ndarray]:
    if not s.hist.follows:
        return _EMPTY
    per = max(3, quota // len(s.hist.follows))
    out: list[int] = []
    for code in s.hist.follows:
        items = s.index.creator_items.get(code, [])
        newest = sorted(items, key=lambda i: -s.index.published_s[i])[:per]
        out += newest
    idx = np.array(out[:quota], np.int64)
    return idx, np.full(len(idx), -1, np.int64)


def _listed(name: str):  # noqa: ANN202 - a small factory of list sources
    def source(s: SourceInput, quota: int) -> tuple[np.ndarray, np.ndarray]:
        idx = s.lists.get(name)
        if idx is None or len(idx) == 0:
            return _EMPTY
        idx = idx[:quota]
        return idx, np.full(len(idx), -1, np.int64)

    return source


PERSONAL = {"collaborative": collaborative, "coengagement": coengagement, "content": content,
            "following": following}  # fmt: skip
GENERAL = {name: _listed(name) for name in ("trending", "live", "fresh", "popular")}


def gather(s: SourceInput) -> Candidates:
    """Every source's proposals, merged: an item proposed twice keeps the first source in SOURCES order."""
    parts_i, parts_s, parts_b = [], [], []
    quota = s.params.source_quota
    for name in SOURCES:
        fn = PERSONAL.get(name) if s.req.personal else None
        fn = fn or GENERAL.get(name)
        if fn is None:
            continue
        idx, because = fn(s, int(quota.get(name, 0)))
        if len(idx):
            parts_i.append(idx)
            parts_b.append(because)
            parts_s.append(np.full(len(idx), CODE[name], np.int8))
    if not parts_i:
        z = np.zeros(0, np.int64)
        return Candidates(z, np.zeros(0, np.int8), z)
    idx, src, because = np.concatenate(parts_i), np.concatenate(parts_s), np.concatenate(parts_b)
    _, first = np.unique(idx, return_index=True)
    first.sort()
    return Candidates(idx[first], src[first], because[first])
