"""Consumers read by offset, commit the offset with their effects, and replay from any point."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from etalage.db import new_id
from etalage.events import engagement
from etalage.events.consumer import Consumer, ConsumerThreads
from etalage.events.models import ConsumerOffset, ItemEngagement

VIDEO, LIVE, PRODUCT, CREATOR = new_id("vid"), new_id("lrm"), new_id("prd"), new_id("usr")


def events(n_users: int = 3) -> list[dict]:
    now = int(time.time() * 1000)
    out = []
    for u in range(n_users):
        base = {"user": f"psn_{u}", "client_ts": now, "ts": now, "recv": now}
        out += [
            {**base, "type": "impression", "event_id": f"{u}-1", "video_id": VIDEO},
            {**base, "type": "view_start", "event_id": f"{u}-2", "video_id": VIDEO},
            {
                **base,
                "type": "view_end",
                "event_id": f"{u}-3",
                "video_id": VIDEO,
                "dwell_ms": 1000,
                "watch_ratio": 0.95,
            },
            {**base, "type": "like", "event_id": f"{u}-4", "video_id": VIDEO},
            {**base, "type": "product_click", "event_id": f"{u}-5", "product_id": PRODUCT, "video_id": VIDEO},
            {
                **base,
                "type": "add_to_cart",
                "event_id": f"{u}-6",
                "product_id": PRODUCT,
                "live_room_id": LIVE,
            },
            {
                **base,
                "type": "purchase",
                "event_id": f"{u}-7",
                "product_id": PRODUCT,
                "quantity": 2,
                "video_id": VIDEO,
            },
            {**base, "type": "follow", "event_id": f"{u}-8", "creator_id": CREATOR},
            {**base, "type": "scroll", "event_id": f"{u}-9", "velocity": 1200.0},
        ]
    out.append({**out[3], "event_id": "undo", "undo": True})  # one like taken back
    return out


def counts(db) -> dict[str, dict[str, int]]:
    with db.read() as s:
        return engagement.engagement_for(s, [VIDEO, LIVE, PRODUCT, CREATOR])


EXPECTED = {
    VIDEO: dict(
        impressions=3, views=3, completions=3, watch_ms=3000, likes=2, clicks=3, purchases=3, units_sold=6
    ),
    PRODUCT: dict(clicks=3, add_to_carts=3, purchases=3, units_sold=6),
    LIVE: dict(add_to_carts=3),
    CREATOR: dict(follows=3),
}


def check(db) -> None:
    got = counts(db)
    for item, expected in EXPECTED.items():
        assert {k: got[item][k] for k in expected} == expected, item


def test_engagement_counts_replay_idempotently_and_rebuild(db, event_log):
    event_log.append(events())
    consumer = engagement.consumer(event_log, db)
    consumer.batch = 7  # several batches, so positions are committed part way
    assert consumer.run_until_caught_up() == 28
    assert consumer.position() == event_log.last_offset() == 28
    check(db)
    consumer.seek(1)  # replay everything over the existing state: rows know what they counted
    assert consumer.run_until_caught_up() == 28
    check(db)
    consumer.reset()  # forget and rebuild from offset 0
    assert counts(db) == {}
    consumer.run_until_caught_up()
    check(db)
    with db.read() as s:
        assert s.scalar(select(ItemEngagement.last_offset).where(ItemEngagement.item_id == CREATOR)) == 26


def test_a_failing_batch_commits_neither_effects_nor_offset(db, event_log):
    event_log.append(events(1))
    calls = []

    def flaky(session, batch):
        engagement.apply(session, batch)
        calls.append(len(batch))
        if len(calls) == 1:
            raise RuntimeError("crash half way")

    consumer = Consumer("flaky", event_log, db, flaky)
    with pytest.raises(RuntimeError):
        consumer.poll()
    assert consumer.position() == 0 and counts(db) == {}
    assert consumer.poll() == 10 and consumer.position() == 10
    assert counts(db)[VIDEO]["impressions"] == 1


def test_two_instances_of_one_consumer_never_apply_a_batch_twice(db, event_log):
    event_log.append(events(10))
    threads = ConsumerThreads([engagement.consumer(event_log, db), engagement.consumer(event_log, db)])
    for c in threads.consumers:
        c.batch = 5
    threads.start()
    deadline = time.monotonic() + 20
    while threads.consumers[0].position() < event_log.last_offset():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    threads.stop()
    got = counts(db)
    assert got[VIDEO]["impressions"] == 10 and got[PRODUCT]["units_sold"] == 20


def test_a_tailing_consumer_sees_new_events_quickly(db, event_log):
    consumer = engagement.consumer(event_log, db)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), kwargs={"wait": 2.0})
    thread.start()
    try:
        time.sleep(0.2)
        started = time.monotonic()
        event_log.append(events(1))
        while consumer.position() < 10:
            assert time.monotonic() - started < 2.0
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(10)
    with db.read() as s:
        assert s.scalar(select(ConsumerOffset.position).where(ConsumerOffset.name == "engagement")) == 10


def test_the_purchase_job_writes_purchases_durably_and_once(db, event_log, factory):
    """What happens when the bus handler could not write (or commerce enqueued it in its transaction)."""
    import etalage.events.jobs  # noqa: F401  (registers the handler, as the app and worker do)
    from etalage.core import jobs
    from etalage.events import service

    shopper = factory.user()
    order = {
        "order_id": new_id("ord"), "user_id": shopper.id, "merchant_id": new_id("mch"), "region": "BE",
        "source_video_id": VIDEO, "source_live_room_id": None, "paid_at": "2026-11-24T10:00:00Z",
        "items": [{"product_id": PRODUCT, "variant_id": None, "quantity": 3, "unit_amount": 999, "currency": "EUR"}],
    }  # fmt: skip
    service.set_default_log(event_log)
    try:
        for _ in range(2):  # enqueued twice (a retry): one purchase in the log
            with db.session() as s:
                jobs.enqueue(s, "events.record_purchase", order)
        assert jobs.drain(db) == 2
    finally:
        service.set_default_log(None)
    events = event_log.read(1)
    assert [e.type for e in events] == ["purchase"]
    assert events[0].user == shopper.principal.pseudonym and events[0].data["quantity"] == 3
