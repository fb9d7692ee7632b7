"""Product quality for re-ranking: demote videos whose products are returned, complained about or rated
low, so very engaging but disappointing products ("engagement bait") stop winning the feed.

Signals come from providers. A provider answers ``product_quality(session, product_ids)`` with, per
product, counts of ``orders``, ``returns``, ``complaints``, ``ratings`` and ``low_ratings`` (1–2 stars).
Built in:

- ``EventsProvider``: orders (purchase events) and complaints (report events) from the event stream's
  engagement counters (``events.engagement.engagement_for``).
- ``AfterSaleProvider``: returns and reviews, read from ``etalage.fulfilment.service.product_quality``
  (same signature and answer) once the after-sale domain provides it; until then it answers nothing.

The feed adds what it sees itself, pooled per product over all the videos that show it: reports per
impression (in-memory counters, real time) and unhappy comments (from the count and mean sentiment of
each video's comments, content's ``video_sentiment``), a stand-in for low ratings until reviews exist.
A deployment plugs another source in with ``register_provider``.

The factor is exp(−badness), floored at ``quality_floor``, where badness = w_r·max(0, returns/orders −
baseline) + w_l·low-rating share + w_c·reports per impression, each rate smoothed towards its baseline
with ``quality_strength`` pseudo-counts, so one return on one order does not sink a product.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from sqlalchemy.orm import Session

from etalage.feed.counters import F

if TYPE_CHECKING:
    from etalage.feed.index import FeedIndex
    from etalage.feed.parameters import RankingParameters

log = logging.getLogger("etalage.feed.quality")
LOW_RATING_BASELINE = 0.1


@dataclass
class ProductQuality:
    orders: float = 0.0
    returns: float = 0.0
    complaints: float = 0.0
    ratings: float = 0.0
    low_ratings: float = 0.0

    def merge(self, other: ProductQuality) -> None:
        for name in ("orders", "returns", "complaints", "ratings", "low_ratings"):
            setattr(self, name, max(getattr(self, name), getattr(other, name)))


class QualityProvider(Protocol):
    name: str

    def product_quality(self, session: Session, product_ids: list[str]) -> dict[str, ProductQuality]: ...


class EventsProvider:
    name = "events"

    def product_quality(self, session: Session, product_ids: list[str]) -> dict[str, ProductQuality]:
        from etalage.events.engagement import engagement_for

        rows = engagement_for(session, product_ids)
        return {
            pid: ProductQuality(orders=float(r.get("purchases", 0)), complaints=float(r.get("reports", 0)))
            for pid, r in rows.items()
        }


class AfterSaleProvider:
    name = "after_sale"

    def product_quality(self, session: Session, product_ids: list[str]) -> dict[str, ProductQuality]:
        try:
            from etalage.fulfilment import service as after_sale  # type: ignore[attr-defined]
        except ImportError:
            return {}
        fn = getattr(after_sale, "product_quality", None)
        if fn is None:
            return {}
        out = {}
        for pid, q in fn(session, product_ids).items():
            get = q.get if isinstance(q, dict) else (lambda k, _q=q: getattr(_q, k, 0))
            out[pid] = ProductQuality(*(float(get(k) or 0) for k in ("orders", "returns", "complaints",
                                                                      "ratings", "low_ratings")))  # fmt: skip
        return out


_providers: list[QualityProvider] = [EventsProvider(), AfterSaleProvider()]


def register_provider(provider: QualityProvider) -> None:
    _providers.append(provider)


def providers() -> list[QualityProvider]:
    return list(_providers)


def gather(session: Session, product_ids: list[str]) -> dict[str, ProductQuality]:
    merged: dict[str, ProductQuality] = {}
    for provider in _providers:
        try:
            answer = provider.product_quality(session, product_ids)
        except Exception:  # one broken source must not stop the others (or the feed)
            log.exception("quality provider %s failed", provider.name)
            continue
        for pid, q in answer.items():
            merged.setdefault(pid, ProductQuality()).merge(q)
    return merged


@dataclass
class QualityTable:
    """Per item: the factor and its parts, for re-ranking and explanations."""

    factor: np.ndarray
    returns: np.ndarray  # smoothed return rate of the item's worst product
    complaints: np.ndarray  # reports per impression (smoothed)
    low_ratings: np.ndarray  # low-rating share (reviews, else negative comment sentiment)


def compute(
    index: FeedIndex,
    params: RankingParameters,
    products: dict[str, ProductQuality],
    sentiment: dict[str, tuple[int, float | None]],
    now_ms: float,
) -> QualityTable:
    """Per item: its products' worst smoothed rates. What the feed sees per video (reports per impression,
    unhappy comments) is pooled per product over every video that shows it, so a disappointing product
    is demoted in all its clips, not only in the one people complained under."""
    n = index.n
    s = params.quality_strength
    base = params.quality_return_baseline
    counts = index.stats.counts(np.arange(n), now_ms)
    reports, shown = counts[F["reports"]], counts[F["impressions"]]
    unhappy = np.zeros(n)
    commented = np.zeros(n)
    for vid, (count, mean) in sentiment.items():
        i = index.pos.get(vid)
        if i is not None and i < n and count:
            commented[i] = count
            # net unhappy comments: a mean of -0.6 (a typical complaint's score) over n comments ~ n unhappy
            unhappy[i] = count * min(1.0, max(0.0, -(mean or 0.0)) / 0.6)
    ret = np.full(n, base, np.float32)
    low = ((unhappy + s * LOW_RATING_BASELINE) / (commented + s)).astype(np.float32)
    comp = (reports / (shown + 10.0 * s)).astype(np.float32)
    item, code, pids = index.product_pairs(n)
    if len(item):
        # per product, pooled over every video that shows it; then each item takes its worst product
        pooled = [np.bincount(code, weights=x[item], minlength=len(pids)) for x in (reports, shown, unhappy, commented)]
        p_ret = np.full(len(pids), -np.inf)
        p_low = (pooled[2] + s * LOW_RATING_BASELINE) / (pooled[3] + s)
        for k, pid in enumerate(pids):
            q = products.get(pid)
            if q is not None:
                p_ret[k] = (q.returns + s * base) / (q.orders + s)
                if q.ratings > 0:
                    p_low[k] = max(p_low[k], (q.low_ratings + s * LOW_RATING_BASELINE) / (q.ratings + s))
        p_comp = pooled[0] / (pooled[1] + 10.0 * s)
        for table, per_product in ((ret, p_ret), (low, p_low), (comp, p_comp)):
            np.maximum.at(table, item, per_product[code].astype(np.float32))
    bad = (
        params.quality_return_weight * np.maximum(ret - base, 0)
        + params.quality_low_rating_weight * np.maximum(low - LOW_RATING_BASELINE, 0)
        + params.quality_complaint_weight * comp
    )
    factor = np.maximum(np.exp(-bad), params.quality_floor).astype(np.float32)
    if not params.quality_enabled:
        factor[:] = 1.0
    return QualityTable(factor, ret, comp, low)


def describe_item(table: QualityTable | None, i: int, params: RankingParameters) -> dict[str, Any] | None:
    if table is None or i >= len(table.factor):
        return None
    return {
        "factor": round(float(table.factor[i]), 4),
        "return_rate": round(float(table.returns[i]), 4),
        "complaint_rate": round(float(table.complaints[i]), 5),
        "low_rating_share": round(float(table.low_ratings[i]), 4),
        "enabled": params.quality_enabled,
    }
