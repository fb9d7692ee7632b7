"""Shop tab, search, profiles' showcases, and the buying settings (addresses, payment methods)."""

from __future__ import annotations

from tests.factories import make_video
from tests.web.conftest import csrf_from, sign_in_http


def test_shop_search_and_profiles_show_what_is_on_sale(web, factory):
    shop = factory.verified_merchant(name="Atelier Zuid")
    item = factory.product(shop, title="Linen summer shirt", prices={"BE": 2499})
    factory.product(shop, title="Hidden draft", status="draft")
    creator = factory.user("shopper", "creator", name="@cleo")
    make_video(factory, creator, caption="Linen season #summer", products=[item["product_id"]])
    page = web.get("/shop")
    assert "Linen summer shirt" in page.text and "Hidden draft" not in page.text
    found = web.get("/search?q=summer")
    assert "Linen season" in found.text  # the video, by its caption and hashtag
    assert "Linen summer shirt" in found.text  # the product, by catalog search
    assert web.get("/search?q=zzzz-nothing").status_code == 200
    profile = web.get(f"/creators/{creator.id}")
    assert "@cleo" in profile.text and "Linen summer shirt" in profile.text  # the showcase
    store = web.get(f"/shops/{shop.merchant_id}")
    assert (
        "Atelier Zuid" in store.text
        and "Linen summer shirt" in store.text
        and "Test Trading BV" in store.text
    )
    assert web.get("/creators/usr_00000000000000000000000000").status_code == 404
    unverified = factory.merchant(name="Not yet")
    assert web.get(f"/shops/{unverified.merchant_id}").status_code == 404


def test_addresses_for_one_tap_buying(web, factory):
    shopper = factory.user("shopper")
    sign_in_http(web, shopper.email)
    page = web.get("/settings")
    assert 'id="buying"' in page.text
    token = csrf_from(page.text)
    bad = web.post("/settings/addresses", data={"recipient": "S", "country": "ZZ", "csrf_token": token})
    assert bad.headers["location"].startswith("/settings?address=invalid")
    ok = web.post(
        "/settings/addresses",
        data={"recipient": "Sam Shopper", "line1": "Main street 1", "postal_code": "1000", "city": "Brussels",
              "country": "BE", "make_default": "on", "csrf_token": token},
    )  # fmt: skip
    assert ok.headers["location"].startswith("/settings?address=saved")
    assert "Main street 1" in web.get("/settings").text
    other = factory.shopper("BE")
    resp = web.post(f"/settings/addresses/{other.extra['address_id']}/delete", data={"csrf_token": token})
    assert resp.status_code == 404
    resp = web.post(
        f"/settings/payment-methods/{other.extra['payment_method_id']}/delete", data={"csrf_token": token}
    )
    assert resp.status_code == 404


def test_product_taps_on_search_are_reported(browse, factory, live_server):
    from tests.web.test_feed import stored_events

    shop = factory.verified_merchant(name="Atelier Zuid")
    item = factory.product(shop, title="Linen summer shirt")
    shopper = factory.user("shopper")
    b = browse()
    b.sign_in(shopper.email)
    b.goto("/search?q=summer")
    b.page.locator(f"a[data-product='{item['product_id']}']").click()
    b.page.wait_for_url(f"**/p/{item['product_id']}")
    events = stored_events(live_server, shopper.principal.pseudonym, until={"product_click"})
    clicks = [e for e in events if e["type"] == "product_click"]
    assert clicks and clicks[0]["product_id"] == item["product_id"] and clicks[0]["surface"] == "search"
