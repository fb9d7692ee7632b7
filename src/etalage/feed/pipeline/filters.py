"""Filters: what may not be shown to this viewer, here, now. All vectorised over the candidate set.

- published and not removed (the index's flag; the removed-set is re-checked on the final page too);
- may be sold and shown in the viewer's region (a video's products: active, verified trader, priced
  there, stock above zero in a warehouse that delivers there; a video without products is shown);
- age: a minor never sees age-restricted products, and where the region forbids sales to minors, no
  shoppable video at all;
- personalised mode only: not shown to them within the seen window, not marked "not interested"
  (the video, its creator or its product), not a video of products they all bought within the bought
  window (nobody wants to be sold what they have just bought);
- every mode: not already on an earlier page of the same scroll (cursor chain).
"""

from __future__ import annotations

import numpy as np

from etalage.feed import catalogue
from etalage.feed.index import FeedIndex
from etalage.feed.pipeline.context import Candidates, FeedRequest, History


def _isin(values: np.ndarray, members: set[int]) -> np.ndarray:
    if not members:
        return np.zeros(len(values), np.bool_)
    return np.isin(values, np.fromiter(members, np.int64, len(members)))


def _all_bought(index: FeedIndex, bought: set[str]) -> set[int]:
    """Items every product of which was bought (a video showing one more product can still sell it)."""
    items: set[int] = set()
    for pid in bought:
        for i in index.product_items.get(pid, ()):
            if all(p in bought for p in index.item_products[i]):
                items.add(i)
    return items


def apply(
    c: Candidates, req: FeedRequest, hist: History, index: FeedIndex
) -> tuple[Candidates, dict[str, int]]:
    """The candidates that pass, and how many each filter removed (logged with the page)."""
    idx = c.idx
    n = index.n
    removed: dict[str, int] = {}
    mask = idx < n
    idx_ok = np.where(mask, idx, 0)

    def drop(name: str, bad: np.ndarray) -> None:
        nonlocal mask
        hit = mask & bad
        if hit.any():
            removed[name] = int(hit.sum())
            mask &= ~bad

    drop("not_published", ~index.alive[idx_ok])
    r = index.region_row.get(req.region)
    if r is not None:
        drop("not_sold_in_region", ~index.sellable[r, idx_ok])
    if req.age_band == "minor":
        drop("age_restricted", index.restricted[idx_ok])
        if catalogue.min_purchase_age(req.region):
            drop("age_restricted", index.has_products[idx_ok])
    if req.personal:
        drop("seen_recently", _isin(idx_ok, hist.seen))
        drop(
            "not_interested",
            _isin(idx_ok, hist.hidden_items) | _isin(index.creator[idx_ok], hist.hidden_creators),
        )
        if hist.hidden_products:
            items: set[int] = set()
            for pid in hist.hidden_products:
                items |= index.product_items.get(pid, set())
            drop("not_interested", _isin(idx_ok, items))
        if hist.bought_products:
            drop("bought_recently", _isin(idx_ok, _all_bought(index, hist.bought_products)))
    if req.exclude:
        earlier = {index.pos[i] for i in req.exclude if i in index.pos}
        drop("earlier_page", _isin(idx_ok, earlier))
    return c.take(mask), removed
