"""Pages for promotions and reviews over HTTP: the seller center's vouchers and flash sales, the reduced
price with its lowest-30-day price and the reviews on the product page, the review form of a delivered
order."""

from __future__ import annotations

import re

from sqlalchemy import select

from etalage.promotions.models import FlashSale, Voucher
from tests.fulfilment.helpers import delivered_order
from tests.web.conftest import csrf_from, sign_in_http


def test_vouchers_and_flash_sales_in_the_seller_center(web, factory, db):
    shop = factory.verified_merchant(name="Atelier Promo")
    item = factory.product(shop, prices={"BE": 2_000}, title="Linen shirt")
    sign_in_http(web, shop.email)
    base = f"/seller/{shop.merchant_id}/promotions"
    page = web.get(base)
    assert page.status_code == 200 and "Linen shirt" in page.text
    token = csrf_from(page.text)
    r = web.post(f"{base}/vouchers", data={"code": "SPRING10", "kind": "percent", "value": "10", "region_code": "BE",
                                           "days": "7", "per_user_limit": "1", "max_uses": "50", "csrf_token": token})  # fmt: skip
    assert r.headers["location"].endswith("done=voucher")
    for bad in ({"value": "150"}, {"value": "-5", "kind": "fixed"}, {"code": "x"}, {"value": "abc"}):
        form = {
            "code": "BAD12",
            "kind": "percent",
            "value": "10",
            "region_code": "BE",
            "csrf_token": token,
            **bad,
        }
        assert web.post(f"{base}/vouchers", data=form).headers["location"].endswith("done=error"), bad
    r = web.post(f"{base}/flash-sales", data={"variant_id": item["variant_id"], "region_code": "BE", "price": "14.99",
                                              "quantity": "5", "hours": "2", "csrf_token": token})  # fmt: skip
    assert r.headers["location"].endswith("done=sale")
    with db.read() as s:
        v = s.scalar(select(Voucher).where(Voucher.code == "SPRING10"))
        sale = s.scalar(select(FlashSale))
    assert v.percent_bp == 1_000 and v.max_uses == 50 and v.merchant_id == shop.merchant_id
    assert (sale.price_amount, sale.quantity) == (1_499, 5)
    page = web.get(base).text
    assert "SPRING10" in page and "0 / 5" in page
    assert (
        web.post(f"{base}/vouchers/{v.id}/end", data={"csrf_token": token})
        .headers["location"]
        .endswith("done=ended")
    )
    assert (
        web.post(f"{base}/flash-sales/{sale.id}/end", data={"csrf_token": token})
        .headers["location"]
        .endswith("done=ended")
    )
    other = factory.verified_merchant(name="Other")
    assert web.get(f"/seller/{other.merchant_id}/promotions").status_code == 404
    r = web.post(f"/seller/{other.merchant_id}/promotions/vouchers", data={"code": "STEAL1", "kind": "percent",
                 "value": "10", "region_code": "BE", "csrf_token": token})  # fmt: skip
    assert r.status_code == 404 or r.headers["location"].endswith("done=error")


def test_review_a_delivered_order_and_see_it_with_the_reduced_price_on_the_product_page(
    web, api, factory, psp, db
):
    merchant, shopper, product, order = delivered_order(api, factory, psp)
    from tests.promotions.helpers import flash_sale

    flash_sale(factory, merchant, product["variant_id"], price=1_500, quantity=3)
    sign_in_http(web, shopper.email)
    page = web.get(f"/orders/{order['id']}").text
    assert 'id="reviews"' in page and "review-form" in page
    token = csrf_from(page)
    bad = web.post(f"/orders/{order['id']}/reviews", data={"variant_id": product["variant_id"], "rating": "9",
                   "csrf_token": token})  # fmt: skip
    assert bad.headers["location"].endswith("done=review-error#reviews")
    r = web.post(f"/orders/{order['id']}/reviews", data={"variant_id": product["variant_id"], "rating": "5",
                 "text": "Lovely fabric", "csrf_token": token})  # fmt: skip
    assert r.headers["location"].endswith("done=reviewed#reviews")
    page = web.get(f"/orders/{order['id']}?done=reviewed").text
    assert "review-form" not in page  # each item is reviewed once
    sheet = web.get(f"/p/{product['product_id']}").text
    assert "Lovely fabric" in sheet and "Verified purchase" in sheet
    assert re.search(r"Lowest price in the 30 days before this reduction: [^<]*20[.,]00", sheet), sheet[:3000]
    stranger = factory.shopper("BE", psp=psp)
    web.cookies.clear()
    sign_in_http(web, stranger.email)
    assert web.get(f"/orders/{order['id']}").status_code == 404


def test_a_voucher_typed_in_the_cart_lowers_the_order_in_the_browser(browse, factory, psp, db):
    from tests.promotions.helpers import voucher

    shop = factory.verified_merchant(name="Atelier Code")
    item = factory.product(shop, prices={"BE": 4_000}, title="Wool scarf", stock=5)
    voucher(factory, shop, "SCARF10", amount=1_000, currency="EUR")
    shopper = factory.shopper("BE", psp=psp)
    b = browse()
    b.sign_in(shopper.email)
    page = b.page
    b.goto(f"/p/{item['product_id']}")
    page.locator("button[value=cart]").click()
    page.locator(".buy-result.ok").wait_for()
    b.goto("/cart")
    page.locator("#voucher-code").fill("NOSUCHCODE")
    page.locator("#checkout").click()
    page.locator(".buy-result.error").wait_for()
    assert "no voucher" in page.locator(".buy-result").inner_text().lower()
    page.locator("#voucher-code").fill("scarf10")
    page.locator("#checkout").click()
    page.wait_for_url("**/orders")
    page.locator("a.order-card").first.click()
    page.wait_for_url("**/orders/ord_*")
    assert "Voucher" in page.content()
    with db.read() as s:
        assert s.scalar(select(Voucher.used_count).where(Voucher.code == "SCARF10")) == 1
    assert all("422" in e for e in b.errors), b.errors  # only the unknown code's answer


def test_the_shop_replies_to_a_review_from_the_seller_center(web, api, factory, psp):
    merchant, shopper, product, order = delivered_order(api, factory, psp)
    r = api.post(f"/api/v1/orders/{order['id']}/reviews", json={"variant_id": product["variant_id"], "rating": 2,
                 "text": "Too thin"}, headers=shopper.headers)  # fmt: skip
    review_id = r.json()["id"]
    sign_in_http(web, merchant.email)
    base = f"/seller/{merchant.merchant_id}/reviews"
    page = web.get(base)
    assert page.status_code == 200 and "Too thin" in page.text
    token = csrf_from(page.text)
    assert (
        web.post(f"{base}/{review_id}/reply", data={"text": "x", "csrf_token": token})
        .headers["location"]
        .endswith("done=error")
    )
    ok = web.post(
        f"{base}/{review_id}/reply", data={"text": "We will send a thicker one.", "csrf_token": token}
    )
    assert ok.headers["location"].endswith("done=replied")
    again = web.post(f"{base}/{review_id}/reply", data={"text": "Twice?", "csrf_token": token})
    assert again.headers["location"].endswith("done=error")
    assert "We will send a thicker one." in web.get(f"/p/{product['product_id']}").text
    other = factory.verified_merchant(name="Nosy")
    assert web.get(f"/seller/{other.merchant_id}/reviews").status_code == 404
    assert web.post(f"/seller/{other.merchant_id}/reviews/{review_id}/reply",
                    data={"text": "Not mine", "csrf_token": token}).status_code == 404  # fmt: skip
