"""Re-ranking: quality, diversity, exploration and frequency caps turn scored candidates into a page.

Slot by slot (greedy), each candidate's score is

    base = value × quality                                    (quality demotes returned/complained items)
    explore slots: base + κ·uncertainty × quality             (optimism for new items and creators)
    × creator_decay^(same creator already on the page) × merchant_decay^… × category_decay^…

with hard caps per creator, per shop and for live rooms. ``exploration_share`` of the slots, spread
evenly down the page, go to the best "new" candidate (published within ``exploration_new_hours`` or
with fewer than ``exploration_max_impressions`` impressions, or by a creator whose videos together
have fewer); if there is none, the slot is an ordinary one. Every adjustment is recorded per
item, so the final score splits exactly into value parts + quality + exploration + diversity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from etalage.feed.index import KIND_LIVE
from etalage.feed.parameters import RankingParameters
from etalage.feed.pipeline.context import Candidates


@dataclass
class Pick:
    row: int  # row in the candidate arrays
    score: float
    value: float
    quality_adj: float
    exploration: float
    diversity: float
    explore_slot: bool


def explore_slots(limit: int, share: float) -> set[int]:
    n = int(round(limit * share))
    if n <= 0 and share > 0 and limit >= 4:
        n = 1
    n = min(n, limit)
    return {int((k + 1) * limit / (n + 1)) for k in range(n)}


def rerank(c: Candidates, params: RankingParameters, limit: int, spare: int = 0) -> list[Pick]:
    """``limit`` picks, then up to ``spare`` more ordinary ones in the same greedy order: the page uses them
    only where a pick turns out to be unservable (removed between the candidates and the cards)."""
    k = len(c)
    if k == 0 or limit <= 0:
        return []
    value = c.feats["value"]
    q = c.feats["quality"].astype(np.float64)
    base = value * q
    bonus = params.exploration_kappa * c.feats["uncertainty"] * q
    creators, merchants, cats = c.feats["creator"], c.feats["merchant"], c.feats["category"]
    new = (c.feats["age_h"] <= params.exploration_new_hours) | (
        c.feats["impressions"] < params.exploration_max_impressions
    )
    if "creator_impressions" in c.feats:  # a creator whose videos have hardly been shown yet
        new |= (creators >= 0) & (c.feats["creator_impressions"] < params.exploration_max_impressions)
    live = c.feats["kind"] == KIND_LIVE
    # per-page counts of each creator / shop / category, looked up through compact codes
    groups = []
    for codes in (creators, merchants, cats):
        uniq, inv = np.unique(codes, return_inverse=True)
        groups.append((inv, np.zeros(len(uniq)), uniq >= 0))
    taken = np.zeros(k, np.bool_)
    live_count = 0
    slots = explore_slots(limit, params.exploration_share)
    picks: list[Pick] = []
    decays = (params.creator_decay, params.merchant_decay, params.category_decay)
    for slot in range(limit + spare):
        (ci, cc, _), (mi, mc, _), (gi, gc, _) = groups
        nc, nm, ng = cc[ci], mc[mi], gc[gi]
        factor = decays[0] ** nc * decays[1] ** nm * decays[2] ** ng
        allowed = ~taken & (nc < params.max_per_creator) & (nm < params.max_per_merchant)
        if live_count >= params.max_live_per_page:
            allowed &= ~live
        explore = slot in slots and bool((allowed & new).any())
        pool = allowed & new if explore else allowed
        if not pool.any():
            pool = ~taken  # caps cannot be met (tiny catalogue): fill rather than leave a hole
            if not pool.any():
                break
        raw = base + (bonus if explore else 0.0)
        eff = np.where(pool, raw * factor, -np.inf)
        row = int(np.argmax(eff))
        taken[row] = True
        for inv, counts, valid in groups:
            if valid[inv[row]]:
                counts[inv[row]] += 1
        live_count += int(live[row])
        exploration = float(bonus[row]) if explore else 0.0
        final = float(eff[row])
        picks.append(
            Pick(
                row=row,
                score=final,
                value=float(value[row]),
                quality_adj=float(base[row] - value[row]),
                exploration=exploration,
                diversity=final - float(base[row]) - exploration,
                explore_slot=explore,
            )
        )
    return picks
