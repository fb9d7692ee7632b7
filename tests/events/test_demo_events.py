"""The demo's interactions step: believable funnels, bulk-appended, counted by the engagement consumer."""

from __future__ import annotations

import random
from collections import Counter

from rich.progress import Progress

from etalage.db import new_id
from etalage.demo import SCALES, DemoContext
from etalage.demo.accounts import build_accounts
from etalage.demo.events import build_interactions
from etalage.events import engagement
from etalage.events.log import open_event_log


def test_demo_interactions_follow_the_funnel(db, settings, tmp_path):
    own = settings.model_copy(update={"data_dir": tmp_path})
    with Progress(disable=True) as progress:
        ctx = DemoContext(db, own, SCALES["small"], random.Random(3), progress)
        build_accounts(ctx)
        build_interactions(ctx)  # nothing to interact with yet: says so, adds nothing
        assert ctx.counts["events"] == 0
        videos = [
            {"id": new_id("vid"), "product_ids": [new_id("prd")], "category": f"c{i % 5}"} for i in range(60)
        ]
        ctx.data.update(videos=videos, products=[new_id("prd") for _ in range(40)])
        build_interactions(ctx)
    log = open_event_log(own)
    events, offset = [], 1
    while batch := log.read(offset, 5000):
        events += batch
        offset = batch[-1].offset + 1
    assert len(events) == ctx.counts["events"] > 0
    kinds = Counter(e.type for e in events)
    assert kinds["impression"] > kinds["view_start"] > kinds["like"] > 0
    assert kinds["product_click"] > kinds["add_to_cart"]
    assert {e.user for e in events} <= {k for k in {e.user for e in events} if k.startswith("psn_")}
    assert len({e.user for e in events}) == len(ctx.data["shoppers"])
    with db.read() as s:
        counts = engagement.engagement_for(s, [v["id"] for v in videos])
    assert sum(c["impressions"] for c in counts.values()) == kinds["impression"] - sum(
        1 for e in events if e.type == "impression" and "product_id" in e.data
    )
