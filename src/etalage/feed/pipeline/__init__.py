"""The online For You pipeline, one small replaceable module per stage:

    sources (candidates and why) → filters → hydrate (features) → scoring (outcome heads, value)
    → rerank (quality, diversity, exploration, caps) → explain; the service logs what was served.

``run`` takes a request, the viewer's history (empty when non-profiled) and the process's serving state,
and returns the picked items with everything the served log and the explanation need.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from etalage.feed.index import FeedIndex
from etalage.feed.parameters import SOURCES, RankingParameters
from etalage.feed.pipeline import filters, scoring, sources
from etalage.feed.pipeline import heads as H
from etalage.feed.pipeline import hydrate as hyd
from etalage.feed.pipeline import rerank as rr
from etalage.feed.pipeline.context import Candidates, FeedRequest, History


@dataclass
class ServingState:
    """Everything a request reads besides the index; replaced as a whole (atomically) when it changes."""

    params: RankingParameters
    heads: H.Heads
    model: Any = None
    model_version: str | None = None
    ann: Any = None
    model_to_index: np.ndarray | None = None
    quality: Any = None
    lists: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    creator_impressions: np.ndarray | None = None  # per creator code, for "new creator" exploration


@dataclass
class PageResult:
    cands: Candidates
    picks: list[rr.Pick]
    effects: dict[str, np.ndarray]
    candidates: int
    by_source: dict[str, int]
    filtered: dict[str, int]
    end_reason: str | None


# The affinity is standardised over the catalogue; above this many model items its mean and spread are
# estimated on an even stride of this many items instead of scoring them all (the page only reads the
# candidates' values: at 100k items the full pass was most of a personalised page's time).
AFFINITY_SAMPLE = 2048
# Picks beyond the page's size, in ranking order: they fill the place of a pick found unservable when the
# page reads the cards (a video unpublished a moment ago), so a page is not served short.
SPARE_PICKS = 3


# Beyond this many standard deviations the affinity grows with the log of the excess: over a large catalogue
# the few items a history points at sit tens of deviations above the rest (measured: median 23 at 100,000
# videos), and a linear term would make each of them a near-certain purchase, leaving price alone to rank them.
AFFINITY_LINEAR = 2.0


def compress(z: np.ndarray) -> np.ndarray:
    """z within ±AFFINITY_LINEAR, sign·(AFFINITY_LINEAR + ln(1 + excess)) beyond: monotone, so the order is kept."""
    excess = np.maximum(np.abs(z) - AFFINITY_LINEAR, 0.0)
    return (np.clip(z, -AFFINITY_LINEAR, AFFINITY_LINEAR) + np.sign(z) * np.log1p(excess)).astype(np.float32)


def _affinity(req: FeedRequest, hist: History, index: FeedIndex, state: ServingState,
              cands: Candidates) -> np.ndarray | None:  # fmt: skip
    """The served model's standardised score (compressed beyond ±AFFINITY_LINEAR), as an array over model
    items (valid at the candidates)."""
    if not req.personal or state.model is None or len(hist.items) == 0:
        return None
    model = state.model
    midx = index.model_idx[hist.items]
    ok = (midx >= 0) & (midx < model.n_items)
    if not ok.any():
        return None
    items, weights, ts = midx[ok], hist.weights[ok], hist.ts_ms[ok] / 1000.0
    n = model.n_items
    if n <= 2 * AFFINITY_SAMPLE or not hasattr(model, "score_history_at"):
        return compress(hyd.standardise(np.asarray(model.score_history(items, weights, ts))))
    wanted = index.model_idx[cands.idx]
    wanted = wanted[(wanted >= 0) & (wanted < n)]
    step = max(1, n // AFFINITY_SAMPLE)
    raw = np.asarray(model.score_history_at(wanted, items, weights, ts, sample_step=step), np.float64)
    ref = raw[: len(raw) - len(wanted)]  # the even-stride sample comes first
    std = float(ref.std())
    out = np.zeros(n, np.float32)
    if std > 1e-9:
        out[wanted] = compress((raw[len(ref):] - float(ref.mean())) / std)
    return out


def _everything(index: FeedIndex, req: FeedRequest) -> Candidates:
    """Fallback candidates: every servable item (only when the sources' proposals ran out)."""
    idx = np.flatnonzero(index.servable(req.region)).astype(np.int64)
    return Candidates(
        idx, np.full(len(idx), SOURCES.index("popular"), np.int8), np.full(len(idx), -1, np.int64)
    )


def _merge(a: Candidates, b: Candidates) -> Candidates:
    extra = ~np.isin(b.idx, a.idx)
    return Candidates(
        np.concatenate([a.idx, b.idx[extra]]),
        np.concatenate([a.source, b.source[extra]]),
        np.concatenate([a.because, b.because[extra]]),
    )


def run(req: FeedRequest, hist: History, index: FeedIndex, state: ServingState) -> PageResult:
    params = state.params
    lists = state.lists.get(req.region, {})
    proposed = sources.gather(
        sources.SourceInput(req, hist, index, params, state.model, state.ann, state.model_to_index, lists)
    )
    by_source = {name: int(np.sum(proposed.source == i)) for i, name in enumerate(SOURCES)}
    cands, filtered = filters.apply(proposed, req, hist, index)
    end_reason = None
    if len(cands) < req.limit:
        proposed = _merge(proposed, _everything(index, req))
        cands, filtered = filters.apply(proposed, req, hist, index)
        if len(cands) < req.limit and req.personal and hist.seen:
            # everything new has been seen: show things again rather than an empty page
            relaxed = dataclasses.replace(hist, seen=set())
            cands, filtered = filters.apply(proposed, req, relaxed, index)
            end_reason = "repeats"
        if len(cands) == 0:
            any_here = bool(index.servable(req.region).any())
            end_reason = "exhausted" if any_here else "nothing_available"
        elif len(cands) < req.limit and end_reason is None:
            end_reason = "exhausted"
    affinity = _affinity(req, hist, index, state, cands)
    hyd.hydrate(cands, req, hist, index, affinity, state.quality, state.creator_impressions, lists.get("worth"),
                lists.get("relative_price"))  # fmt: skip
    scoring.score(cands, state.heads, params)
    picks = rr.rerank(cands, params, req.limit, SPARE_PICKS)
    rows = np.array([p.row for p in picks], np.int64)
    effects = scoring.signal_effects(cands, rows, state.heads, params) if len(rows) else {}
    return PageResult(cands, picks, effects, len(proposed), by_source, filtered, end_reason)
