"""After the sale, over HTTP: the seller ships with a tracking number, the shopper follows the parcel, confirms
it arrived and asks for a return; the seller decides, receives the items back and refunds."""

from __future__ import annotations

import re
import secrets

from etalage.core import jobs
from tests.commerce.helpers import stock_of
from tests.web.conftest import csrf_from, sign_in_http


def _buy(web, factory, psp, quantity=2):  # type: ignore[no-untyped-def]
    shop = factory.verified_merchant(name="Atelier Zuid")
    item = factory.product(shop, title="Linen shirt", prices={"BE": 2500}, stock=5)
    buyer = factory.shopper("BE", psp=psp)
    sign_in_http(web, buyer.email)
    order = web.post(
        "/api/v1/buy-now",
        json={"variant_id": item["variant_id"], "quantity": quantity},
        headers={"Idempotency-Key": secrets.token_hex(8), "X-CSRF-Token": csrf_from(web.get("/me").text)},
    ).json()["orders"][0]
    web.cookies.clear()
    return shop, item, buyer, order


def test_ship_follow_receive_return_decide_receive_refund(web, factory, psp, db):
    shop, item, buyer, order = _buy(web, factory, psp)
    sign_in_http(web, shop.email)
    orders = f"/seller/{shop.merchant_id}/orders"
    token = csrf_from(web.get(orders).text)
    web.post(f"{orders}/{order['id']}/step", data={"to": "fulfilling", "csrf_token": token})
    page = web.get(f"{orders}?status=fulfilling").text
    assert 'class="inline-form ship-form"' in page and 'name="tracking_number"' in page
    ship = f"{orders}/{order['id']}/ship"
    bad = web.post(
        ship, data={"carrier": "bpost", "tracking_number": "<x>", "csrf_token": token, "shown": "fulfilling"}
    )
    assert bad.headers["location"].endswith("done=tracking")
    assert (
        web.post(ship, data={"carrier": "bpost", "tracking_number": "323299999999999999"}).status_code == 403
    )  # no CSRF
    r = web.post(
        ship,
        data={
            "carrier": "bpost",
            "tracking_number": "323299999999999999",
            "csrf_token": token,
            "shown": "fulfilling",
        },
    )
    assert r.headers["location"].endswith("done=shipped"), r.headers
    shipped = web.get(f"{orders}?status=shipped&done=shipped").text
    assert 'class="alert ok"' in shipped and "323299999999999999" in shipped
    again = web.post(
        ship, data={"carrier": "bpost", "tracking_number": "AB1234", "csrf_token": token, "shown": "shipped"}
    )
    assert again.headers["location"].endswith("done=error")  # nothing left to ship
    web.cookies.clear()

    # the shopper follows the parcel and confirms it arrived
    sign_in_http(web, buyer.email)
    page = web.get(f"/orders/{order['id']}").text
    assert 'id="order-status"' in page and 'data-status="shipped"' in page
    assert 'id="tracking"' in page and "323299999999999999" in page and "track.bpost.cloud" in page
    assert 'id="request-return"' not in page  # nothing delivered yet
    parcel = re.search(r'action="/orders/[^/]+/shipments/([^/]+)/received"', page).group(1)
    token = csrf_from(page)
    r = web.post(f"/orders/{order['id']}/shipments/{parcel}/received", data={"csrf_token": token})
    assert r.headers["location"].endswith("done=received")
    page = web.get(f"/orders/{order['id']}?done=received").text
    assert 'data-status="delivered"' in page and 'id="request-return"' in page and 'class="alert ok"' in page

    # and asks to return one of the two shirts
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.split('id="request-return"')[1]).group(1)
    form = {
        "csrf_token": token,
        "idempotency_key": key,
        f"qty_{item['variant_id']}": "3",
        "reason": "too big",
    }
    assert (
        web.post(f"/orders/{order['id']}/returns", data=form)
        .headers["location"]
        .endswith("done=return-error")
    )
    form[f"qty_{item['variant_id']}"] = "1"
    assert web.post(f"/orders/{order['id']}/returns", data=form).headers["location"].endswith("done=returned")
    assert (
        web.post(f"/orders/{order['id']}/returns", data=form).headers["location"].endswith("done=returned")
    )  # replay
    page = web.get(f"/orders/{order['id']}").text
    assert page.count('class="return"') == 1 and "Requested: waiting for the shop" in page
    web.cookies.clear()

    # the seller approves, receives the shirt back (restocked) and refunds less than its value
    sign_in_http(web, shop.email)
    returns = f"/seller/{shop.merchant_id}/returns"
    page = web.get(returns).text
    ret_id = re.search(r'id="return-(ret_[^"]+)"', page).group(1)
    assert "too big" in page and 'data-status="requested"' in page
    token = csrf_from(page)
    r = web.post(
        f"{returns}/{ret_id}/decision", data={"csrf_token": token, "decision": "reject", "reason": ""}
    )
    assert r.headers["location"].endswith("done=reason")
    r = web.post(
        f"{returns}/{ret_id}/decision", data={"csrf_token": token, "decision": "approve", "reason": ""}
    )
    assert r.headers["location"].endswith("done=approved")
    before = stock_of(db, item["variant_id"])
    r = web.post(
        f"{returns}/{ret_id}/receipt", data={"csrf_token": token, "restock": "1", "shown": "approved"}
    )
    assert r.headers["location"].endswith("done=received")
    assert stock_of(db, item["variant_id"]) == (before[0] + 1, before[1])
    page = web.get(f"{returns}?status=received").text
    assert 'class="inline-form refund-form"' in page and 'value="25.00"' in page
    refund = f"{returns}/{ret_id}/refund"
    assert (
        web.post(refund, data={"csrf_token": token, "amount": "999", "shown": "received"})
        .headers["location"]
        .endswith("done=amount")
    )
    assert (
        web.post(refund, data={"csrf_token": token, "amount": "abc", "shown": "received"})
        .headers["location"]
        .endswith("done=amount")
    )
    r = web.post(
        refund, data={"csrf_token": token, "amount": "20,00", "idempotency_key": "k-1", "shown": "received"}
    )
    assert r.headers["location"].endswith("done=refunded")
    jobs.drain(db)
    web.cookies.clear()
    sign_in_http(web, buyer.email)
    page = web.get(f"/orders/{order['id']}").text
    assert 'data-status="partially_refunded"' in page and "€20.00" in page.replace("\xa0", "")


def test_another_merchants_return_and_parcels_are_not_found(web, factory, psp):
    shop, item, buyer, order = _buy(web, factory, psp, quantity=1)
    other = factory.verified_merchant()
    sign_in_http(web, other.email)
    token = csrf_from(web.get("/me").text)
    r = web.post(f"/seller/{shop.merchant_id}/orders/{order['id']}/ship",
                 data={"carrier": "bpost", "tracking_number": "AB1234", "csrf_token": token})  # fmt: skip
    assert r.status_code == 404
    r = web.post(f"/seller/{other.merchant_id}/orders/{order['id']}/ship",
                 data={"carrier": "bpost", "tracking_number": "AB1234", "csrf_token": token, "shown": "paid"})  # fmt: skip
    assert r.status_code == 404  # the order is not this shop's
    assert web.get(f"/seller/{shop.merchant_id}/returns").status_code == 404
    r = web.post(f"/seller/{other.merchant_id}/returns/ret_01M8000000000000000000000A/refund",
                 data={"csrf_token": token, "amount": "1"})  # fmt: skip
    assert r.status_code == 404
