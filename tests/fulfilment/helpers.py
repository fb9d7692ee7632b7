"""Helpers for the after-sale tests: paid orders, parcels, deliveries and the topics published."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from etalage.core import bus
from tests.commerce.helpers import buy


def paid_order(api, factory, psp, *, quantity=1, price=2000, stock=5, merchant=None, shopper=None):  # type: ignore[no-untyped-def]
    merchant = merchant or factory.verified_merchant()
    product = factory.product(merchant, prices={"BE": price}, stock=stock)
    shopper = shopper or factory.shopper("BE", psp=psp)
    resp = buy(api, shopper, product["variant_id"], quantity)
    assert resp.status_code == 201, resp.text
    order = resp.json()["orders"][0]
    assert order["status"] == "paid", order
    return merchant, shopper, product, order


def ship(api, merchant, order_id, *, tracking=None, lines=None, carrier="bpost", headers=None, **extra):  # type: ignore[no-untyped-def]
    body: dict[str, Any] = {
        "carrier": carrier,
        "tracking_number": tracking or uuid.uuid4().hex[:16].upper(),
        **extra,
    }
    if lines is not None:
        body["lines"] = lines
    return api.post(f"/api/v1/merchants/{merchant.merchant_id}/orders/{order_id}/shipments", json=body,
                    headers=headers or merchant.headers)  # fmt: skip


def deliver(api, merchant, shipment_id, **body):  # type: ignore[no-untyped-def]
    return api.post(f"/api/v1/merchants/{merchant.merchant_id}/shipments/{shipment_id}/delivered", json=body,
                    headers=merchant.headers)  # fmt: skip


def order_status(api, shopper, order_id) -> str:  # type: ignore[no-untyped-def]
    return api.get(f"/api/v1/orders/{order_id}", headers=shopper.headers).json()["status"]


def delivered_order(api, factory, psp, **kw):  # type: ignore[no-untyped-def]
    merchant, shopper, product, order = paid_order(api, factory, psp, **kw)
    r = ship(api, merchant, order["id"])
    assert r.status_code == 201, r.text
    assert deliver(api, merchant, r.json()["id"]).status_code == 200
    return merchant, shopper, product, order


@contextmanager
def topics(prefix: str) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Collect what is published under ``prefix`` (after commit) while the block runs."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def grab(topic: str, payload: dict[str, Any]) -> None:
        seen.append((topic, payload))

    bus.subscribe(f"{prefix}*", grab)
    try:
        yield seen
    finally:
        bus.unsubscribe(f"{prefix}*", grab)
