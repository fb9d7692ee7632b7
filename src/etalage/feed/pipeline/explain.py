"""Why each served item was chosen, in numbers (logged) and plain words (the "Why am I seeing this?" panel).

Contributions are in the score's own unit (expected purchases of a typical product, net of returns):
``value`` splits by outcome (weight × predicted chance, × the purchase's worth for cart and purchase), then re-ranking adds ``quality`` (≤ 0), ``exploration`` (≥ 0) and
``diversity`` (≤ 0); together they sum exactly to the item's ``score``. The reasons shown are the largest
effects among: the viewer's signals (taste, followed creator, this session; each measured as the value
it added: value − value without it), the item's own record against the platform average, and the
re-ranking adjustments. Each reason has a stable ``code`` for translations.
"""

from __future__ import annotations

from typing import Any

from etalage.feed.parameters import OUTCOMES, SOURCE_TEXT, SOURCES, RankingParameters
from etalage.feed.pipeline import heads as H
from etalage.feed.pipeline.context import Candidates, FeedRequest
from etalage.feed.pipeline.rerank import Pick


def _quote(card: dict[str, Any] | None) -> str:
    if not card:
        return "a video you engaged with"
    text = (card.get("caption") or card.get("title") or "").strip().replace("\n", " ")
    return f"“{text[:60]}{'…' if len(text) > 60 else ''}”" if text else "a video you engaged with"


def _item_record_text(c: Candidates, row: int, positive: bool, global_rates: dict[str, float]) -> str:
    if not positive:
        return "Usually gets less engagement than the average video"
    for outcome, text in (
        ("purchase", "Often bought by people who watch it"),
        ("add_to_cart", "Often added to carts by people who watch it"),
        ("like_share", "People who see it often like or share it"),
    ):
        if float(c.feats[f"rate_{outcome}"][row]) >= 1.5 * global_rates.get(outcome, 1.0):
            return text
    return "People who see it often watch it to the end"


def _quality_text(q: dict[str, Any] | None) -> str:
    if not q:
        return "Shown lower: its products disappoint buyers more than usual"
    parts = []
    if q["return_rate"] > 0.12:
        parts.append("often returned")
    if q["complaint_rate"] > 0.002:
        parts.append("reported by viewers")
    if q["low_rating_share"] > 0.2:
        parts.append("rated low")
    return "Shown lower: its products are " + (" and ".join(parts) if parts else "less satisfying than usual")


def explain_item(
    c: Candidates,
    pick: Pick,
    effects: dict[str, float],
    req: FeedRequest,
    params: RankingParameters,
    cards: dict[str, dict[str, Any]],
    because_id: str | None,
    quality: dict[str, Any] | None,
    region_name: str,
    global_rates: dict[str, float],
) -> dict[str, Any]:
    row = pick.row
    source = SOURCES[int(c.source[row])]
    worth = float(c.feats["worth"][row]) if "worth" in c.feats else None
    value_parts = {
        o: round(float(part), 6)
        for o, part in H.parts({o: float(c.feats[f"p_{o}"][row]) for o in OUTCOMES}, params, worth).items()
    }
    because = cards.get(because_id) if because_id else None
    candidates: list[dict[str, Any]] = []

    def add(code: str, contribution: float, text: str, because_of: str | None = None) -> None:
        if abs(contribution) > 1e-9:
            candidates.append({"code": code, "text": text, "contribution": round(contribution, 6),
                               "because_of": because_of})  # fmt: skip

    add("taste", effects.get("affinity", 0.0),
        f"Matches your taste, like {_quote(because)}" if because_id else "Matches your taste",
        because_id)  # fmt: skip
    add("follow", effects.get("follow", 0.0), "From a creator you follow")
    add("session", effects.get("session", 0.0), f"Similar to {_quote(because)} from this session", because_id)
    rec = effects.get("item_record", 0.0)
    add("item_record", rec, _item_record_text(c, row, rec > 0, global_rates))
    add("quality", pick.quality_adj, _quality_text(quality))
    if c.feats["age_h"][row] <= params.exploration_new_hours:
        explore_text = "A new video getting a first audience"
    elif c.feats["impressions"][row] < params.exploration_max_impressions:
        explore_text = "A video few people have seen yet, getting a fair chance"
    else:
        explore_text = "A creator new to your feed"
    add("exploration", pick.exploration, explore_text)
    add("diversity", pick.diversity, "Shown lower to vary creators, shops and categories on your page")
    candidates.sort(key=lambda r: -abs(r["contribution"]))
    reasons = candidates[:3]
    if source == "trending":
        reasons.insert(0, {"code": "trending", "text": f"Trending in {region_name}", "contribution": None,
                           "because_of": None})  # fmt: skip
    if not req.personal:
        reasons.append({"code": "non_profiled", "contribution": None, "because_of": None,
                        "text": f"Not based on your activity: ranked by what is popular, new and well rated "
                                f"in {region_name}"})  # fmt: skip
    positive = [r for r in reasons if (r["contribution"] or 0) > 0 or r["code"] == "trending"]
    summary = positive[0]["text"] if positive else SOURCE_TEXT[source].capitalize()
    return {
        "source": source,
        "source_text": SOURCE_TEXT[source],
        "because_of": because_id,
        "summary": summary,
        "reasons": reasons,
        "score": round(pick.score, 6),
        "value": value_parts,
        "adjustments": {
            "quality": round(pick.quality_adj, 6),
            "exploration": round(pick.exploration, 6),
            "diversity": round(pick.diversity, 6),
        },
    }
