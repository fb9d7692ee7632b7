"""Reading a viewer's recent events: what they engaged with, saw, hid and follow.

The events come newest first from ``events.service.recent_events`` (an in-memory tail of the log, fresh
within ~10 ms), so an interaction changes the very next page. Follows, "not interested" marks and purchases
older than that window come from the feed's own tables (``FeedFollow``/``FeedHidden``/``FeedBought``,
kept by the feed consumer) and are merged in by the service.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from etalage.feed.index import FeedIndex
from etalage.feed.parameters import RankingParameters
from etalage.feed.pipeline.context import History


def kind_of(data: dict[str, Any]) -> str | None:
    """Our name for what an event says: view_complete, view_half, like, share, comment, product_click,
    add_to_cart, purchase, impression, skip, not_interested, report, follow, unfollow (None: nothing)."""
    t = data.get("type")
    if t == "view_end":
        ratio = float(data.get("watch_ratio", 0.0))
        if ratio >= 0.9:
            return "view_complete"
        return "view_half" if ratio >= 0.5 else "view_short"
    if t in ("like", "follow"):
        if data.get("undo"):
            return "unlike" if t == "like" else "unfollow"
        return t
    return t if isinstance(t, str) else None


def media_of(data: dict[str, Any]) -> str | None:
    return data.get("video_id") or data.get("live_room_id")


def read_history(
    events: Iterable[Any],
    index: FeedIndex,
    params: RankingParameters,
    now_ms: float,
    stored_follows: Iterable[str] = (),
    stored_hidden: Iterable[tuple[str, str]] = (),
    stored_bought: Iterable[tuple[str, float]] = (),
) -> History:
    """``events``: StoredEvent-like objects (``.data``), newest first; ``stored_*``: the feed's tables
    (older than the in-memory window); a newer event (e.g. an unfollow) overrides them.
    ``stored_bought``: (product id, when last bought, epoch ms)."""
    h = History.empty()
    weights: dict[int, float] = {}
    latest: dict[int, float] = {}
    unliked: set[int] = set()
    decided_creators: set[str] = set()
    window = params.seen_window_hours * 3_600_000.0
    bought_window = params.bought_window_hours * 3_600_000.0
    hw = params.history_weights
    for ev in events:
        d = ev.data
        kind = kind_of(d)
        if kind is None:
            continue
        ts = float(d.get("ts", now_ms))
        if kind in ("follow", "unfollow"):
            creator = d.get("creator_id")
            if creator and creator not in decided_creators:  # newest decision wins
                decided_creators.add(creator)
                code = index.creators.code.get(creator)
                if kind == "follow" and code is not None:
                    h.follows.add(code)
            continue
        if kind == "purchase" and d.get("product_id") and now_ms - ts <= bought_window:
            h.bought_products.add(d["product_id"])  # a purchase also counts as interest, below
        media = media_of(d)
        i = index.pos.get(media) if media else None
        if kind == "not_interested":
            if i is not None:
                h.hidden_items.add(i)
                if d.get("reason") == "creator" and index.creator[i] >= 0:
                    h.hidden_creators.add(int(index.creator[i]))
            if d.get("product_id") and d.get("reason") in ("product", None):
                h.hidden_products.add(d["product_id"])
            continue
        if i is None:
            continue  # unknown or deleted item: nothing to learn from it here
        if kind == "unlike":
            unliked.add(i)
            continue
        if now_ms - ts <= window:  # any interaction means it was on screen
            h.seen.add(i)
        w = float(hw.get(kind, 0.0))
        if kind == "like" and i in unliked:
            w = 0.0
        if w > 0:
            weights[i] = max(weights.get(i, 0.0), w)
            latest[i] = max(latest.get(i, 0.0), ts)
    for creator in stored_follows:
        code = index.creators.code.get(creator)
        if creator not in decided_creators and code is not None:
            h.follows.add(code)
    for item_id, kind in stored_hidden:
        if kind == "creator":
            code = index.creators.code.get(item_id)
            if code is not None:
                h.hidden_creators.add(code)
        elif kind == "product":
            h.hidden_products.add(item_id)
        elif item_id in index.pos:
            h.hidden_items.add(index.pos[item_id])
    for product_id, bought_ms in stored_bought:
        if now_ms - bought_ms <= bought_window:
            h.bought_products.add(product_id)
    if weights:
        order = sorted(weights, key=lambda i: -latest[i])
        h.items = np.array(order, np.int64)
        h.weights = np.array([weights[i] for i in order], np.float32)
        h.ts_ms = np.array([latest[i] for i in order], np.float64)
        h.logged = [[index.ids[i], round(weights[i], 3), int(latest[i])] for i in order]
    return h
