"""The race the issue names: 100 shoppers, real concurrent HTTP clients, 10 units. Exactly 10 win."""

from __future__ import annotations

import threading
from collections import Counter

import httpx
from sqlalchemy import func, select

from etalage.commerce.models import Order, OrderLine
from tests.commerce.helpers import assert_stock_consistent, buy, stock_of

SHOPPERS, UNITS = 100, 10


def test_a_hundred_shoppers_race_for_the_last_ten_units(factory, psp, db, live_server, api):
    product = factory.product(factory.verified_merchant(), stock=UNITS)
    shoppers = [factory.shopper("BE", psp=psp) for _ in range(SHOPPERS)]
    start = threading.Barrier(SHOPPERS)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def shop(shopper) -> None:  # type: ignore[no-untyped-def]
        with httpx.Client(base_url=live_server.url, timeout=120) as client:
            start.wait()  # everyone taps "buy" at the same moment
            resp = buy(client, shopper, product["variant_id"])
        with lock:
            answers.append(resp)

    threads = [threading.Thread(target=shop, args=(s,)) for s in shoppers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    statuses = Counter(r.status_code for r in answers)
    assert statuses == {201: UNITS, 409: SHOPPERS - UNITS}, statuses
    assert all(r.json()["type"].endswith("/out-of-stock") for r in answers if r.status_code == 409)
    assert stock_of(db, product["variant_id"]) == (0, 0)
    assert_stock_consistent(db)
    with db.read() as s:
        sold = s.scalar(
            select(func.sum(OrderLine.quantity)).join(Order, Order.id == OrderLine.order_id).where(Order.status == "paid")
        )
        orders = s.scalar(select(func.count()).select_from(Order))
    assert sold == UNITS and orders == UNITS  # the losers never got an order, nothing was half-written
    winners = {r.json()["payment"]["id"] for r in answers if r.status_code == 201}
    assert len([p for p in psp.payments() if p["idempotency_key"] in winners and p["status"] == "captured"]) == UNITS
