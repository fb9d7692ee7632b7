"""Parcels over real HTTP: partial and full shipping, delivery by the merchant or the shopper, bad input."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from etalage.db import utcnow
from etalage.fulfilment.models import FulfilmentEvent, Shipment
from tests.commerce.helpers import buy
from tests.fulfilment.helpers import deliver, order_status, paid_order, ship, topics


def test_partial_parcels_then_the_rest_ship_the_order(api, factory, psp):
    merchant, shopper, product, order = paid_order(api, factory, psp, quantity=3)
    variant = product["variant_id"]
    with topics("shipment.") as seen:
        first = ship(
            api,
            merchant,
            order["id"],
            tracking="323299999999999999",
            lines=[{"variant_id": variant, "quantity": 1}],
        )
        assert first.status_code == 201, first.text
        parcel = first.json()
        assert parcel["lines"] == [
            {"variant_id": variant, "product_id": product["product_id"], "quantity": 1}
        ]
        assert parcel["tracking_url"].endswith("323299999999999999") and parcel["fulfilled_by"] == "merchant"
        # partial: the order is being fulfilled, not shipped
        assert order_status(api, shopper, order["id"]) == "fulfilling"
        rest = ship(api, merchant, order["id"], carrier="DHL", tracking="JD0146000033")
        assert rest.status_code == 201 and rest.json()["lines"][0]["quantity"] == 2, rest.text
    assert order_status(api, shopper, order["id"]) == "shipped"
    assert [t for t, _ in seen] == ["shipment.created", "shipment.created"]
    assert seen[0][1]["merchant_id"] == merchant.merchant_id and seen[0][1]["order_id"] == order["id"]
    assert seen[0][1]["tracking_number"] == "323299999999999999" and seen[0][1]["carrier"] == "bpost"
    # both sides list the parcels
    mine = api.get(f"/api/v1/orders/{order['id']}/shipments", headers=shopper.headers).json()
    theirs = api.get(
        f"/api/v1/merchants/{merchant.merchant_id}/orders/{order['id']}/shipments", headers=merchant.headers
    ).json()
    assert (
        [s["tracking_number"] for s in mine]
        == [s["tracking_number"] for s in theirs]
        == ["323299999999999999", "JD0146000033"]
    )
    assert mine[0]["events"][0]["to_status"] == "shipped" and mine[0]["events"][0]["actor"] == merchant.id
    history = api.get(f"/api/v1/orders/{order['id']}", headers=shopper.headers).json()["events"]
    assert [e["to_status"] for e in history][-2:] == ["fulfilling", "shipped"]
    # nothing left to ship
    r = ship(api, merchant, order["id"])
    assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json")


def test_delivery_by_carrier_scan_and_by_the_shopper(api, factory, psp):
    merchant, shopper, product, order = paid_order(api, factory, psp, quantity=2)
    v = product["variant_id"]
    a = ship(api, merchant, order["id"], lines=[{"variant_id": v, "quantity": 1}]).json()
    b = ship(api, merchant, order["id"], lines=[{"variant_id": v, "quantity": 1}]).json()
    future = (utcnow() + timedelta(hours=2)).isoformat()
    assert deliver(api, merchant, a["id"], delivered_at=future).status_code == 422
    naive = utcnow().replace(tzinfo=None).isoformat()
    assert deliver(api, merchant, a["id"], delivered_at=naive).status_code == 422
    with topics("shipment.") as seen:
        r = deliver(api, merchant, a["id"], reason="carrier scan at the door")
        assert r.status_code == 200 and r.json()["status"] == "delivered", r.text
        assert deliver(api, merchant, a["id"]).status_code == 200  # told twice: still once
        assert order_status(api, shopper, order["id"]) == "shipped"  # one parcel still on its way
        r = api.post(f"/api/v1/shipments/{b['id']}/received", headers=shopper.headers)
        assert r.status_code == 200 and r.json()["events"][-1]["reason"] == "the shopper confirmed receipt"
    assert [t for t, _ in seen] == ["shipment.delivered", "shipment.delivered"]
    assert order_status(api, shopper, order["id"]) == "delivered"
    # another shopper cannot confirm someone else's parcel
    other = factory.shopper("BE")
    assert api.post(f"/api/v1/shipments/{b['id']}/received", headers=other.headers).status_code == 404


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


def test_bad_shipments_are_refused_and_change_nothing(api, factory, psp, db):
    merchant, shopper, product, order = paid_order(api, factory, psp, quantity=2)
    v = product["variant_id"]
    before = (_count(db, Shipment), _count(db, FulfilmentEvent))
    other = factory.verified_merchant()
    cases = [
        (ship(api, other, order["id"]).status_code, 404),  # another merchant's order (with its own token)
        (ship(api, merchant, order["id"], headers=other.headers).status_code, 404),
        (ship(api, merchant, "ord_01M8000000000000000000000A").status_code, 404),  # unknown order
        (
            ship(api, merchant, order["id"], lines=[{"variant_id": v, "quantity": 3}]).status_code,
            422,
        ),  # more than bought
        (
            ship(
                api,
                merchant,
                order["id"],
                lines=[{"variant_id": "var_01M8000000000000000000000A", "quantity": 1}],
            ).status_code,
            422,
        ),
        (
            ship(
                api,
                merchant,
                order["id"],
                lines=[{"variant_id": v, "quantity": 1}, {"variant_id": v, "quantity": 1}],
            ).status_code,
            422,
        ),
        (ship(api, merchant, order["id"], lines=[{"variant_id": v, "quantity": 0}]).status_code, 422),
        (ship(api, merchant, order["id"], lines=[{"variant_id": v, "quantity": -1}]).status_code, 422),
        (ship(api, merchant, order["id"], tracking="<script>").status_code, 422),
        (ship(api, merchant, order["id"], fulfilled_by="platform").status_code, 403),  # not platform staff
        (ship(api, merchant, order["id"], headers=shopper.headers).status_code, 403),
        (
            api.post(
                f"/api/v1/merchants/{merchant.merchant_id}/orders/{order['id']}/shipments",
                json={"carrier": "bpost", "tracking_number": "12345", "extra": 1},
                headers=merchant.headers,
            ).status_code,
            422,
        ),
    ]
    assert [got for got, _ in cases] == [want for _, want in cases]
    assert (_count(db, Shipment), _count(db, FulfilmentEvent)) == before
    assert order_status(api, shopper, order["id"]) == "paid"
    # a replay (the same parcel again) answers the first one; the same number for other units is a conflict
    first = ship(
        api, merchant, order["id"], tracking="CP123456789BE", lines=[{"variant_id": v, "quantity": 1}]
    )
    again = ship(
        api, merchant, order["id"], tracking="CP123456789BE", lines=[{"variant_id": v, "quantity": 1}]
    )
    assert first.status_code == 201 and again.status_code == 200 and again.json()["id"] == first.json()["id"]
    clash = ship(
        api, merchant, order["id"], tracking="CP123456789BE", lines=[{"variant_id": v, "quantity": 2}]
    )
    assert clash.status_code == 409
    # unpaid and cancelled orders do not ship
    unpaid_merchant = factory.verified_merchant()
    item = factory.product(unpaid_merchant, prices={"BE": 1500}, stock=2)
    waiting = factory.shopper("BE", psp=psp, card="4000000000003220")  # 3-D Secure: awaiting payment
    r = buy(api, waiting, item["variant_id"])
    unpaid = r.json()["orders"][0]
    assert unpaid["status"] == "awaiting_payment", r.text
    r = ship(api, unpaid_merchant, unpaid["id"])
    assert r.status_code == 409 and r.json()["status_now"] == "awaiting_payment"
    m2, s2, _, o2 = paid_order(api, factory, psp)
    assert api.post(f"/api/v1/orders/{o2['id']}/cancel", json={"reason": "changed my mind"},
                    headers={**s2.headers, "Idempotency-Key": "cancel-1"}).status_code == 200  # fmt: skip
    r = ship(api, m2, o2["id"])
    assert r.status_code == 409 and r.json()["status_now"] == "cancelled"
    # unknown shipment ids
    assert deliver(api, merchant, "shp_01M8000000000000000000000A").status_code == 404
    assert (
        api.post(
            "/api/v1/shipments/shp_01M8000000000000000000000A/received", headers=shopper.headers
        ).status_code
        == 404
    )


def test_a_partly_refunded_order_still_ships_and_a_hand_delivered_order_can_be_returned(
    api, factory, psp, db
):
    from etalage.core import jobs

    merchant, shopper, product, order = paid_order(api, factory, psp, quantity=2)
    r = api.post(f"/api/v1/merchants/{merchant.merchant_id}/orders/{order['id']}/refunds",
                 json={"amount": {"amount": 100, "currency": "EUR"}, "reason": "late dispatch"},
                 headers={**merchant.headers, "Idempotency-Key": "goodwill-1"})  # fmt: skip
    assert r.status_code == 202, r.text
    jobs.drain(db)
    assert order_status(api, shopper, order["id"]) == "partially_refunded"
    assert ship(api, merchant, order["id"]).status_code == 201
    assert order_status(api, shopper, order["id"]) == "shipped"
    # an order moved to delivered by hand (no parcels recorded) counts as delivered from that moment
    m2, s2, p2, o2 = paid_order(api, factory, psp)
    url = f"/api/v1/merchants/{m2.merchant_id}/orders/{o2['id']}/transitions"
    for step in ("fulfilling", "shipped", "delivered"):
        assert api.post(url, json={"to": step, "reason": "by hand"}, headers=m2.headers).status_code == 200
    body = {"lines": [{"variant_id": p2["variant_id"], "quantity": 1}], "reason": "not as shown"}
    r = api.post(f"/api/v1/orders/{o2['id']}/returns", json=body, headers=s2.headers)
    assert r.status_code == 201 and r.json()["value"]["amount"] == o2["lines"][0]["total"]["amount"], r.text
