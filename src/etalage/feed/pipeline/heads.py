"""Scoring: one small model per outcome, combined with the published weights into expected value.

For item j and outcome o (watch completion, like/share, product click, add to cart, purchase):

    p_o(j) = σ( logit r_o(j) + α_o + β_o·affinity(j) + γ_o·follows(j) + δ_o·session(j) )

``r_o(j)`` is the item's own rate (outcome count / impressions, fading with time) smoothed with
``rate_strength`` pseudo-impressions towards the platform's average, or, for the commerce outcomes with
``funnel_rates``, towards the item's own rate of the funnel's step before times the platform's conversion
between the two (into the cart, also times the product's relative price to the power −``price_elasticity``:
a dear product is expected to sell less once clicked, until its own sales show otherwise). The other terms are what the viewer brings: the served model's personal score (a
standardised blend, ~N(0,1) over the catalogue, log-compressed beyond ±2: ``pipeline.compress``), following
the creator, and similarity to this session's engaged items. α, β, γ, δ are refitted by the learner from
served pages and the outcomes that followed (``training.fit_heads``); until then the published defaults
apply. A video without products cannot lead to a click, cart or purchase: those chances are 0.

Value V(j) = Σ_o w_o·m_o(j)·p_o(j) with the published weights (in purchases of a typical product), where
m_o(j) is what the outcome is worth for cart and purchase (relative price × (1 − expected return rate),
``lists.worth``) and 1 otherwise; and an uncertainty U(j) = Σ_o w_o·m_o(j)·sd_o(j) from the Beta
posterior of each rate, which the exploration bonus uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from etalage.feed.counters import F
from etalage.feed.parameters import OUTCOMES, RankingParameters

# outcome -> counter it is measured by
OUTCOME_FIELD = {"watch_completion": "completions", "like_share": "like_share", "product_click": "clicks",
                 "add_to_cart": "carts", "purchase": "purchases"}  # fmt: skip
COMMERCE = ("product_click", "add_to_cart", "purchase")
DEFAULT_GLOBAL = {"watch_completion": 0.3, "like_share": 0.05, "product_click": 0.04, "add_to_cart": 0.01,
                  "purchase": 0.003}  # fmt: skip
SIGNALS = ("affinity", "follow", "session")
WORTH_OUTCOMES = ("add_to_cart", "purchase")  # outcomes counted at the purchase's worth, not 1 each


@dataclass
class Heads:
    global_rates: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_GLOBAL))
    alpha: dict[str, float] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0.0))
    beta: dict[str, float] = field(default_factory=dict)
    gamma: dict[str, float] = field(default_factory=dict)
    delta: dict[str, float] = field(default_factory=dict)
    fitted_rows: int = 0
    source: str = "defaults"

    @classmethod
    def defaults(cls, params: RankingParameters) -> Heads:
        return cls(
            beta=dict.fromkeys(OUTCOMES, params.affinity_sensitivity),
            gamma=dict.fromkeys(OUTCOMES, params.follow_sensitivity),
            delta=dict.fromkeys(OUTCOMES, params.session_sensitivity),
        )

    def coef(self, outcome: str, signal: str) -> float:
        table = {"affinity": self.beta, "follow": self.gamma, "session": self.delta}[signal]
        return float(table.get(outcome, 0.0))

    def as_dict(self) -> dict[str, Any]:
        # by hand: every served page logs it, and dataclasses.asdict's recursive deep copy cost ~0.4 ms
        return {
            "global_rates": dict(self.global_rates), "alpha": dict(self.alpha), "beta": dict(self.beta),
            "gamma": dict(self.gamma), "delta": dict(self.delta), "fitted_rows": self.fitted_rows,
            "source": self.source,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Heads:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def global_rates(counts_all: np.ndarray) -> dict[str, float]:
    """Platform averages from the summed counters (defaults until there is enough evidence)."""
    shown = float(counts_all[F["impressions"]])
    out = {}
    for o in OUTCOMES:
        total = float(counts_all[F[OUTCOME_FIELD[o]]])
        prior = DEFAULT_GLOBAL[o]
        out[o] = (total + 200.0 * prior) / (shown + 200.0)
    return out


# Outcomes are computed as one (n_outcomes × n) array per step: a page scores ~1,000 candidates five
# ways several times over, and per-outcome numpy calls on arrays that small cost more than the arithmetic.
_RATE_FIELD = np.array([F[OUTCOME_FIELD[o]] for o in OUTCOMES])
_IS_COMMERCE = np.array([o in COMMERCE for o in OUTCOMES])[:, None]
_IS_WORTH = np.array([o in WORTH_OUTCOMES for o in OUTCOMES])
# (later step, step before it) in the shopping funnel, as row numbers in OUTCOMES, in funnel order: purchases
# are rare, so where an item has few of them its clicks and completions are the better evidence
_FUNNEL = [(OUTCOMES.index(c), OUTCOMES.index(p)) for c, p in (("product_click", "watch_completion"),
           ("add_to_cart", "product_click"), ("purchase", "add_to_cart"))]  # fmt: skip
_CART = OUTCOMES.index("add_to_cart")


def smoothed_rates(
    counts: np.ndarray, heads: Heads, strength: float, funnel: bool = False,
    relative_price: np.ndarray | None = None, elasticity: float = 0.0,
) -> np.ndarray:
    """Each outcome's rate (rows in OUTCOMES order), smoothed as ``base_rates`` says; not yet clipped."""
    shown = counts[F["impressions"]]
    g = _global(heads)[:, None]
    r = (counts[_RATE_FIELD] + strength * g) / (shown + strength)
    if funnel:
        # an item's own earlier step says more than the platform's average: each later step is smoothed
        # towards the item's (smoothed) rate of the step before times the platform's conversion between the two
        for child, parent in _FUNNEL:
            r[child] = _funnel_step(counts, r[parent], g, strength, child, parent, relative_price, elasticity)
    return r


