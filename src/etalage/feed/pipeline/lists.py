"""Precomputed per-region lists for the non-personal sources (trending, fresh, popular, live).

Rebuilt every couple of seconds by the learner from the counters (no request pays for a pass over the
catalogue). ``popular`` ranks by the same value the heads compute with no personal signal at all, times
quality: it is the non-profiled feed's order, before diversity and exploration.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from etalage.feed.index import KIND_LIVE, KIND_VIDEO, FeedIndex
from etalage.feed.parameters import RankingParameters
from etalage.feed.pipeline import heads as H

LIST_LENGTH = 400


def _top(score: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    cand = np.flatnonzero(mask)
    if len(cand) == 0:
        return np.zeros(0, np.int64)
    if len(cand) > k:
        cand = cand[np.argpartition(-score[cand], k - 1)[:k]]
    return cand[np.argsort(-score[cand], kind="stable")].astype(np.int64)


def base_value(index: FeedIndex, heads: H.Heads, params: RankingParameters, quality: Any, now_ms: float,
               n: int) -> np.ndarray:  # fmt: skip
    """Value of every item with no personal signal, times its quality factor."""
    idx = np.arange(n)
    counts = index.stats.counts(idx, now_ms)
    rates, _ = H.base_rates(counts, index.has_products[:n], heads, params.rate_strength)
    zero = np.zeros(n)
    p = H.predict(rates, {"affinity": zero, "follow": zero, "session": zero}, heads)
    v = H.value(p, params)
    if quality is not None and len(quality.factor) >= n:
        v = v * quality.factor[:n]
    return v


def build(index: FeedIndex, heads: H.Heads, params: RankingParameters, quality: Any, now_ms: float
          ) -> dict[str, dict[str, np.ndarray]]:  # fmt: skip
    n = index.n
    out: dict[str, dict[str, np.ndarray]] = {}
    if n == 0:
        return {r: {} for r in index.regions}
    value = base_value(index, heads, params, quality, now_ms, n)
    videos = index.kind[:n] == KIND_VIDEO
    live = (index.kind[:n] == KIND_LIVE) & index.alive[:n]
    published = index.published_s[:n]
    for region in index.regions:
        ok = index.servable(region, n)
        vids = ok & videos
        trend = index.stats.trend_score(region, slice(0, n), now_ms)
        out[region] = {
            "trending": _top(trend, vids & (trend > 0), LIST_LENGTH),
            "fresh": _top(published, vids, LIST_LENGTH),
            "popular": _top(value, vids, LIST_LENGTH),
            "live": _top(value + published * 1e-12, ok & live, 20),
        }
    return out
