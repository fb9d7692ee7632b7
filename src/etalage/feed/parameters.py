"""The published ranking parameters: every number that decides the order of the For You feed.

This is the live configuration, not a copy of it: the pipeline reads these values, the API serves them at
``GET /api/v1/feed/ranking-parameters`` and the transparency page (``transparency.py``, DSA Art. 27) is
generated from them, with the description of each one written next to it here. A served page records the
``version`` (a hash of the values), so any past decision can be matched with the parameters it used.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from typing import Any

OUTCOMES = ("watch_completion", "like_share", "product_click", "add_to_cart", "purchase")
OUTCOME_TEXT = {
    "watch_completion": "watches the video to the end",
    "like_share": "likes or shares it",
    "product_click": "opens a product shown in it",
    "add_to_cart": "adds one of its products to the cart",
    "purchase": "buys one of its products",
}
# In priority order: an item proposed by several sources is explained by the most specific one.
SOURCES = ("following", "live", "coengagement", "content", "collaborative", "trending", "fresh", "popular")


@dataclass(frozen=True)
class RankingParameters:
    preset: str = "quality"
    # Value of one predicted outcome, counted in purchases of a typical product: the feed ranks by expected
    # purchase value net of returns, with attention counted only a little (engagement-to-conversion).
    outcome_weights: dict[str, float] = field(
        default_factory=lambda: {
            "watch_completion": 0.01,
            "like_share": 0.02,
            "product_click": 0.05,
            "add_to_cart": 0.3,
            "purchase": 1.0,
        }
    )
    # The commerce outcomes (cart, purchase) count what a purchase is worth, not one purchase each: the
    # price relative to the region's median (capped), times the share not expected to come back. Counting
    # purchases alone preferred cheap products and bait that sells well until it is returned.
    value_by_price: bool = True
    value_price_cap: float = 4.0  # a product counts at most this many (and at least 1/this) typical ones
    value_net_of_returns: bool = True
    rate_strength: float = 50.0  # pseudo-impressions pulling a new item's rates to the platform's average
    # ...and for clicks, carts and purchases, towards its own rate of the funnel's step before, times the
    # platform's conversion between the two (purchases are rare; an item's completions and clicks are not)
    funnel_rates: bool = True
    # ...and a product's chance of being added to cart once clicked falls with its price relative to the
    # region's median, to this power, until its own carts say otherwise: at 1, a dear new product's price is
    # offset by fewer expected sales, so price alone never ranks it higher (0: the price is not considered)
    price_elasticity: float = 1.0
    rates_half_life_days: float = 14.0  # older interactions count less in an item's rates
    # How much each signal moves an outcome's odds (log-odds per unit); the learner refits them from
    # served pages and what followed, these are the starting values.
    affinity_sensitivity: float = 0.6
    follow_sensitivity: float = 0.8
    session_sensitivity: float = 1.0
    # Quality: demote videos whose products are often returned, complained about or rated low.
    quality_enabled: bool = True
    quality_return_baseline: float = 0.08  # return rate considered normal; only the excess is demoted
    quality_return_weight: float = 4.0
    quality_complaint_weight: float = 40.0
    quality_low_rating_weight: float = 3.0
    quality_strength: float = 10.0  # pseudo-orders/ratings pulling a new product's rates to the baseline
    quality_floor: float = 0.1  # the largest demotion: a score is never cut below this share
    # Diversity and frequency caps within a page.
    creator_decay: float = 0.5  # a second video of the same creator keeps this share of its score
    merchant_decay: float = 0.7
    category_decay: float = 0.85
    max_per_creator: int = 2
    max_per_merchant: int = 3
    max_live_per_page: int = 1
    seen_window_hours: float = 24.0  # a video shown to you within this window is not shown again
    bought_window_hours: float = 720.0  # nor, for 30 days, a video of a product you bought (0: shown again)
    # Exploration: a share of each page goes to new videos and creators, chosen by an optimistic
    # estimate (upper confidence bound), so new work gets a fair first audience.
    exploration_share: float = 0.15
    exploration_new_hours: float = 48.0
    exploration_max_impressions: int = 300
    exploration_kappa: float = 1.0  # standard deviations of optimism
    trending_half_life_hours: float = 6.0
    # How many candidates each source may propose per request.
    source_quota: dict[str, int] = field(
        default_factory=lambda: {
            "collaborative": 200,
            "coengagement": 150,
            "content": 100,
            "trending": 150,
            "following": 60,
            "live": 5,
            "fresh": 100,
            "popular": 150,
        }
    )
    # What an interaction says about your interests, for the personalised feed (per event type).
    history_weights: dict[str, float] = field(
        default_factory=lambda: {
            "view_complete": 1.0,
            "view_half": 0.5,
            "like": 1.5,
            "share": 2.0,
            "comment": 1.0,
            "product_click": 1.5,
            "add_to_cart": 2.0,
            "purchase": 3.0,
        }
    )
    history_events: int = 100  # how many of your latest interactions the personalised feed reads

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @cached_property  # read by every page; the parameters never change in place (``replace`` makes new ones)
    def version(self) -> str:
        blob = json.dumps(self.as_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


def preset(name: str) -> RankingParameters:
    """'quality' is the published default; 'engagement' is the attention-only ranker it is compared with."""
    base = RankingParameters()
    if name == "quality":
        return base
    if name == "engagement":
        return replace(
            base,
            preset="engagement",
            outcome_weights={o: (1.0 if o in ("watch_completion", "like_share") else 0.0) for o in OUTCOMES},
            value_by_price=False,
            price_elasticity=0.0,
            value_net_of_returns=False,
            quality_enabled=False,
        )
    raise ValueError(f"unknown ranking preset {name!r}; use 'quality' or 'engagement'")


def with_overrides(params: RankingParameters, overrides: dict[str, Any]) -> RankingParameters:
    """The operator's changes to a preset (``ETALAGE_FEED_RANKING_OVERRIDES``, ``etalage simulate --set``),
    checked against the published names and types: a typo or a wrong type refuses to start rather than
    being ignored, and a table (e.g. ``outcome_weights``) changes only the entries given."""
    if not overrides:
        return params
    types = {f.name: type(getattr(params, f.name)) for f in fields(params) if f.name != "preset"}
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        kind = types.get(name)
        if kind is None:
            raise ValueError(f"no ranking parameter {name!r}; the published ones are: {', '.join(sorted(types))}")
        if kind is dict:
            current = getattr(params, name)
            if not isinstance(value, dict) or set(value) - set(current):
                raise ValueError(f"{name} takes a table with some of the keys {', '.join(current)}; got {value!r}")
            value = {**current, **{k: _typed(f"{name}.{k}", type(current[k]), v) for k, v in value.items()}}
        else:
            value = _typed(name, kind, value)
        changes[name] = value
    return replace(params, **changes)


_KIND_TEXT = {float: "a number", int: "a whole number", bool: "true or false"}


def _typed(name: str, kind: type, value: Any) -> Any:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind is float and number:
        out: Any = float(value)
    elif (kind is int and number and isinstance(value, int)) or (kind is bool and isinstance(value, bool)):
        out = value
    else:
        raise ValueError(f"{name} takes {_KIND_TEXT[kind]}; got {value!r}")
    if kind is not bool and out < 0:
        raise ValueError(f"{name} cannot be negative; got {value!r}")
    return out


def configured(ranker: str | None = None, overrides: dict[str, Any] | None = None) -> RankingParameters:
    """The live parameters: a preset with the operator's overrides (what the transparency page shows); by
    default the ones configured (``ETALAGE_FEED_RANKER``, ``ETALAGE_FEED_RANKING_OVERRIDES``)."""
    if ranker is None:
        from etalage.feed.settings import get_feed_settings

        fs = get_feed_settings()
        ranker, overrides = fs.ranker, fs.ranking_overrides
    try:
        base = preset(ranker)
    except ValueError as exc:
        raise ValueError(f"ETALAGE_FEED_RANKER: {exc}") from None
    try:
        return with_overrides(base, overrides or {})
    except ValueError as exc:
        raise ValueError(f"ETALAGE_FEED_RANKING_OVERRIDES: {exc}") from None


DESCRIPTIONS: dict[str, str] = {
    "preset": "Which published parameter set is live ('quality' ranks by expected purchase value net of "
    "returns and product quality; 'engagement' only by attention, kept for comparison).",
    "outcome_weights": "The score of a video is the sum, over these outcomes, of the predicted chance "
    "that you do it times its weight (for adding to cart and buying, also times what the purchase is "
    "worth, below). Weights are in purchases of a typical product: such a purchase counts 1.",
    "value_by_price": "Whether adding to cart and buying count the product's price relative to the median "
    "price in your region (a product twice the median counts 2), instead of 1 per purchase.",
    "value_price_cap": "The relative price counts at most this much (and at least one over it).",
    "value_net_of_returns": "Whether adding to cart and buying count only the share of purchases not "
    "expected to be returned (1 minus the product's smoothed return rate).",
    "funnel_rates": "Whether a video's chance of a product click, add to cart and purchase starts from its own "
    "rate of the step before (completed views, clicks, adds to cart) times the platform's conversion "
    "between the two, instead of from the platform's average, until it has evidence of its own.",
    "price_elasticity": "How much a product's expected chance of being added to cart once clicked falls with "
    "its price relative to the median price in your region, until its own sales show otherwise (1: in "
    "proportion, so its price alone never makes a new product rank higher; 0: not at all).",
    "rate_strength": "How many impressions of evidence an item needs before its own rates outweigh the "
    "platform's average (smoothing of new items' rates).",
    "rates_half_life_days": "Half-life of interactions in an item's rates: recent behaviour counts more.",
    "affinity_sensitivity": "How strongly your taste (what the model learned from your interactions) "
    "raises the predicted chances. Refitted by the learner; this is the starting value.",
    "follow_sensitivity": "How strongly following the creator raises the predicted chances (starting value).",
    "session_sensitivity": "How strongly similarity to what you engaged with in this session raises them.",
    "quality_enabled": "Whether products' returns, complaints and low ratings demote the videos that sell them.",
    "quality_return_baseline": "Return rate considered normal; only returns above it demote.",
    "quality_return_weight": "Demotion per unit of excess return rate (the score is multiplied by "
    "exp(-weight x excess)).",
    "quality_complaint_weight": "Demotion per report (scam, counterfeit, dangerous...) per impression.",
    "quality_low_rating_weight": "Demotion per unit of low-rating share (1-2 stars, or negative comments "
    "until reviews exist).",
    "quality_strength": "Orders or ratings of evidence before a product's own rates count fully.",
    "quality_floor": "The largest demotion: a score keeps at least this share.",
    "creator_decay": "Each further video of the same creator on a page keeps this share of its score.",
    "merchant_decay": "The same for the same shop.",
    "category_decay": "The same for the same product category.",
    "max_per_creator": "At most this many videos of one creator on a page.",
    "max_per_merchant": "At most this many videos of one shop on a page.",
    "max_live_per_page": "At most this many live rooms on a page.",
    "seen_window_hours": "A video you were shown within this many hours is not shown again.",
    "bought_window_hours": "A video whose products you all bought within this many hours is not shown "
    "(personalised feed only; 0 shows them again at once).",
    "exploration_share": "Share of each page reserved for new videos and new creators.",
    "exploration_new_hours": "A video is new for this many hours after publication.",
    "exploration_max_impressions": "A video with fewer impressions than this is still being explored.",
    "exploration_kappa": "Optimism for new videos: standard deviations added to their predicted value.",
    "trending_half_life_hours": "Half-life of interactions in the trending counters of each region.",
    "source_quota": "How many candidates each source proposes per request before ranking.",
    "history_weights": "What each kind of interaction says about your interests (personalised feed only).",
    "history_events": "How many of your latest interactions the personalised feed reads.",
}

SOURCE_TEXT = {
    "collaborative": "people with similar taste engaged with it (learned embeddings)",
    "coengagement": "people who engaged with a video you engaged with also engaged with this one",
    "content": "its caption, hashtags or products are similar to what you engaged with",
    "trending": "it is trending in your region",
    "following": "it is from a creator you follow",
    "live": "a live room on air now",
    "fresh": "a new upload, given a first audience",
    "popular": "popular in your region",
}


def flatten(params: RankingParameters) -> list[tuple[str, Any, str]]:
    """(name, value, description) rows, for the API and the generated page."""
    return [(name, value, DESCRIPTIONS.get(name, "")) for name, value in params.as_dict().items()]
