"""Feature hydration: for each surviving candidate, what the scoring heads and re-ranker read.

Item facts (outcome counters, trending in the region, age, impressions, quality factor, creator, shop,
category) come from the in-memory index. Viewer signals (personalised mode only): ``affinity`` (the
served model's score, standardised over the catalogue and log-compressed beyond ±2), ``follow`` (creator
followed) and ``session`` (TF-IDF cosine to this session's engaged items). In the non-profiled mode the viewer signals are zero:
nothing about the person enters the ranking.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from etalage.feed.counters import FIELDS
from etalage.feed.index import FeedIndex
from etalage.feed.parameters import SOURCES
from etalage.feed.pipeline.context import Candidates, FeedRequest, History

_CONTENT = SOURCES.index("content")


def standardise(scores: np.ndarray) -> np.ndarray:
    std = float(scores.std())
    if std <= 1e-9:
        return np.zeros_like(scores, dtype=np.float32)
    return ((scores - float(scores.mean())) / std).astype(np.float32)


def hydrate(c: Candidates, req: FeedRequest, hist: History, index: FeedIndex, affinity: np.ndarray | None,
            quality: Any, creator_impressions: np.ndarray | None = None,
            worth: np.ndarray | None = None, relative_price: np.ndarray | None = None) -> None:  # fmt: skip
    idx = c.idx
    k = len(idx)
    counts = index.stats.counts(idx, req.now_ms)
    c.feats["counts"] = counts  # (len(FIELDS), k)
    for i, name in enumerate(FIELDS):
        if name in ("impressions", "reports"):
            c.feats[name] = counts[i]
    c.feats["trend"] = index.stats.trend_score(req.region, idx, req.now_ms)
    c.feats["age_h"] = (req.now_ms / 1000.0 - index.published_s[idx]) / 3600.0
    c.feats["has_products"] = index.has_products[idx]
    c.feats["creator"] = index.creator[idx].astype(np.int64)
    c.feats["merchant"] = index.merchant[idx].astype(np.int64)
    c.feats["category"] = index.category[idx].astype(np.int64)
    c.feats["kind"] = index.kind[idx]
    if creator_impressions is not None:
        codes = c.feats["creator"]
        known = (codes >= 0) & (codes < len(creator_impressions))
        c.feats["creator_impressions"] = np.where(
            known, creator_impressions[np.where(known, codes, 0)], np.inf
        )
    q = np.ones(k, np.float32)
    if quality is not None:
        ok = idx < len(quality.factor)
        q[ok] = quality.factor[idx[ok]]
    c.feats["quality"] = q
    # what a purchase through the item is worth and its relative price (lists); items newer than the lists: 1
    for name, per_item in (("worth", worth), ("relative_price", relative_price)):
        w = np.ones(k)
        if per_item is not None:
            ok = idx < len(per_item)
            w[ok] = per_item[idx[ok]]
        c.feats[name] = w
    a = np.zeros(k, np.float32)
    f = np.zeros(k, np.float32)
    s = np.zeros(k, np.float32)
    if req.personal:
        if affinity is not None and len(affinity):
            midx = index.model_idx[idx]
            ok = (midx >= 0) & (midx < len(affinity))
            a[ok] = affinity[midx[ok]]
        if hist.follows:
            f = np.isin(c.feats["creator"], np.fromiter(hist.follows, np.int64)).astype(np.float32)
        if len(hist.items) and k:
            seeds = hist.items[:10]
            sims = index.text.similarity(idx, seeds)
            best = sims.argmax(axis=1)
            s = sims[np.arange(k), best]
            # where no source named a history item, the most similar one is the "because" (always for the
            # content source's proposals: their similarity is why they were proposed)
            unnamed = (c.because < 0) & ((s > 0.05) | (c.source == _CONTENT))
            c.because = np.where(unnamed, seeds[best], c.because)
    c.feats["affinity"], c.feats["follow"], c.feats["session"] = a, f, s