def _funnel_step(counts: np.ndarray, before: np.ndarray, g: np.ndarray, strength: float, child: int, parent: int,
                 relative_price: np.ndarray | None, elasticity: float) -> np.ndarray:  # fmt: skip
    ratio = g[child] / g[parent]
    if child == _CART and relative_price is not None and elasticity:
        ratio = ratio * np.power(relative_price, -elasticity)
    return (counts[_RATE_FIELD[child]] + strength * before * ratio) / (counts[F["impressions"]] + strength)


def _global(heads: Heads) -> np.ndarray:
    return np.array([heads.global_rates.get(o, DEFAULT_GLOBAL[o]) for o in OUTCOMES])


def base_rates(
    counts: np.ndarray, has_products: np.ndarray, heads: Heads, strength: float, funnel: bool = False,
    relative_price: np.ndarray | None = None, elasticity: float = 0.0, smoothed: np.ndarray | None = None,
) -> tuple[dict, dict]:
    """Smoothed rates and their posterior standard deviations per outcome, for the given items. With
    ``funnel``, the commerce rates are pulled towards the item's own earlier steps (see ``_FUNNEL``), the
    step into the cart scaled by ``relative_price`` ** −``elasticity`` (a dear product sells less once clicked).
    ``smoothed``: ``smoothed_rates``'s answer for these arguments, if already at hand."""
    if smoothed is None:
        smoothed = smoothed_rates(counts, heads, strength, funnel, relative_price, elasticity)
    r = np.clip(smoothed, 1e-6, 1 - 1e-6)
    sd = np.sqrt(r * (1 - r) / (counts[F["impressions"]] + strength + 1))
    no_sale = _IS_COMMERCE & ~np.asarray(has_products, bool)
    r[no_sale] = 0.0
    sd[no_sale] = 0.0
    return dict(zip(OUTCOMES, r, strict=True)), dict(zip(OUTCOMES, sd, strict=True))


def priced_cart_and_purchase(counts: np.ndarray, has_products: np.ndarray, heads: Heads, strength: float,
                             unpriced: np.ndarray, relative_price: np.ndarray, elasticity: float) -> dict:  # fmt: skip
    """The add-to-cart and purchase rates of ``base_rates`` (with ``funnel``) for one region's relative prices,
    from ``smoothed_rates`` without a price: only the funnel's steps from the cart on are computed again
    (the lists do this per region for the whole catalogue)."""
    g = _global(heads)[:, None]
    out = {}
    before = unpriced[_FUNNEL[1][1]]  # the clicks: the step into the cart starts from them
    for child, parent in _FUNNEL[1:]:
        before = _funnel_step(counts, before, g, strength, child, parent, relative_price, elasticity)
        out[OUTCOMES[child]] = np.where(np.asarray(has_products, bool), np.clip(before, 1e-6, 1 - 1e-6), 0.0)
    return out


def predict_without_signals(rates: dict, heads: Heads) -> dict:
    """``predict`` with every viewer signal at 0 (the non-personal lists), in closed form:
    σ(logit r + α) = r·e^α / (1 − r + r·e^α), a few multiplications instead of a log and an exp per value
    (at 100,000 items the lists' rebuild spent most of its time there)."""
    out = {}
    for o in rates:  # all outcomes, or some
        r = np.asarray(rates[o], np.float64)
        clipped = np.clip(r, 1e-6, 1 - 1e-6)
        scaled = clipped * np.exp(heads.alpha.get(o, 0.0))
        out[o] = np.where(r > 0, scaled / (1.0 - clipped + scaled), 0.0)
    return out


def predict(rates: dict, signals: dict[str, np.ndarray], heads: Heads, drop: str | None = None) -> dict:
    """p_o per outcome; ``drop`` leaves one signal out (for "what did this signal add" explanations)."""
    r = np.array([rates[o] for o in OUTCOMES], np.float64)
    used = [s for s in SIGNALS if s != drop]
    alpha = np.array([heads.alpha.get(o, 0.0) for o in OUTCOMES])[:, None]
    x = logit(r) + alpha
    if used:
        coef = np.array([[heads.coef(o, s) for s in used] for o in OUTCOMES])
        sig = np.array([np.broadcast_to(signals[s], r.shape[1:]) for s in used], np.float64)
        x += coef @ sig
    p = np.where(r > 0, sigmoid(x), 0.0)
    return dict(zip(OUTCOMES, p, strict=True))


def parts(p: dict, params: RankingParameters, worth: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per outcome: weight × worth × chance (the value's terms, as explanations show them)."""
    w = params.outcome_weights
    out = {}
    for o in OUTCOMES:
        term = float(w.get(o, 0.0)) * p[o]
        out[o] = term * worth if worth is not None and o in WORTH_OUTCOMES else term
    return out


def _weighted_sum(p: dict, params: RankingParameters, worth: np.ndarray | None) -> np.ndarray:
    """Σ_o w_o·m_o·x_o over outcomes (the same sum as ``parts``, as two dot products)."""
    w = np.array([float(params.outcome_weights.get(o, 0.0)) for o in OUTCOMES])
    x = np.array([p[o] for o in OUTCOMES], np.float64)
    if worth is None:
        return w @ x
    return (w * ~_IS_WORTH) @ x + ((w * _IS_WORTH) @ x) * worth


def value(p: dict, params: RankingParameters, worth: np.ndarray | None = None) -> np.ndarray:
    return _weighted_sum(p, params, worth)


def uncertainty(sds: dict, params: RankingParameters, worth: np.ndarray | None = None) -> np.ndarray:
    return _weighted_sum(sds, params, worth)
