"""Demo step: the shoppers' interactions over the last two weeks, written straight into the event log.

Each shopper has tastes (two or three favourite topics); each interaction shows them an item chosen by
those tastes and by popularity, and walks the funnel: impression, then a view whose length follows how
much the item suits them (or a quick skip), then sometimes a like, a share, a comment, a follow, a product
click, an add to cart. Purchases come only from the orders the commerce step made (the server writes
purchase events, clients never do). Items come from what earlier steps left in ``ctx.data`` (videos,
live rooms, products; ids or dicts); without any, the step says so and adds nothing.
"""

from __future__ import annotations

import math
import time
import zlib
from itertools import accumulate
from typing import Any

from etalage.demo import DemoContext

DAY_MS = 86_400_000
TOPICS = 8
CHUNK = 5000


def _items(raw: Any, kind: str) -> list[dict[str, Any]]:
    """Normalise whatever an earlier step stored: ids, or dicts with an id and optional details."""
    out = []
    for entry in raw or []:
        item = {"id": entry} if isinstance(entry, str) else dict(entry)
        if not isinstance(item.get("id"), str):
            continue
        topic = item.get("category_id") or item.get("category") or item.get("topic") or item["id"]
        item["topic"] = zlib.crc32(str(topic).encode()) % TOPICS
        item["kind"] = kind
        products = item.get("product_ids") or item.get("products") or []
        item["products"] = [p if isinstance(p, str) else p.get("id") for p in products if p]
        out.append(item)
    return out


def _pseudonyms(ctx: DemoContext, user_ids: list[str]) -> dict[str, str]:
    from etalage.accounts import service as accounts

    with ctx.db.session() as s:
        return {uid: accounts.pseudonym_for(s, uid) for uid in user_ids}


def build_interactions(ctx: DemoContext) -> None:
    from etalage.events import engagement
    from etalage.events import service as events_service
    from etalage.events.service import event_log, notify_appended, purchase_events

    rng = ctx.rng
    shoppers: list[str] = list(ctx.data.get("shoppers") or [])
    media = _items(ctx.data.get("videos"), "video") + _items(ctx.data.get("live_rooms"), "live_room")
    products = _items(ctx.data.get("products"), "product")
    orders = list(ctx.data.get("orders") or [])
    if not shoppers or not (media or products):
        ctx.counts["events"] = 0
        ctx.progress.console.print("  interactions: no videos or products from earlier steps; none made")
        return
    log = event_log(ctx.settings)
    keys = _pseudonyms(ctx, shoppers + sorted({o["user_id"] for o in orders if o.get("user_id")}))
    pool = media or products
    # Popularity: a Zipf-like weight per item, so a few items are hits and most are long tail.
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(pool))]
    rng.shuffle(weights)
    by_topic: dict[int, list[int]] = {}
    for index, item in enumerate(pool):
        by_topic.setdefault(item["topic"], []).append(index)
    topics = sorted(by_topic)
    creators = list(ctx.data.get("creators") or [])
    now_ms = int(time.time() * 1000)
    per_shopper = int(ctx.scale.get("interactions_per_shopper", 10))
    task = ctx.task("Interactions", len(shoppers))
    buffer: list[dict[str, Any]] = []
    total = 0

    def flush() -> None:
        nonlocal total
        if buffer:
            notify_appended(log, log.append(buffer))
            total += len(buffer)
            buffer.clear()

    world = _World(pool, products, creators, weights, by_topic, topics, per_shopper)
    for n, user_id in enumerate(shoppers):
        start = now_ms - rng.randint(0, 14 * DAY_MS)
        buffer.extend(_shopper_events(rng, world, keys[user_id], f"demo{n:05d}", start))
        if len(buffer) >= CHUNK:
            flush()
        ctx.progress.advance(task)
    flush()
    purchases: list[dict[str, Any]] = []
    for order in orders:
        if order.get("user_id") in keys and order.get("paid_at"):
            purchases += purchase_events(order, keys[order["user_id"]], secret=ctx.settings.secret_key)
    for start in range(0, len(purchases), CHUNK):
        buffer.extend(purchases[start : start + CHUNK])
        flush()
    counted = engagement.consumer(log, ctx.db).run_until_caught_up()
    # The other durable consumers too (the feed's follows, hidden items and stored histories), as the
    # server's worker would: the demo's shoppers come back to a feed that already knows them.
    from etalage.app import domain_modules

    domain_modules("jobs")  # where domains register their consumers
    for other in events_service.consumers(log, ctx.db):
        if other.name != engagement.NAME:
            other.run_until_caught_up()
    ctx.counts["events"] = total
    ctx.data["event_log_last_offset"] = log.last_offset()
    ctx.progress.console.print(
        f"  interactions: {total:,} events ({len(purchases):,} purchases) for {len(shoppers):,} shoppers, "
        f"{math.ceil(total / max(1, len(shoppers)))} each; {counted:,} counted into item engagement"
    )


