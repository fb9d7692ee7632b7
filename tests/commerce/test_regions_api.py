"""Launch regions: facts from code, the operator's switch in the database, every switch recorded."""

from __future__ import annotations

from sqlalchemy import select

from etalage.commerce.models import LaunchEvent


def test_regions_are_public_and_only_admins_switch_them(api, factory, db):
    regions = {r["code"]: r for r in api.get("/api/v1/regions").json()}
    assert set(regions) >= {"BE", "NL", "FR", "DE", "ES", "GB", "US", "ID"}
    assert regions["BE"]["min_purchase_age"] == 18 and regions["BE"]["vat_rates_bp"]["reduced"] == 600
    assert regions["GB"]["currency"] == "GBP" and regions["US"]["tax"] == "us_sales_tax"
    assert regions["ID"]["shipping_fee"] == {"amount": 1_500_000, "currency": "IDR"}
    shopper, admin = factory.user("shopper"), factory.admin()
    body = {"launched": False, "reason": "tax registration pending"}
    assert api.put("/api/v1/admin/regions/ID/launch", json=body, headers=shopper.headers).status_code == 403
    assert api.put("/api/v1/admin/regions/ZZ/launch", json=body, headers=admin.headers).status_code == 404
    assert api.put("/api/v1/admin/regions/ID/launch", json={"launched": "maybe", "reason": "x"},
                   headers=admin.headers).status_code == 422  # fmt: skip
    r = api.put("/api/v1/admin/regions/ID/launch", json=body, headers=admin.headers)
    assert r.status_code == 200 and r.json()["launched"] is False
    assert {x["code"]: x["launched"] for x in api.get("/api/v1/regions").json()}["ID"] is False
    api.put("/api/v1/admin/regions/ID/launch", json={"launched": True, "reason": "registered"}, headers=admin.headers)
    with db.read() as s:
        log = [(e.launched, e.actor_id, e.reason) for e in s.scalars(select(LaunchEvent).order_by(LaunchEvent.id))]
    assert log == [(False, admin.id, "tax registration pending"), (True, admin.id, "registered")]


def test_shipping_rates_per_merchant_and_region(api, factory, psp):
    from tests.commerce.helpers import buy

    m = factory.verified_merchant()
    product = factory.product(m, prices={"BE": 1000}, stock=2)
    url = f"/api/v1/merchants/{m.merchant_id}/shipping-rates/BE"
    assert api.put(url, json={"fee": -1}, headers=m.headers).status_code == 422
    r = api.put(url, json={"fee": 250, "free_over": 2000}, headers=m.headers)
    assert r.status_code == 200 and r.json()["fee"] == {"amount": 250, "currency": "EUR"}
    assert api.put(url, json={"fee": 250}, headers=factory.merchant().headers).status_code == 404
    order = buy(api, factory.shopper("BE", psp=psp), product["variant_id"]).json()["orders"][0]
    assert order["shipping"]["amount"] == 250
    order = buy(api, factory.shopper("BE", psp=psp), product["variant_id"]).json()["orders"][0]
    assert order["total"]["amount"] == 1250
