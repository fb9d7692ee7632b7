"""Scoring stage: per-outcome predictions, expected value with the published weights, uncertainty."""

from __future__ import annotations

import numpy as np

from etalage.feed.parameters import OUTCOMES, RankingParameters
from etalage.feed.pipeline import heads as H
from etalage.feed.pipeline.context import Candidates


def score(c: Candidates, heads: H.Heads, params: RankingParameters) -> None:
    rates, sds = H.base_rates(c.feats["counts"], c.feats["has_products"], heads, params.rate_strength,
                               params.funnel_rates, c.feats.get("relative_price"), params.price_elasticity)
    signals = {"affinity": c.feats["affinity"], "follow": c.feats["follow"], "session": c.feats["session"]}
    p = H.predict(rates, signals, heads)
    for o in OUTCOMES:
        c.feats[f"rate_{o}"] = rates[o]
        c.feats[f"p_{o}"] = p[o]
    worth = c.feats.get("worth")
    c.feats["value"] = H.value(p, params, worth).astype(np.float64)
    c.feats["uncertainty"] = H.uncertainty(sds, params, worth).astype(np.float64)


def signal_effects(
    c: Candidates, rows: np.ndarray, heads: H.Heads, params: RankingParameters
) -> dict[str, np.ndarray]:
    """For the chosen rows: how much value each viewer signal added (value − value without it)."""
    rates = {o: c.feats[f"rate_{o}"][rows] for o in OUTCOMES}  # as ``score`` smoothed them
    signals = {s: c.feats[s][rows] for s in H.SIGNALS}
    full = c.feats["value"][rows]
    worth = c.feats["worth"][rows] if "worth" in c.feats else None
    out = {}
    for s in H.SIGNALS:
        if not np.any(signals[s]):
            out[s] = np.zeros(len(rows))
            continue
        out[s] = full - H.value(H.predict(rates, signals, heads, drop=s), params, worth)
    # the item's own record: its rates against the platform average, with no viewer signal at all
    zero = {s: np.zeros(len(rows)) for s in H.SIGNALS}
    avg = {o: np.where(rates[o] > 0, heads.global_rates.get(o, H.DEFAULT_GLOBAL[o]), 0.0) for o in OUTCOMES}
    out["item_record"] = H.value(H.predict(rates, zero, heads), params, worth) - H.value(
        H.predict(avg, zero, heads), params, worth
    )
    return out
