"""Seller center over HTTP: products with prices and stock, orders to fulfil, warehouses and API tokens,
the dashboard's figures, and tenant isolation on every page with an id in its path."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from etalage.accounts.models import ApiToken
from tests.web.conftest import csrf_from, sign_in_http


def test_create_a_product_price_it_stock_it_and_put_it_on_sale(web, factory, db):
    shop = factory.verified_merchant(name="Atelier Zuid")
    sign_in_http(web, shop.email)
    base = f"/seller/{shop.merchant_id}/products"
    token = csrf_from(web.get(base).text)
    bad = web.post(
        base, data={"title": "Shirt", "sku": "S-1", "region": "BE", "price": "-3", "csrf_token": token}
    )
    assert bad.headers["location"].endswith("done=error")
    resp = web.post(
        base,
        data={"title": "Linen shirt", "sku": "LS-1", "region": "BE", "price": "24,99", "tax_class": "standard",
              "csrf_token": token},
    )  # fmt: skip
    assert resp.status_code == 303 and "/products/prd_" in resp.headers["location"]
    product_path = resp.headers["location"].split("?")[0]
    page = web.get(product_path)
    assert "€24.99" in page.text.replace("\xa0", "")
    variant_id = page.text.split('name="variant_id" value="')[1].split('"')[0]
    warehouse = shop.extra["warehouses"]["BE"]
    resp = web.post(
        f"{product_path}/stock",
        data={"variant_id": variant_id, "warehouse_id": warehouse, "kind": "receive", "quantity": "12",
              "csrf_token": token},
    )  # fmt: skip
    assert resp.headers["location"].endswith("done=stock")
    resp = web.post(
        f"{product_path}/prices",
        data={"variant_id": variant_id, "region": "NL", "price": "26.50", "csrf_token": token},
    )
    assert resp.headers["location"].endswith("done=price")
    resp = web.post(product_path, data={"title": "Linen shirt", "status": "active", "csrf_token": token})
    assert resp.headers["location"].endswith("done=saved")
    product_id = product_path.rsplit("/", 1)[1]
    public = web.get(f"/p/{product_id}")
    assert public.status_code == 200 and "In stock" in public.text


def test_orders_to_fulfil_move_on(web, factory, psp):
    shop = factory.verified_merchant(name="Atelier Zuid")
    item = factory.product(shop, title="Linen shirt")
    buyer = factory.shopper("BE", psp=psp)
    sign_in_http(web, buyer.email)
    order = web.post(
        "/api/v1/buy-now",
        json={"variant_id": item["variant_id"], "quantity": 1},
        headers={"Idempotency-Key": secrets.token_hex(8), "X-CSRF-Token": csrf_from(web.get("/me").text)},
    ).json()["orders"][0]
    web.cookies.clear()
    sign_in_http(web, shop.email)
    page = web.get(f"/seller/{shop.merchant_id}/orders")
    assert f'id="order-{order["id"]}"' in page.text and "Linen shirt" in page.text
    token = csrf_from(page.text)
    step = f"/seller/{shop.merchant_id}/orders/{order['id']}/step"
    assert (
        web.post(step, data={"to": "fulfilling", "csrf_token": token})
        .headers["location"]
        .endswith("done=fulfilling")
    )
    assert (
        web.post(step, data={"to": "completed", "csrf_token": token})
        .headers["location"]
        .endswith("done=error")
    )
    dashboard = web.get(f"/seller/{shop.merchant_id}")
    assert 'id="kpi-orders">1<' in dashboard.text
    assert "<svg" in dashboard.text and "<rect" in dashboard.text


def test_warehouses_and_api_tokens(web, factory, db):
    shop = factory.verified_merchant(name="Atelier Zuid")
    sign_in_http(web, shop.email)
    base = f"/seller/{shop.merchant_id}/settings"
    token = csrf_from(web.get(base).text)
    resp = web.post(
        f"/seller/{shop.merchant_id}/warehouses",
        data={"name": "Ghent", "address_line1": "Dok 2", "postal_code": "9000", "city": "Gent", "region_code": "BE",
              "csrf_token": token},
    )  # fmt: skip
    assert resp.headers["location"].endswith("done=warehouse")
    resp = web.post(
        f"/seller/{shop.merchant_id}/tokens", data={"name": "erp", "merchant:read": "on", "csrf_token": token}
    )
    assert resp.headers["location"].endswith("done=token") and "etl_" not in resp.headers["location"]
    shown = web.get(resp.headers["location"])
    plaintext = shown.text.split('id="new-token">')[1].split("<")[0]
    assert plaintext.startswith("etl_")
    assert plaintext not in web.get(base).text  # shown once
    orders = web.get(
        f"/api/v1/merchants/{shop.merchant_id}/orders", headers={"Authorization": f"Bearer {plaintext}"}
    )
    assert orders.status_code == 200
    with db.read() as s:
        stored = s.scalar(select(ApiToken).where(ApiToken.name == "erp"))
        assert stored.merchant_id == shop.merchant_id and stored.scopes == ["merchant:read"]
    web.post(f"/seller/{shop.merchant_id}/tokens/{stored.id}/revoke", data={"csrf_token": token})
    revoked = web.get(
        f"/api/v1/merchants/{shop.merchant_id}/orders", headers={"Authorization": f"Bearer {plaintext}"}
    )
    assert revoked.status_code == 401


def test_pages_with_ids_answer_404_for_another_merchants_resources(web, factory):
    mine = factory.verified_merchant(name="Mine")
    theirs = factory.verified_merchant(name="Theirs")
    their_item = factory.product(theirs, title="Their secret product")
    sign_in_http(web, mine.email)
    token = csrf_from(web.get(f"/seller/{mine.merchant_id}/products").text)
    pid = their_item["product_id"]
    for path in (
        f"/seller/{theirs.merchant_id}/products",
        f"/seller/{theirs.merchant_id}/orders",
        f"/seller/{theirs.merchant_id}/settings",
        f"/seller/{mine.merchant_id}/products/{pid}",
        f"/seller/{theirs.merchant_id}/products/{pid}",
    ):
        resp = web.get(path)
        assert resp.status_code == 404, path
        assert "Their secret product" not in resp.text
    for path, data in (
        (f"/seller/{mine.merchant_id}/products/{pid}", {"title": "Mine now", "status": "draft"}),
        (f"/seller/{mine.merchant_id}/products/{pid}/prices", {"variant_id": their_item["variant_id"], "region": "BE",
                                                               "price": "1"}),
        (f"/seller/{theirs.merchant_id}/warehouses", {"name": "X", "address_line1": "x", "postal_code": "1000",
                                                      "city": "x", "region_code": "BE"}),
        (f"/seller/{theirs.merchant_id}/tokens", {"name": "x", "merchant:read": "on"}),
    ):  # fmt: skip
        resp = web.post(path, data={**data, "csrf_token": token})
        assert resp.status_code == 404 or resp.headers.get("location", "").endswith("done=error"), path
    with_price = web.get(f"/p/{pid}")
    assert "Mine now" not in with_price.text


def test_dashboard_conversion_counts_purchases_per_product_view(web, factory, psp, db):
    import time
    from datetime import UTC, datetime

    from etalage.catalog import lookups as catalog
    from etalage.events import engagement
    from etalage.events import service as events
    from etalage.web import seller_stats

    shop = factory.verified_merchant(name="Atelier Zuid")
    item = factory.product(shop, title="Linen shirt")
    other_shop = factory.verified_merchant(name="Elsewhere")
    elsewhere = factory.product(other_shop, title="Not ours")
    buyer = factory.shopper("BE", psp=psp)
    now = datetime.now(UTC).isoformat()
    opens = [
        {"type": "product_click", "event_id": f"open-{i}", "occurred_at": now, "product_id": pid}
        for i, pid in enumerate([item["product_id"]] * 4 + [elsewhere["product_id"]] * 3)
    ]
    assert web.post("/api/v1/events", json={"events": opens}, headers=buyer.headers).status_code == 200
    bought = web.post(
        "/api/v1/buy-now",
        json={"variant_id": item["variant_id"], "quantity": 1},
        headers={**buyer.headers, "Idempotency-Key": secrets.token_hex(8)},
    )
    assert bought.status_code == 201, bought.text
    counter = engagement.consumer(events.event_log(), db)  # the worker's job, run here
    deadline = time.monotonic() + 10  # the purchase event is appended once the payment is in
    while time.monotonic() < deadline:
        counter.run_until_caught_up()
        with db.read() as s:
            if seller_stats.conversion(s, shop.merchant_id) == (1, 4):
                break
        time.sleep(0.1)
    with db.read() as s:
        assert seller_stats.conversion(s, shop.merchant_id) == (1, 4)
        assert seller_stats.conversion(s, other_shop.merchant_id) == (0, 3)
        assert item["product_id"] in catalog.product_ids_of_merchant(s, shop.merchant_id)
    sign_in_http(web, shop.email)
    dashboard = web.get(f"/seller/{shop.merchant_id}")
    assert 'id="kpi-conversion">25%<' in dashboard.text, dashboard.text.split("kpi-conversion")[1][:40]
    assert "1 purchases in 4 product views" in dashboard.text
