"""Requests racing over real HTTP: parcels for the same units, and return requests for the same units; the
order's lock lets exactly one win, the others get a clear 4xx and nothing is written twice."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select

from etalage.fulfilment.models import ReturnLine, ShipmentLine
from tests.fulfilment.helpers import delivered_order, paid_order


def _race(api: httpx.Client, calls: list[tuple[str, dict, dict]]) -> list[int]:
    base = str(api.base_url)

    def one(call: tuple[str, dict, dict]) -> int:
        url, body, headers = call
        with httpx.Client(base_url=base, timeout=30) as c:
            return c.post(url, json=body, headers=headers).status_code

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(one, calls))


def test_parcels_racing_for_the_same_units_ship_them_once(api, factory, psp, db):
    merchant, shopper, product, order = paid_order(api, factory, psp, quantity=2)
    url = f"/api/v1/merchants/{merchant.merchant_id}/orders/{order['id']}/shipments"
    lines = [{"variant_id": product["variant_id"], "quantity": 2}]
    calls = [
        (url, {"carrier": "DHL", "tracking_number": f"JD00{i:08d}", "lines": lines}, merchant.headers)
        for i in range(8)
    ]
    codes = _race(api, calls)
    # the losers find the units taken (422) or the order already shipped (409)
    assert codes.count(201) == 1 and all(c in (409, 422) for c in codes if c != 201), codes
    with db.read() as s:
        shipped = s.scalar(
            select(func.sum(ShipmentLine.quantity)).where(ShipmentLine.order_id == order["id"])
        )
    assert shipped == 2
    assert api.get(f"/api/v1/orders/{order['id']}", headers=shopper.headers).json()["status"] == "shipped"


def test_return_requests_racing_for_the_same_unit_take_it_once(api, factory, psp, db):
    merchant, shopper, product, order = delivered_order(api, factory, psp, quantity=1)
    url = f"/api/v1/orders/{order['id']}/returns"
    body = {"lines": [{"variant_id": product["variant_id"], "quantity": 1}], "reason": "changed my mind"}
    codes = _race(api, [(url, body, shopper.headers)] * 8)
    assert sorted(codes) == [201] + [422] * 7, codes
    with db.read() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(ReturnLine)
                .where(ReturnLine.variant_id == product["variant_id"])
            )
            == 1
        )
