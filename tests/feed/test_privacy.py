"""The privacy boundary: the feed knows people only by their pseudonymous key and their interactions.

After shoppers with names, e-mail addresses, postal addresses and cards have used the feed (pages,
events, follows, hides, settings) and a model was refitted, no table, file or snapshot the feed owns
contains any of those, nor the shoppers' account ids; and the feed's code imports neither accounts nor
payments.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from etalage.feed import jobs
from etalage.feed.settings import model_dir
from tests.feed import world
from tests.feed.world import DemoWorld

demo_world = world.demo_world  # the module-scoped demo marketplace fixture

FEED_SRC = Path(__file__).resolve().parents[2] / "src" / "etalage" / "feed"
TEST_CARD = "4242424242424242"


def _personal_data(world: DemoWorld, shoppers: list[str]) -> set[str]:
    from etalage.accounts.models import User
    from etalage.commerce.models import Address

    needles = {TEST_CARD}
    with world.db.read() as s:
        for user in s.scalars(select(User).where(User.id.in_(shoppers))):
            needles |= {user.email, user.display_name, user.id}
            if user.birth_date:
                needles.add(user.birth_date.isoformat())
        for a in s.scalars(select(Address).where(Address.user_id.in_(shoppers))):
            needles |= {a.line1, a.recipient, *(x for x in (a.phone,) if x)}
    return {n for n in needles if n and len(n) >= 6}


def _feed_tables_text(world: DemoWorld) -> str:
    from etalage.db import Base, import_all_models

    import_all_models()
    tables = [t for name, t in Base.metadata.tables.items() if name.startswith("feed_")]
    assert {t.name for t in tables} >= {
        "feed_served",
        "feed_settings",
        "feed_follows",
        "feed_hidden",
        "feed_bought",
        "feed_models",
    }
    chunks = []
    with world.db.read() as s:
        for table in tables:
            for row in s.execute(select(table)):
                chunks.append(json.dumps([str(v) for v in row], default=str))
    return "\n".join(chunks)


def test_nothing_the_feed_stores_identifies_a_person(demo_world: DemoWorld, settings) -> None:
    shoppers = list(demo_world.data["shoppers"][:6]) + [demo_world.new_shopper() for _ in range(2)]
    catalogue = [i["id"] for i in demo_world.page(limit=30)["items"]]
    for n, shopper in enumerate(shoppers):
        demo_world.page(shopper)
        demo_world.watched(shopper, catalogue[n : n + 3])
        demo_world.send(shopper, [{"type": "follow", "creator_id": demo_world.data["creators"][n % 3]},
                                  {"type": "not_interested", "video_id": catalogue[-1 - n], "reason": "creator"}])  # fmt: skip
        demo_world.client.put("/api/v1/feed/settings", headers=demo_world.headers(shopper),
                              json={"mode": "personalised", "region": "BE"})  # fmt: skip
        page = demo_world.page(shopper)
        demo_world.client.get(f"/api/v1/feed/served/{page['served_id']}", headers=demo_world.headers(shopper))
    engine = demo_world.engine
    engine.served.flush()
    jobs.refit(demo_world.db, settings.data_dir, engine.event_log)
    from etalage.events.consumer import Consumer  # the feed's own consumer writes follows and hides
    from etalage.feed.learner import consumer

    feed_consumer: Consumer = consumer(engine.event_log, demo_world.db)
    feed_consumer.run_until_caught_up()

    needles = _personal_data(demo_world, shoppers)
    assert len(needles) > 10
    stored = _feed_tables_text(demo_world)
    assert "psn_" in stored  # the pseudonymous keys are there...
    leaks = [n for n in needles if n in stored]
    assert not leaks, f"feed tables contain personal data: {leaks[:5]}"
    files = [p for p in model_dir(settings.data_dir).rglob("*") if p.is_file()]
    assert files
    for path in files:
        blob = path.read_bytes()
        for needle in needles:
            assert needle.encode() not in blob, f"{path} contains personal data"
            assert needle.encode("utf-32-le") not in blob, f"{path} contains personal data (numpy text)"


@pytest.mark.db_agnostic
def test_the_feed_package_never_imports_accounts_or_payments() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+etalage\.(accounts|payments)\b", re.M)
    offenders = [str(p) for p in FEED_SRC.rglob("*.py") if pattern.search(p.read_text())]
    assert not offenders


def test_export_and_forget_cover_everything_kept_under_a_pseudonym(demo_world: DemoWorld) -> None:
    from etalage.feed import service
    from etalage.feed.learner import consumer

    shopper = demo_world.new_shopper()
    catalogue = [i["id"] for i in demo_world.page(limit=10)["items"]]
    demo_world.watched(shopper, catalogue[:2])
    creator = demo_world.data["creators"][0]
    demo_world.send(shopper, [{"type": "follow", "creator_id": creator},
                              {"type": "not_interested", "video_id": catalogue[3]}])  # fmt: skip
    demo_world.client.put(
        "/api/v1/feed/settings", headers=demo_world.headers(shopper), json={"mode": "non_profiled"}
    )
    demo_world.page(shopper, mode="personalised")
    consumer(demo_world.engine.event_log, demo_world.db).run_until_caught_up()
    pseudonym = demo_world.pseudonyms[shopper]
    with demo_world.db.session() as s:
        exported = service.export_pseudonym(s, pseudonym)
    assert exported["settings"] == {"mode": "non_profiled", "region": None}
    assert exported["follows"] == [creator] and exported["not_interested"] == [
        {"item_id": catalogue[3], "kind": "video"}
    ]
    assert exported["served_pages"] and exported["served_pages"][-1]["history_read"]
    assert {e.get("creator_id") for e in exported["latest_interactions"]} >= {creator}  # the stored history
    with demo_world.db.session() as s:
        counts = service.forget(s, pseudonym)
    assert counts["served"] >= 1 and counts["settings"] == counts["follows"] == counts["hidden"] == 1
    assert counts["history"] == 1
    with demo_world.db.session() as s:
        assert service.export_pseudonym(s, pseudonym) == {"settings": None, "follows": [], "not_interested": [],
                                                          "bought_recently": [], "latest_interactions": [],
                                                          "served_pages": []}  # fmt: skip
