"""Why was this item shown? Exact per-component and per-history-item contributions.

Every component is linear in the (recency-weighted) history, and the blend standardises each
component with the request's mean and standard deviation, so an item's final score splits
exactly into: prior + Σ_components (Σ_history-items part − mean part). The feed turns the largest
parts into plain words ("Because you watched X", "Popular right now").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from etalage.feed.model import EtalageModel

from etalage.feed.model import REASONS


def _per_history_item(model: EtalageModel, comp: str, hist_items: np.ndarray, hist_w: np.ndarray, item: int):
    """Raw component score of ``item`` contributed by each history entry."""
    if comp == "collab":
        return hist_w * (model.left[hist_items] @ model.right[item])
    if comp == "coeng":
        # slice the history's rows first: a column of a CSR table would scan all of it
        part = model.coeng[hist_items][:, [item]] + model.coeng_online[hist_items][:, [item]]
        return hist_w * part.toarray().ravel()
    if comp == "sequel":
        part = model.sequel[hist_items][:, [item]] + model.sequel_online[hist_items][:, [item]]
        return hist_w * part.toarray().ravel()
    if comp == "flow":
        return hist_w * (model.item_factors[hist_items] @ model.flow[:, item])
    if comp == "content" and model.content is not None:
        return hist_w * (model.content[hist_items] @ model.content[item])
    return np.zeros(len(hist_items), np.float32)


def explain_item(
    model: EtalageModel,
    item_indices: np.ndarray,
    item: int,
    weights: Any = None,
    timestamps: Any = None,
    top: int = 3,
) -> dict[str, Any]:
    """Breakdown of ``score_history(...)[item]``.

    Returns ``{"item_id", "score", "components": {name: contribution}, "reasons": [...],
    "summary"}``; each reason is ``{"component", "because_of" (item id or None),
    "contribution", "text"}``, largest first. ``score`` equals ``sum(components.values())``.
    """
    cfg = model.config
    hist, hist_seq = model._history_rows(item_indices, weights, timestamps)
    empty = abs(hist).sum() == 0  # no usable history: the score is the prior alone (see scoring.py)
    comps = {} if empty else model.component_scores(hist, hist_seq)
    prior_weight = 1.0 if empty else float(cfg.weights.get("prior", 0.0))
    components: dict[str, float] = {"prior": float(prior_weight * model.prior_z[item])}
    reasons: list[dict[str, Any]] = []
    if components["prior"] > 0:
        reasons.append(
            {
                "component": "prior",
                "because_of": None,
                "contribution": components["prior"],
                "text": REASONS["prior"],
            }
        )
    for name, s in comps.items():
        w = float(cfg.weights.get(name, 0.0))
        row = s[0].astype(np.float64)
        std = row.std()
        if not w or std <= 1e-12:
            components[name] = 0.0
            continue
        components[name] = float(w * (row[item] - row.mean()) / std)
        h = hist_seq if name == "sequel" else hist
        parts = w * _per_history_item(model, name, h.indices, h.data, item) / std
        if name in ("collab", "flow"):
            # a latent match is about the whole history: report it once, not per item
            if parts.sum() > 0:
                reasons.append(
                    {
                        "component": name,
                        "because_of": None,
                        "contribution": float(parts.sum()),
                        "text": REASONS[name],
                    }
                )
            continue
        for j in np.argsort(-parts)[:top]:
            if parts[j] <= 0:
                break
            src = model.item_ids[int(h.indices[j])]
            reasons.append(
                {
                    "component": name,
                    "because_of": src,
                    "contribution": float(parts[j]),
                    "text": REASONS[name].format(item=src),
                }
            )
    reasons.sort(key=lambda r: -r["contribution"])
    reasons = reasons[:top]
    return {
        "item_id": model.item_ids[item],
        "score": float(sum(components.values())),
        "components": components,
        "reasons": reasons,
        "summary": reasons[0]["text"] if reasons else "recommended for you",
    }
