"""The demo's moderation step leaves the console work to do: open cases (minors' safety first), a decided
removal with its statement, and an appeal waiting for a moderator other than the one who decided."""

from __future__ import annotations

import random

import pytest
from rich.progress import Progress

from etalage.content import media
from etalage.demo import SCALES, DemoContext
from etalage.demo.compliance import build_compliance
from tests.factories import make_video


@pytest.mark.skipif(not media.ffmpeg_available(), reason="ffmpeg/ffprobe not installed")
def test_demo_moderation_step(api, factory, db, settings):
    creator, shop = factory.user("shopper", "creator"), factory.verified_merchant()
    moderator, admin = factory.user("moderator"), factory.user("admin", "shopper")
    shoppers = [factory.user("shopper").id for _ in range(5)]
    videos = [{"id": make_video(factory, creator)} for i in range(3)]
    products = [{"id": factory.product(shop)["product_id"]} for _ in range(2)]
    with Progress(disable=True) as progress:
        ctx = DemoContext(db, settings, SCALES["small"], random.Random(1), progress)
        ctx.data.update(videos=videos, products=products, shoppers=shoppers, moderator=moderator.id)
        build_compliance(ctx)
    assert ctx.counts["notices"] == 6 and ctx.counts["appeals"] == 1
    queue = api.get(
        "/api/v1/moderation/queue", params={"order": "severity"}, headers=moderator.headers
    ).json()
    assert [c["severity"] for c in queue["items"]] == [1, 2, 4]
    assert queue["items"][0]["target"]["id"] == videos[2]["id"]
    appeals = api.get("/api/v1/moderation/appeals", headers=admin.headers).json()["items"]
    assert len(appeals) == 1 and appeals[0]["decision"]["action"] == "no_action"
    report = api.get("/api/v1/transparency/report").json()
    assert report["notices"]["total"] == 6 and report["decisions"]["total"] == 2
