"""What a shopper bought leaves their personalised feed: at once (the in-memory tail of events), and later
from the feed's own table (the consumer keeps it), for ``bought_window_hours``; a video that also shows
another product stays. Real purchases over HTTP at the test PSP, on the small demo marketplace."""

from __future__ import annotations

import time
import uuid
from typing import Any

from etalage.feed.pipeline import filters
from etalage.feed.pipeline.history import read_history
from tests.factories import Factory
from tests.feed import world
from tests.feed.world import DemoWorld, wait_for
from tests.payments.psp import Psp

demo_world = world.demo_world  # the module-scoped demo marketplace fixture


def _scroll(demo_world: DemoWorld, shopper: str, region: str) -> set[str]:
    """Every item of one personalised scroll until the feed runs out of new ones."""
    seen: set[str] = set()
    cursor = None
    for _ in range(40):
        params: dict[str, Any] = {"limit": 50, "region": region, "mode": "personalised"}
        if cursor:
            params["cursor"] = cursor
        page = demo_world.page(shopper, **params)
        seen |= {i["id"] for i in page["items"]}
        cursor = page.get("next_cursor")
        if not cursor or page.get("end_reason"):
            break
    return seen


def _product_with_videos(demo_world: DemoWorld, region: str) -> tuple[str, list[str]]:
    """A product sold in ``region`` that is the only product of at least two published videos."""
    index = demo_world.engine.index
    best: tuple[str, list[str]] | None = None
    for pid, items in index.product_items.items():
        facts = index.products.get(pid)
        if facts is None or region not in facts.regions:
            continue
        only = [index.ids[i] for i in items if index.item_products[i] == (pid,) and index.alive[i]]
        if len(only) >= 2 and (best is None or len(only) > len(best[1])):
            best = (pid, sorted(only))
    assert best is not None, "the demo marketplace has no product shown in two videos"
    return best


def test_a_product_bought_leaves_the_buyers_feed_at_once_and_stays_out(
    demo_world: DemoWorld, psp: Psp
) -> None:
    region = "BE"
    pid, videos = _product_with_videos(demo_world, region)
    buyer = Factory(demo_world.db).shopper(region, psp=psp).id  # saved address and card: one tap
    other = demo_world.new_shopper(region=region)
    assert set(videos) & _scroll(demo_world, other, region), "the product's videos are servable here"

    detail = demo_world.client.get(f"/api/v1/products/{pid}", params={"region": region}).json()
    variant = next(v for v in detail["variants"] if (v.get("available") or 0) > 0)
    bought = demo_world.client.post(
        "/api/v1/buy-now",
        json={"variant_id": variant["id"], "quantity": 1, "source": {"video_id": videos[0]}},
        headers={**demo_world.headers(buyer), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert bought.status_code == 201 and bought.json()["status"] == "paid", bought.text

    def gone() -> set[str] | None:
        shown = _scroll(demo_world, buyer, region)
        return shown if shown and not set(videos) & shown else None

    shown = wait_for(gone, timeout=5.0)  # the purchase event is appended when the payment commits
    assert shown, f"a video of {pid} was still served after it was bought"
    assert _scroll(demo_world, other, region) & set(videos), "others still see it"

    # Later, from the feed's own table: the consumer keeps the latest purchase per product.
    from etalage.feed import service
    from etalage.feed.learner import consumer

    consumer(demo_world.engine.event_log, demo_world.db).run_until_caught_up()
    pseudonym = demo_world.pseudonyms[buyer]
    with demo_world.db.session() as s:
        kept = service.export_pseudonym(s, pseudonym)["bought_recently"]
    assert [b["product_id"] for b in kept] == [pid]
    assert abs(kept[0]["bought_at_ms"] - time.time() * 1000) < 60_000
    params = demo_world.engine.state.params
    index = demo_world.engine.index
    now_ms = time.time() * 1000
    from_table = read_history([], index, params, now_ms, stored_bought=[(pid, kept[0]["bought_at_ms"])])
    assert from_table.bought_products == {pid}
    window_ms = params.bought_window_hours * 3_600_000
    expired = read_history([], index, params, now_ms, stored_bought=[(pid, now_ms - window_ms - 1)])
    assert not expired.bought_products  # after the window the product may be shown again
    with demo_world.db.session() as s:
        assert service.forget(s, pseudonym)["bought"] == 1


def test_a_video_showing_another_product_too_is_still_shown(demo_world: DemoWorld) -> None:
    index = demo_world.engine.index
    mixed = next(i for i, pids in enumerate(index.item_products) if len(pids) >= 2)  # the demo has some
    first = index.item_products[mixed][0]
    assert mixed not in filters._all_bought(index, {first})  # it still sells the other product
    assert mixed in filters._all_bought(index, set(index.item_products[mixed]))
