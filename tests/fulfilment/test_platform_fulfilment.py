"""Fulfilment by the platform: a centre, a verified merchant enrolled in it, stock received there by platform
staff, sold at checkout, and shipped (and delivered) by platform staff, never by the merchant."""

from __future__ import annotations

from tests.commerce.helpers import buy
from tests.fulfilment.helpers import deliver, order_status, ship

CENTRE = {"name": "Etalage Antwerp", "address_line1": "Haven 100", "postal_code": "2000", "city": "Antwerpen",
          "region_code": "BE"}  # fmt: skip


def test_a_merchant_enrolled_in_a_platform_centre_has_its_orders_shipped_by_the_platform(api, factory, psp):
    admin = factory.admin()
    merchant = factory.verified_merchant(regions=())  # no warehouse of its own
    assert (
        api.post("/api/v1/admin/fulfilment-centres", json=CENTRE, headers=merchant.headers).status_code == 403
    )
    assert (
        api.post(
            "/api/v1/admin/fulfilment-centres", json={**CENTRE, "region_code": "ZZ"}, headers=admin.headers
        ).status_code
        == 422
    )
    r = api.post("/api/v1/admin/fulfilment-centres", json=CENTRE, headers=admin.headers)
    assert r.status_code == 201, r.text
    centre = r.json()
    assert centre["id"] in [
        c["id"] for c in api.get("/api/v1/fulfilment-centres?region=BE", headers=merchant.headers).json()
    ]

    # only verified traders enrol; enrolling twice is the same enrolment
    unverified = factory.merchant()
    url = f"/api/v1/merchants/{unverified.merchant_id}/fulfilment-enrolments"
    assert api.post(url, json={"centre_id": centre["id"]}, headers=unverified.headers).status_code == 409
    url = f"/api/v1/merchants/{merchant.merchant_id}/fulfilment-enrolments"
    assert (
        api.post(
            url, json={"centre_id": "ffc_01M8000000000000000000000A"}, headers=merchant.headers
        ).status_code
        == 404
    )
    r = api.post(url, json={"centre_id": centre["id"]}, headers=merchant.headers)
    assert r.status_code == 201, r.text
    enrolment = r.json()
    again = api.post(url, json={"centre_id": centre["id"]}, headers=merchant.headers)
    assert again.status_code == 200 and again.json()["id"] == enrolment["id"]
    assert [e["id"] for e in api.get(url, headers=merchant.headers).json()] == [enrolment["id"]]
    warehouses = api.get(
        f"/api/v1/merchants/{merchant.merchant_id}/warehouses", headers=merchant.headers
    ).json()
    assert [(w["id"], w["operator"]) for w in warehouses] == [(enrolment["warehouse_id"], "platform")]

    # the merchant's stock arrives at the centre: platform staff record its receipt
    item = factory.product(merchant, prices={"BE": 2500}, stock=0)
    r = api.post(f"/api/v1/merchants/{merchant.merchant_id}/stock-movements", headers=admin.headers, json={
        "variant_id": item["variant_id"], "warehouse_id": enrolment["warehouse_id"], "kind": "receive", "quantity": 4,
        "reason": "inbound delivery at the centre"})  # fmt: skip
    assert r.status_code == 201, r.text

    shopper = factory.shopper("BE", psp=psp)
    r = buy(api, shopper, item["variant_id"], 2)
    assert r.status_code == 201, r.text
    order = r.json()["orders"][0]

    # the merchant does not hold these units, so cannot ship them
    r = ship(api, merchant, order["id"])
    assert r.status_code == 409 and r.json()["shipped_by"] == "platform", r.text
    r = ship(api, merchant, order["id"], lines=[{"variant_id": item["variant_id"], "quantity": 1}])
    assert r.status_code == 422 and "platform" in r.json()["detail"]
    assert ship(api, merchant, order["id"], fulfilled_by="platform").status_code == 403
    # platform staff ship from the centre
    r = ship(api, merchant, order["id"], headers=admin.headers, carrier="PostNL", tracking="3SETAL000000001")
    assert r.status_code == 201, r.text
    parcel = r.json()
    assert parcel["fulfilled_by"] == "platform" and parcel["lines"][0]["quantity"] == 2
    assert order_status(api, shopper, order["id"]) == "shipped"
    # delivery of the platform's parcel is the platform's to record (or the shopper's)
    assert deliver(api, merchant, parcel["id"]).status_code == 403
    r = api.post(f"/api/v1/merchants/{merchant.merchant_id}/shipments/{parcel['id']}/delivered", json={},
                 headers=admin.headers)  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "delivered"
    assert order_status(api, shopper, order["id"]) == "delivered"
