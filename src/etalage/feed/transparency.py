"""The ranking transparency page (DSA Art. 27), generated from the live configuration, never written by hand.

``ranking_parameters(engine)`` is the JSON served at ``GET /api/v1/feed/ranking-parameters``;
``markdown(engine)`` the page at ``GET /api/v1/feed/transparency`` (and ``etalage feed transparency``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from etalage.feed.parameters import (
    OUTCOME_TEXT,
    OUTCOMES,
    SOURCE_TEXT,
    SOURCES,
    RankingParameters,
    configured,
    flatten,
)
from etalage.feed.pipeline.heads import Heads

if TYPE_CHECKING:
    from etalage.feed.engine import FeedEngine


def ranking_parameters(params: RankingParameters, heads: Heads, model: dict[str, Any]) -> dict[str, Any]:
    return {
        "preset": params.preset,
        "version": params.version,
        "parameters": [{"name": n, "value": v, "description": d} for n, v, d in flatten(params)],
        "outcomes": [
            {
                "name": o,
                "meaning": OUTCOME_TEXT[o],
                "weight": params.outcome_weights.get(o, 0.0),
                "platform_rate": round(heads.global_rates.get(o, 0.0), 6),
                "sensitivity": {
                    "affinity": heads.beta.get(o),
                    "follow": heads.gamma.get(o),
                    "session": heads.delta.get(o),
                    "intercept": heads.alpha.get(o),
                },
            }
            for o in OUTCOMES
        ],  # fmt: skip
        "heads": {"source": heads.source, "fitted_rows": heads.fitted_rows},
        "sources": [
            {"name": s, "meaning": SOURCE_TEXT[s], "quota": params.source_quota.get(s, 0)} for s in SOURCES
        ],
        "non_profiled": "The non-profiled feed uses no personal data: only your region, how recent a video is, "
        "its quality and how popular it is in your region. Nothing you did is read.",
        "model": model,
    }


def _fmt(v: Any) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def markdown(params: RankingParameters, heads: Heads, model: dict[str, Any]) -> str:
    doc = ranking_parameters(params, heads, model)
    lines = [
        "# How the For You feed ranks videos",
        "",
        f"Generated from the live configuration (preset `{params.preset}`, parameters version "
        f"`{params.version}`, model `{model.get('version') or 'none yet'}`). Every served page records these "
        "versions, so any decision can be matched with the parameters it used.",
        "",
        "## Two feeds, your choice",
        "",
        "- **Personalised** (default): also reads your interactions on Etalage (what you watched, liked, bought, "
        "followed or marked not interested), under a pseudonymous key, never your name or contact details. "
        f"It does not show you again a video you saw in the last {_fmt(params.seen_window_hours)} hours, nor, for "
        f"{_fmt(params.bought_window_hours / 24)} days, one selling only products you bought.",
        f"- **Not based on profiling**: {doc['non_profiled']} Switch in the feed or with `PUT /api/v1/feed/settings`; "
        "the choice is remembered. Minors always get this feed.",
        "",
        "## What a video's score counts",
        "",
        "The score is the expected value of purchases, counted in purchases of a typical product: for each outcome, "
        "the predicted chance that you do it times its weight; adding to cart and buying also count the product's "
        "price relative to the median in your region and only the share not expected to be returned. Attention "
        "alone counts little; buying, and keeping what you bought, counts most.",
        "",
        "| outcome | meaning | weight | platform average | sensitivity to taste / follow / session |",
        "|---|---|---|---|---|",
    ]
    for o in doc["outcomes"]:
        s = o["sensitivity"]
        lines.append(f"| {o['name']} | {o['meaning']} | {_fmt(o['weight'])} | {_fmt(o['platform_rate'])} | "
                     f"{_fmt(s['affinity'])} / {_fmt(s['follow'])} / {_fmt(s['session'])} |")  # fmt: skip
    lines += [
        "",
        f"Sensitivities: {doc['heads']['source']} ({doc['heads']['fitted_rows']} served items learned from).",
        "",
        "## Where candidates come from",
        "",
        "| source | meaning | candidates per request |",
        "|---|---|---|",
    ]
    lines += [f"| {s['name']} | {s['meaning']} | {s['quota']} |" for s in doc["sources"]]
    lines += ["", "## All parameters", "", "| parameter | value | what it does |", "|---|---|---|"]
    lines += [f"| `{p['name']}` | {_fmt(p['value'])} | {p['description']} |" for p in doc["parameters"]]
    if model.get("evaluation"):
        lines += ["", "## Model evaluation", "", "```json", json.dumps(model["evaluation"], indent=2), "```"]
    return "\n".join(lines) + "\n"


def model_info(engine: FeedEngine | None) -> dict[str, Any]:
    if engine is None or engine.state.model is None:
        return {"version": None}
    meta = getattr(engine.state.model, "metadata", {}) or {}
    return {"version": engine.state.model_version, "items": engine.state.model.n_items,
            "evaluation": meta.get("evaluation") or {}}  # fmt: skip


def default_document() -> str:
    """The page for the configured parameters (the preset and the operator's overrides), without a running
    engine (``etalage feed transparency``)."""
    params = configured()
    return markdown(params, Heads.defaults(params), {"version": None})