class _World:
    def __init__(self, pool, products, creators, weights, by_topic, topics, per_shopper) -> None:  # type: ignore[no-untyped-def]
        self.pool, self.products, self.creators = pool, products, creators
        self.weights, self.by_topic, self.topics, self.per_shopper = weights, by_topic, topics, per_shopper
        # cumulative weights per topic, once: a draw is then a bisection, not a pass over the topic's items
        # (the same draws as passing the weights, which random.choices accumulates on every call)
        self.cum_weights = {t: list(accumulate(weights[i] for i in items)) for t, items in by_topic.items()}


def _shopper_events(rng: Any, world: _World, key: str, session: str, t: int) -> list[dict[str, Any]]:
    """One shopper's interactions: impressions chosen by taste and popularity, then the funnel."""
    out: list[dict[str, Any]] = []
    platform = rng.choice(("ios", "android", "web"))

    def emit(kind: str, when: int, **fields: Any) -> None:
        out.append(
            {"type": kind, "event_id": f"{session}.{len(out) + 1}", "user": key, "ts": when, "client_ts": when,
             "recv": when + rng.randint(50, 4000), "platform": platform, "session_id": session,
             "surface": "for_you", **fields}
        )  # fmt: skip

    topics = world.topics
    liked = rng.sample(topics, k=min(len(topics), rng.choice((2, 2, 3))))
    for position in range(world.per_shopper):
        topic = rng.choice(liked) if rng.random() < 0.7 else rng.choice(topics)
        candidates = world.by_topic[topic]
        index = rng.choices(candidates, cum_weights=world.cum_weights[topic])[0]
        item = world.pool[index]
        affinity = 0.8 if topic in liked else 0.25
        target = {f"{item['kind']}_id": item["id"]}
        t += rng.randint(2_000, 90_000)
        if item["kind"] == "product":
            emit("product_click", t, position=position, **target)
            if rng.random() < 0.15 * affinity:
                emit("add_to_cart", t + 8_000, quantity=1, **target)
            continue
        emit("impression", t, position=position, **target)
        if rng.random() > 0.35 + 0.6 * affinity:
            dwell = rng.randint(300, 1400)
            emit("skip", t + dwell, dwell_ms=dwell, **target)
            continue
        ratio = max(0.02, min(3.0, rng.gauss(0.35 + 0.7 * affinity, 0.3)))
        dwell = int(ratio * rng.randint(8_000, 45_000))
        emit("view_start", t + 200, **target)
        emit("view_end", t + 200 + dwell, dwell_ms=dwell, watch_ratio=round(ratio, 3), **target)
        after = t + 300 + dwell
        if rng.random() < 0.25 * ratio:
            emit("like", after, **target)
        if rng.random() < 0.03 * ratio:
            emit("share", after + 1_000, channel=rng.choice(("link", "message", "social")), **target)
        if rng.random() < 0.04 * ratio:
            emit("comment", after + 5_000, **target)
        creators = world.creators
        creator = item.get("creator_id") or (creators[index % len(creators)] if creators else None)
        if creator and rng.random() < 0.02 * ratio:
            emit("follow", after + 2_000, creator_id=creator, **target)
        products = world.products
        tagged = item["products"] or ([products[index % len(products)]["id"]] if products else [])
        if tagged and rng.random() < 0.12 * ratio:
            product = rng.choice(tagged)
            emit("product_click", after + 1_500, product_id=product, **target)
            if rng.random() < 0.3 * affinity:
                emit("add_to_cart", after + 9_000, product_id=product, quantity=1, **target)
        if rng.random() < 0.1:
            emit("scroll", after + 400, velocity=float(rng.randint(400, 6000)))
    return out


STEP = (70, "interactions", build_interactions)
