"""Precomputed per-region lists for the non-personal sources (trending, fresh, popular, live).

Rebuilt every couple of seconds by the learner from the counters (no request pays for a pass over the
catalogue). ``popular`` ranks by the same value the heads compute with no personal signal at all, times
quality: it is the non-profiled feed's order, before diversity and exploration.

``worth`` (per region, per item) is what one purchase through the item is worth, in typical purchases:
its lowest price in the region over the region's median item price (so currencies never mix), capped,
times the share not expected to be returned. The pipeline multiplies the cart and purchase chances by it.
``relative_price`` (the price part alone) also lowers a new product's expected chance of being added to cart
(``price_elasticity``): without it, counting a dear product's price promoted it before any sale showed
that it sells.
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


def _prices(index: FeedIndex, region: str, n: int) -> np.ndarray:
    """Lowest price per item in the region (NaN: none), cached until the index changes."""
    cache = getattr(index, "_price_cache", None)
    if cache is None or cache[0] != (index.version, n):
        cache = ((index.version, n), {})
        index._price_cache = cache  # type: ignore[attr-defined]
    price = cache[1].get(region)
    if price is None:
        item, code, pids = index.product_pairs(n)
        by_product = np.array(
            [f.prices[region][0] if (f := index.products.get(p)) is not None and region in f.prices else np.nan
             for p in pids], np.float64,
        )  # fmt: skip
        price = np.full(n, np.nan)
        if len(item):
            np.fmin.at(price, item, by_product[code])  # fmin skips NaN: the lowest known price per item
        cache[1][region] = price
    return price


def relative_price(index: FeedIndex, params: RankingParameters, region: str, n: int) -> np.ndarray:
    """Per item: its lowest price in the region over the region's median item price, capped; 1 where unknown.
    Cached with the prices (a median per region per rebuild was a fifth of the lists' time)."""
    _prices(index, region, n)
    cache = index._price_cache[1]  # type: ignore[attr-defined]
    key = ("relative", region, params.value_price_cap)
    if key not in cache:
        out = np.ones(n)
        price = cache[region]
        known = np.isfinite(price) & (price > 0)
        if known.any():
            cap = max(params.value_price_cap, 1.0)
            out[known] = np.clip(price[known] / float(np.median(price[known])), 1.0 / cap, cap)
        cache[key] = out
    return cache[key]


def worth(params: RankingParameters, quality: Any, rel_price: np.ndarray, n: int) -> np.ndarray:
    """Per item: relative price in the region (capped) × (1 − expected return rate); 1 where unknown."""
    out = rel_price.copy() if params.value_by_price else np.ones(n)
    if params.value_net_of_returns and quality is not None and len(quality.returns) >= n:
        out *= 1.0 - np.clip(quality.returns[:n].astype(np.float64), 0.0, 1.0)
    return out


def base_chances(index: FeedIndex, heads: H.Heads, params: RankingParameters, counts: np.ndarray, n: int
                 ) -> tuple[dict, np.ndarray]:  # fmt: skip
    """Every item's predicted chance of each outcome with no personal signal and no price (see
    ``priced_chances``), and the smoothed rates it came from."""
    raw = H.smoothed_rates(counts, heads, params.rate_strength, params.funnel_rates)
    rates, _ = H.base_rates(counts, index.has_products[:n], heads, params.rate_strength, params.funnel_rates,
                            smoothed=raw)  # fmt: skip
    return H.predict_without_signals(rates, heads), raw


def priced_chances(index: FeedIndex, heads: H.Heads, params: RankingParameters, counts: np.ndarray, n: int,
                   unpriced: tuple[dict, np.ndarray], rel_price: np.ndarray) -> dict:  # fmt: skip
    """The chances of ``base_chances`` with the region's relative prices (``price_elasticity``): only adding to
    cart and buying change."""
    chances, raw = unpriced
    if not (params.funnel_rates and params.price_elasticity):
        return chances
    priced = H.priced_cart_and_purchase(counts, index.has_products[:n], heads, params.rate_strength, raw,
                                        rel_price, params.price_elasticity)  # fmt: skip
    return {**chances, **H.predict_without_signals(priced, heads)}


def base_value(p: dict, params: RankingParameters, quality: Any, n: int, worth: np.ndarray | None = None
               ) -> np.ndarray:  # fmt: skip
    """Value of every item with no personal signal, times its quality factor."""
    v = H.value(p, params, worth)
    if quality is not None and len(quality.factor) >= n:
        v = v * quality.factor[:n]
    return v


def build(index: FeedIndex, heads: H.Heads, params: RankingParameters, quality: Any, now_ms: float
          ) -> dict[str, dict[str, np.ndarray]]:  # fmt: skip
    n = index.n
    out: dict[str, dict[str, np.ndarray]] = {}
    if n == 0:
        return {r: {} for r in index.regions}
    counts = index.stats.counts(np.arange(n), now_ms)
    unpriced = base_chances(index, heads, params, counts, n)
    videos = index.kind[:n] == KIND_VIDEO
    live = (index.kind[:n] == KIND_LIVE) & index.alive[:n]
    published = index.published_s[:n]
    for region in index.regions:
        ok = index.servable(region, n)
        rel = relative_price(index, params, region, n)
        w = worth(params, quality, rel, n)
        value = base_value(priced_chances(index, heads, params, counts, n, unpriced, rel), params, quality, n, w)
        vids = ok & videos
        trend = index.stats.trend_score(region, slice(0, n), now_ms)
        out[region] = {
            "trending": _top(trend, vids & (trend > 0), LIST_LENGTH),
            "fresh": _top(published, vids, LIST_LENGTH),
            "popular": _top(value, vids, LIST_LENGTH),
            "live": _top(value + published * 1e-12, ok & live, 20),
            "worth": w,  # not lists: read by hydration (``_listed`` sources never ask for them)
            "relative_price": rel,
        }
    return out
