"""Buying in the browser: one tap from the sheet over a video, the cart, the order list and detail."""

from __future__ import annotations

import pytest

from tests.factories import make_video
from tests.web.conftest import csrf_from, sign_in_http


@pytest.fixture
def shelf(factory):  # type: ignore[no-untyped-def]
    shop = factory.verified_merchant(name="Atelier Zuid")
    item = factory.product(shop, prices={"BE": 2499}, title="Linen shirt", stock=5, variants=2)
    creator = factory.user("shopper", "creator", name="@cleo")
    video = make_video(factory, creator, caption="Linen season", products=[item["product_id"]])
    return {"shop": shop, "item": item, "video": video}


def test_buy_now_in_one_tap_from_the_feed(browse, factory, psp, shelf):
    shopper = factory.shopper("BE", psp=psp)
    b = browse()
    b.sign_in(shopper.email)
    page = b.page
    b.goto("/")
    page.locator(".clip button.chip").first.click()
    sheet = page.locator("#product-sheet")
    sheet.locator("form.buy-form").wait_for()
    assert "Visa •••• 4242" in sheet.inner_text() and "Main street 1" in sheet.inner_text()
    buy = sheet.locator("button[value=buy]")
    buy.dblclick()  # a double tap must not order twice
    sheet.locator(".buy-result a.order-link").wait_for()
    assert "Ordered" in sheet.locator(".buy-result").inner_text()
    b.shot("buy-now-done")
    sheet.locator(".buy-result a.order-link").click()
    page.wait_for_url("**/orders/ord_*")
    assert page.locator("#order-status").get_attribute("data-status") == "paid"
    assert "Linen shirt" in page.content()
    b.shot("order-detail")
    b.goto("/orders")
    assert page.locator(".order-card").count() == 1  # exactly one order for the double tap
    b.shot("orders")
    assert not b.errors, b.errors


def test_add_to_cart_then_check_out(browse, factory, psp, shelf):
    shopper = factory.shopper("BE", psp=psp)
    b = browse()
    b.sign_in(shopper.email)
    page = b.page
    b.goto(f"/p/{shelf['item']['product_id']}")
    page.locator("button[value=cart]").click()
    page.locator(".buy-result.ok").wait_for()
    page.locator("button[value=cart]").click()  # one more: the line now holds two
    # the first answer's text is still shown, so wait for the second answer itself (the line's quantity)
    page.wait_for_function("() => document.querySelector('input[name=variant_id]:checked').dataset.inCart === '2'")
    b.goto("/cart")
    assert page.locator(".cart-line .qty").input_value() == "2"
    b.shot("cart")
    page.locator("#checkout").click()
    page.wait_for_url("**/orders")
    assert page.locator(".order-card").count() == 1
    assert "2 × Linen shirt" in page.locator(".order-card").inner_text()


def test_shopper_cancels_a_paid_order(web, factory, psp, shelf):
    shopper = factory.shopper("BE", psp=psp)
    sign_in_http(web, shopper.email)
    import secrets

    resp = web.post(
        "/api/v1/buy-now",
        json={"variant_id": shelf["item"]["variant_id"], "quantity": 1},
        headers={
            "Idempotency-Key": secrets.token_hex(8),
            "X-CSRF-Token": csrf_from(web.get("/settings").text),
        },
    )
    assert resp.status_code == 201, resp.text
    order_id = resp.json()["orders"][0]["id"]
    page = web.get(f"/orders/{order_id}")
    assert "Cancel order" in page.text
    cancel = web.post(f"/orders/{order_id}/cancel", data={"csrf_token": csrf_from(page.text)})
    assert cancel.status_code == 303
    after = web.get(f"/orders/{order_id}?cancelled=1").text
    assert 'data-status="cancelled"' in after or 'data-status="refunded"' in after


def test_orders_of_someone_else_are_not_found(web, factory, psp, shelf):
    buyer = factory.shopper("BE", psp=psp)
    sign_in_http(web, buyer.email)
    import secrets

    token = csrf_from(web.get("/settings").text)
    order_id = web.post(
        "/api/v1/buy-now",
        json={"variant_id": shelf["item"]["variant_id"], "quantity": 1},
        headers={"Idempotency-Key": secrets.token_hex(8), "X-CSRF-Token": token},
    ).json()["orders"][0]["id"]
    web.cookies.clear()
    other = factory.shopper("BE")
    sign_in_http(web, other.email)
    assert web.get(f"/orders/{order_id}").status_code == 404
    assert (
        web.post(
            f"/orders/{order_id}/cancel", data={"csrf_token": csrf_from(web.get("/me").text)}
        ).status_code
        == 404
    )
    assert "ord_" not in web.get("/orders").text
