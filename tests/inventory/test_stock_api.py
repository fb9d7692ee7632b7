"""Stock movements through the API, the ledger that explains every level, and holds that expire."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import update

from etalage.core import jobs
from etalage.db import utcnow
from etalage.inventory import stock
from etalage.inventory.models import StockReservation
from tests.commerce.helpers import assert_stock_consistent, buy, stock_of


def _move(api, m, **body):  # type: ignore[no-untyped-def]
    return api.post(f"/api/v1/merchants/{m.merchant_id}/stock-movements", json=body, headers=m.headers)


def test_receive_remove_count_and_the_ledger(api, factory, db):
    m = factory.verified_merchant()
    product = factory.product(m, stock=0)
    wid, vid = m.extra["warehouses"]["BE"], product["variant_id"]
    r = _move(api, m, variant_id=vid, warehouse_id=wid, kind="receive", quantity=10, reason="delivery DN-1")
    assert r.status_code == 201 and r.json()["on_hand"] == 10 and r.json()["available"] == 10
    assert _move(api, m, variant_id=vid, warehouse_id=wid, kind="remove", quantity=3, reason="water damage").json()[
        "on_hand"
    ] == 7
    assert _move(api, m, variant_id=vid, warehouse_id=wid, kind="count", quantity=6, reason="stocktake").json()[
        "on_hand"
    ] == 6
    ledger = api.get(f"/api/v1/merchants/{m.merchant_id}/stock-ledger", params={"variant_id": vid}, headers=m.headers)
    moves = ledger.json()["items"]
    assert [(x["kind"], x["on_hand_delta"], x["on_hand_after"]) for x in moves] == [
        ("count", -1, 6),
        ("adjust", -3, 7),
        ("receive", 10, 10),
    ]
    assert moves[0]["actor"] == m.id and moves[1]["reason"] == "water damage"
    assert_stock_consistent(db)


def test_stock_never_goes_below_zero_or_below_what_is_held(api, factory, psp, db):
    m = factory.verified_merchant()
    product = factory.product(m, stock=2)
    wid, vid = m.extra["warehouses"]["BE"], product["variant_id"]
    r = _move(api, m, variant_id=vid, warehouse_id=wid, kind="remove", quantity=3, reason="loss")
    assert r.status_code == 409 and r.json()["on_hand"] == 2
    # One unit held by a checkout waiting for 3-D Secure cannot be counted away.
    shopper = factory.shopper("BE", psp=psp, card="4000000000003220")
    assert buy(api, shopper, vid).status_code == 202
    r = _move(api, m, variant_id=vid, warehouse_id=wid, kind="count", quantity=0, reason="stocktake")
    assert r.status_code == 409 and r.json()["reserved"] == 1
    for bad in ({"quantity": -1}, {"quantity": 10**7}, {"kind": "steal"}, {"reason": ""}, {"quantity": "lots"}):
        body = {"variant_id": vid, "warehouse_id": wid, "kind": "receive", "quantity": 1, "reason": "ok", **bad}
        assert _move(api, m, **body).status_code == 422, bad
    assert stock_of(db, vid) == (2, 1)
    assert_stock_consistent(db)


def test_other_merchants_variants_and_warehouses_are_not_found(api, factory, db):
    a, b = factory.verified_merchant(), factory.verified_merchant()
    theirs = factory.product(b, stock=1)
    mine = factory.product(a, stock=1)
    r = _move(api, a, variant_id=theirs["variant_id"], warehouse_id=a.extra["warehouses"]["BE"], kind="receive",
              quantity=5, reason="x" * 3)  # fmt: skip
    assert r.status_code == 404
    r = _move(api, a, variant_id=mine["variant_id"], warehouse_id=b.extra["warehouses"]["BE"], kind="receive",
              quantity=5, reason="x" * 3)  # fmt: skip
    assert r.status_code == 404
    assert api.get(f"/api/v1/merchants/{b.merchant_id}/stock", headers=a.headers).status_code == 404
    assert stock_of(db, theirs["variant_id"]) == (1, 0)


def test_expired_holds_go_back_on_the_shelf(api, factory, psp, db):
    product = factory.product(factory.verified_merchant(), stock=1)
    shopper = factory.shopper("BE", psp=psp, card="4000000000003220")  # stays "requires action": a held unit
    assert buy(api, shopper, product["variant_id"]).status_code == 202
    assert stock_of(db, product["variant_id"]) == (1, 1)
    with db.session() as s:  # time passes
        s.execute(update(StockReservation).values(expires_at=utcnow() - timedelta(seconds=1)))
    with db.session() as s:
        jobs.enqueue(s, "inventory.release_expired", {})
    jobs.drain(db)
    assert stock_of(db, product["variant_id"]) == (1, 0)
    # ...and a checkout also releases them itself when it finds the shelf empty.
    assert buy(api, factory.shopper("BE", psp=psp, card="4000000000003220"), product["variant_id"]).status_code == 202
    with db.session() as s:
        s.execute(update(StockReservation).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert buy(api, factory.shopper("BE", psp=psp), product["variant_id"]).status_code == 201
    assert stock_of(db, product["variant_id"]) == (0, 0)
    assert_stock_consistent(db)


def test_a_split_across_warehouses_in_the_region(api, factory, psp, db):
    m = factory.verified_merchant(regions=("BE",))
    product = factory.product(m, stock=2)
    second = api.post(f"/api/v1/merchants/{m.merchant_id}/warehouses", headers=m.headers, json={
        "name": "Liège", "address_line1": "Quai 1", "postal_code": "4000", "city": "Liège", "region_code": "BE"}).json()  # fmt: skip
    _move(api, m, variant_id=product["variant_id"], warehouse_id=second["id"], kind="receive", quantity=2, reason="move")
    assert buy(api, factory.shopper("BE", psp=psp), product["variant_id"], 3).status_code == 201
    assert stock_of(db, product["variant_id"]) == (1, 0)
    # A warehouse taken out of service: its units are not sold.
    api.patch(f"/api/v1/merchants/{m.merchant_id}/warehouses/{second['id']}", json={"active": False}, headers=m.headers)
    assert buy(api, factory.shopper("BE", psp=psp), product["variant_id"], 1).status_code in (201, 409)
    assert_stock_consistent(db)


@pytest.mark.parametrize("seed", [1, 2])
def test_random_movements_keep_the_ledger_exact(factory, db, seed):
    """Property: whatever sequence of receipts, removals, holds, sales, releases and restocks, the levels stay
    in bounds and equal the sum of the ledger."""
    rng = random.Random(seed)
    m = factory.verified_merchant()
    product = factory.product(m, stock=5)
    wid, vid = m.extra["warehouses"]["BE"], product["variant_id"]
    open_orders: list[str] = []
    for i in range(60):
        with db.session() as s:
            op = rng.choice(["receive", "remove", "hold", "sell", "release", "expire"])
            try:
                if op == "receive":
                    stock.receive(s, variant_id=vid, product_id=product["product_id"], merchant_id=m.merchant_id,
                                  warehouse_id=wid, region_code="BE", warehouse_active=True,
                                  quantity=rng.randint(1, 3), reason="r", actor="t")  # fmt: skip
                elif op == "remove":
                    stock.adjust(s, variant_id=vid, warehouse_id=wid, delta=-rng.randint(1, 3), kind="adjust", reason="r", actor="t")
                elif op == "hold":
                    oid = f"ord_rand{seed}{i}"
                    expires = utcnow() + timedelta(seconds=rng.choice([-1, 60]))
                    stock.reserve(s, [stock.Want(oid, vid, rng.randint(1, 2))], "BE", expires_at=expires, actor="t")
                    open_orders.append(oid)
                elif op == "sell" and open_orders:
                    stock.commit_for_orders(s, [open_orders.pop(rng.randrange(len(open_orders)))], actor="t", reason="r")
                elif op == "release" and open_orders:
                    stock.release_for_orders(s, [open_orders.pop(rng.randrange(len(open_orders)))], actor="t", reason="r")
                elif op == "expire":
                    stock.release_expired(s)
            except (stock.OutOfStock, stock.NotDeliverable) as exc:
                assert op == "hold", exc
                s.rollback()
            except Exception as exc:  # adjust refusing to go below what is held
                assert op == "remove" and exc.__class__.__name__ == "Conflict", exc
                s.rollback()
        assert_stock_consistent(db)


def test_stock_changes_are_announced_to_whoever_listens(api, factory, psp, db):
    from etalage.core import bus

    product = factory.product(factory.verified_merchant(), stock=3)
    seen: list[dict] = []

    def on_change(_topic: str, payload: dict) -> None:
        seen.append(payload)

    assert not bus.wanted("inventory.stock.changed")  # nobody listens: checkout skips computing it
    bus.subscribe("inventory.stock.changed", on_change)
    try:
        assert bus.wanted("inventory.stock.changed")
        assert buy(api, factory.shopper("BE", psp=psp), product["variant_id"], 2).status_code == 201
    finally:
        bus.unsubscribe("inventory.stock.changed", on_change)
    assert seen[-1] == {"variant_id": product["variant_id"], "product_id": product["product_id"], "available": 1,
                        "by_region": {"BE": 1}}  # fmt: skip
