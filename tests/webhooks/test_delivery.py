"""Done when: a receiver that answers 500 and then hangs for an hour receives every event once it recovers,
deduplicated by event id, in order per order; every attempt is logged; a merchant can replay.

Retries are driven with a clock the test controls (``deliver_due(now=...)``), over real HTTP."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import delete, select

from etalage.db import utcnow
from etalage.ledger import postings
from etalage.webhooks import delivery
from etalage.webhooks.models import WebhookEvent
from tests.commerce.helpers import buy
from tests.fulfilment.helpers import deliver, ship


def _endpoint(api, merchant, url, types=("*",)):  # type: ignore[no-untyped-def]
    r = api.post(f"/api/v1/merchants/{merchant.merchant_id}/webhooks/endpoints",
                 json={"url": url, "event_types": list(types)}, headers=merchant.headers)  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


def test_a_failing_receiver_gets_every_event_once_in_order_after_it_recovers(
    api, factory, psp, db, receiver, private_targets
):  # type: ignore[no-untyped-def]
    merchant = factory.verified_merchant()
    product = factory.product(merchant, prices={"BE": 1500}, stock=10)
    ep = _endpoint(api, merchant, receiver.url)
    receiver.secret = ep["secret"]
    base = f"/api/v1/merchants/{merchant.merchant_id}"
    assert "secret" not in api.get(f"{base}/webhooks/endpoints/{ep['id']}", headers=merchant.headers).json()

    receiver.mode = "fail"
    order_ids, buyers = [], {}
    for _ in range(3):
        shopper = factory.shopper("BE", psp=psp)
        r = buy(api, shopper, product["variant_id"])
        assert r.status_code == 201, r.text
        order_ids.append(r.json()["orders"][0]["id"])
        buyers[order_ids[-1]] = shopper
    # Two orders shipped and delivered (shipment.*), the second one returned (return.*); the first is paid
    # out once its window has passed (payout.*).
    for oid in order_ids[:2]:
        parcel = ship(api, merchant, oid)
        assert parcel.status_code == 201, parcel.text
        assert deliver(api, merchant, parcel.json()["id"]).status_code == 200
    ret = api.post(f"/api/v1/orders/{order_ids[1]}/returns", headers=buyers[order_ids[1]].headers,
                   json={"lines": [{"variant_id": product["variant_id"], "quantity": 1}], "reason": "too big"})  # fmt: skip
    assert ret.status_code == 201, ret.text
    decision = {"decision": "approve", "reason": "send it back"}
    assert (
        api.post(
            f"{base}/returns/{ret.json()['id']}/decision", json=decision, headers=merchant.headers
        ).status_code
        == 200
    )
    with db.session() as s:
        postings.release_due(s, utcnow() + timedelta(days=15))
    admin = factory.admin()
    payout = api.post("/api/v1/admin/payouts/run", json={}, headers=admin.headers).json()[0]
    api.post(
        f"/api/v1/admin/payouts/{payout['id']}/paid", json={"reference": "SEPA-9"}, headers=admin.headers
    )

    with db.read() as s:
        events = list(s.scalars(select(WebhookEvent).where(WebhookEvent.merchant_id == merchant.merchant_id)
                                .order_by(WebhookEvent.id)))  # fmt: skip
    expected: dict[str, list[str]] = defaultdict(list)
    for e in events:
        expected[e.ordering_key].append(e.id)
    assert [e.type for e in events if e.ordering_key == order_ids[1]] == [
        "order.created", "order.paid", "shipment.created", "shipment.delivered", "return.requested",
        "return.approved",
    ]  # fmt: skip
    assert [e.type for e in events if e.ordering_key == order_ids[2]] == ["order.created", "order.paid"]
    assert [e.type for e in events if e.ordering_key == payout["id"]] == ["payout.created", "payout.paid"]
    assert len(events) == 3 * 2 + 2 * 2 + 2 + 2

    # 500s for 20 minutes, then 40 minutes of hanging past the timeout, then healthy. The retry schedule
    # (10 s doubling to an hour) brings everything within hours; a busy machine may turn an answer into a
    # timeout now and then, which only costs another retry, so the clock may run up to six hours.
    start = utcnow()
    minute = 0
    while minute <= 360:
        now = start + timedelta(minutes=minute)
        receiver.mode = "fail" if minute < 20 else "hang" if minute < 60 else "ok"
        delivery.deliver_due(db, now=now)
        if minute >= 60 and delivery.pending_count(db) == 0:
            break
        minute += 1
    assert delivery.pending_count(db) == 0, "everything delivered once the receiver recovered"
    got = receiver.unique()
    assert sorted(e["id"] for e in got) == sorted(e.id for e in events)  # every event, once after dedup
    assert len(receiver.received) > len(got)  # hung deliveries arrived twice: the event id tells them apart
    assert receiver.bad_signatures == 0
    arrived: dict[str, list[str]] = defaultdict(list)
    for e in got:
        arrived[e["data"].get("order_id") or e["data"]["payout_id"]].append(e["id"])
    assert arrived == expected  # in order per order (and per payout)

    # Every attempt is logged, and the merchant can read them.
    first = events[0].id
    attempts = api.get(
        f"{base}/webhooks/attempts", params={"event_id": first}, headers=merchant.headers
    ).json()["items"]
    codes = [a["status_code"] for a in reversed(attempts)]
    assert 500 in codes and codes[-1] == 204 and None in codes  # 500s, timeouts, then success
    assert any(a["error"] == "timeout" for a in attempts) and all(a["duration_ms"] >= 0 for a in attempts)
    listed = api.get(f"{base}/webhooks/events", headers=merchant.headers).json()["items"]
    assert {d["status"] for e in listed for d in e["deliveries"]} == {"delivered"}

    # Replay one event, then a range: the same ids arrive again (and deduplicate away).
    before = len(receiver.received)
    r = api.post(f"{base}/webhooks/events/{first}/replay", headers=merchant.headers)
    assert r.status_code == 200 and r.json() == {"requeued": 1}
    delivery.deliver_due(db, now=start + timedelta(hours=3))
    assert len(receiver.received) == before + 1 and receiver.received[-1]["id"] == first
    r = api.post(f"{base}/webhooks/endpoints/{ep['id']}/replay",
                 json={"since": (start - timedelta(hours=1)).isoformat()}, headers=merchant.headers)  # fmt: skip
    assert r.status_code == 200 and r.json()["requeued"] == len(events)
    delivery.deliver_due(db, now=start + timedelta(hours=4))
    assert sorted(e["id"] for e in receiver.unique()) == sorted(e.id for e in events)
    assert [
        e["id"] for e in receiver.received[-len(events) :] if e["data"].get("order_id") == order_ids[2]
    ] == expected[order_ids[2]]


def test_endpoints_refuse_unsafe_urls_and_stay_with_their_shop(api, factory):  # type: ignore[no-untyped-def]
    merchant = factory.merchant()
    url = f"/api/v1/merchants/{merchant.merchant_id}/webhooks/endpoints"
    for bad in (
        "ftp://shop.example.com/x",
        "http://127.0.0.1:9/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest",
        "https://user:pw@shop.example.com/x",
        "not a url",
    ):
        r = api.post(url, json={"url": bad, "event_types": ["order.paid"]}, headers=merchant.headers)
        assert r.status_code == 422, (bad, r.text)
    r = api.post(url, json={"url": "https://shop.example.com/hook", "event_types": ["order.paid", "nope"]},
                 headers=merchant.headers)  # fmt: skip
    assert r.status_code == 422
    r = api.post(
        url,
        json={"url": "https://shop.example.com/hook", "event_types": ["order.paid"]},
        headers=merchant.headers,
    )
    assert r.status_code == 201 and r.json()["secret"].startswith("whsec_")
    ep = r.json()
    staff = factory.staff(merchant)
    assert [e["id"] for e in api.get(url, headers=staff.headers).json()] == [ep["id"]]
    assert all("secret" not in e for e in api.get(url, headers=staff.headers).json())
    r = api.patch(f"{url}/{ep['id']}", json={"enabled": False, "event_types": ["*"]}, headers=staff.headers)
    assert r.status_code == 200 and r.json()["enabled"] is False
    rotated = api.post(f"{url}/{ep['id']}/rotate-secret", headers=merchant.headers).json()["secret"]
    assert rotated != ep["secret"]
    other = factory.merchant()
    assert api.get(f"{url}/{ep['id']}", headers=other.headers).status_code == 404
    other_url = f"/api/v1/merchants/{other.merchant_id}/webhooks/endpoints/{ep['id']}"
    assert api.get(other_url, headers=other.headers).status_code == 404
    assert api.delete(other_url, headers=other.headers).status_code == 404
    shopper = factory.user("shopper")
    assert api.get(url, headers=shopper.headers).status_code in (403, 404)
    assert api.delete(f"{url}/{ep['id']}", headers=merchant.headers).status_code == 204
    assert api.get(url, headers=merchant.headers).json() == []


def test_settled_events_are_kept_for_the_retention_only(api, factory, psp, db, receiver, private_targets):  # type: ignore[no-untyped-def]
    merchant = factory.verified_merchant()
    product = factory.product(merchant, prices={"BE": 1500}, stock=3)
    receiver.secret = _endpoint(api, merchant, receiver.url, ("order.paid",))["secret"]
    buy(api, factory.shopper("BE", psp=psp), product["variant_id"])
    receiver.mode = "fail"
    delivery.deliver_due(db)
    assert delivery.purge_settled(db, now=utcnow() + timedelta(days=31)) == 0  # still owed to the merchant
    receiver.mode = "ok"
    delivery.deliver_due(db, now=utcnow() + timedelta(minutes=5))
    assert delivery.purge_settled(db, now=utcnow() + timedelta(days=29)) == 0
    assert delivery.purge_settled(db, now=utcnow() + timedelta(days=31)) == 1
    assert (
        api.get(f"/api/v1/merchants/{merchant.merchant_id}/webhooks/events", headers=merchant.headers).json()[
            "items"
        ]
        == []
    )


def test_each_change_that_records_events_asks_for_a_prompt_delivery(api, factory, psp, db):  # type: ignore[no-untyped-def]
    from etalage.core.models import Job

    merchant = factory.verified_merchant()
    product = factory.product(merchant, prices={"BE": 1500}, stock=3)
    _endpoint(api, merchant, "https://erp.example.com/hooks", ("order.created", "order.paid"))
    with db.session() as s:
        s.execute(delete(Job))
    buy(api, factory.shopper("BE", psp=psp), product["variant_id"])  # two transactions, one session
    with db.read() as s:
        kinds = list(s.scalars(select(Job.kind).where(Job.kind == "webhooks.deliver")))
    assert len(kinds) == 2  # order.created's transaction and order.paid's, each with its own job


def test_a_shop_that_had_no_endpoint_is_told_of_its_next_order_once_it_adds_one(
    api, factory, psp, db, receiver, private_targets
):  # type: ignore[no-untyped-def]
    """Shops without endpoints are remembered as such for a moment (a read saved per order event); adding an
    endpoint ends that at once, so the very next purchase is recorded for it."""
    merchant = factory.verified_merchant()
    product = factory.product(merchant, prices={"BE": 1500}, stock=10)
    first = buy(api, factory.shopper("BE", psp=psp), product["variant_id"])
    assert first.status_code == 201, first.text
    _endpoint(api, merchant, receiver.url, types=("order.paid",))
    second = buy(api, factory.shopper("BE", psp=psp), product["variant_id"])
    assert second.status_code == 201, second.text
    with db.read() as s:
        told = list(s.scalars(select(WebhookEvent).where(WebhookEvent.merchant_id == merchant.merchant_id)))
    assert [(e.type, e.ordering_key) for e in told] == [("order.paid", second.json()["orders"][0]["id"])]
