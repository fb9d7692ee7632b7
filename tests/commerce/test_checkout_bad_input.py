"""Every kind of bad checkout gets a clear 4xx problem saying what to do next, and changes nothing."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from etalage.commerce.models import IdempotencyKey, Order
from etalage.payments.models import Payment
from tests.commerce.helpers import assert_stock_consistent, buy, stock_of


@pytest.fixture
def shop(factory, psp):  # type: ignore[no-untyped-def]
    merchant = factory.verified_merchant(regions=("BE",))
    product = factory.product(merchant, prices={"BE": 1999, "NL": 1899}, stock=3)
    return merchant, product, factory.shopper("BE", psp=psp)


def _nothing_changed(db, variant_id: str, on_hand: int = 3) -> None:  # type: ignore[no-untyped-def]
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 0
        assert s.scalar(select(func.count()).select_from(Payment)) == 0
        assert s.scalar(select(func.count()).select_from(IdempotencyKey)) == 0  # a retry runs afresh
    assert stock_of(db, variant_id) == (on_hand, 0)
    assert_stock_consistent(db)


def _problem(resp, status: int, kind: str) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["type"].endswith("/" + kind), body
    assert body["detail"]
    return body


@pytest.mark.parametrize(
    "body",
    [
        {"quantity": -1},
        {"quantity": 0},
        {"quantity": 100},
        {"quantity": 10**30},
        {"quantity": "many"},
        {"quantity": 1.5},
        {"quantity": None},
        {"card_number": "4242424242424242"},
        {"variant_id": "x" * 5000},
        {"variant_id": 12},
        {"expected_unit_amount": -5},
        {"source": {"video_id": "vid_01ABCDEFGH", "live_room_id": "liv_01ABCDEFGH"}},
        {"return_url": "javascript:alert(1)"},
    ],
)
def test_invalid_fields_are_422(api, shop, db, body):
    _, product, shopper = shop
    payload = {"variant_id": product["variant_id"], "quantity": 1, **body}
    resp = api.post("/api/v1/buy-now", json=payload, headers={**shopper.headers, "Idempotency-Key": "k1"})
    problem = _problem(resp, 422, "invalid-input")
    assert problem["errors"]
    _nothing_changed(db, product["variant_id"])


def test_malformed_json_huge_bodies_and_missing_keys(api, shop, db):
    _, product, shopper = shop
    headers = {**shopper.headers, "Idempotency-Key": "k2", "Content-Type": "application/json"}
    _problem(api.post("/api/v1/buy-now", content=b'{"variant_id": ', headers=headers), 400, "malformed-json")
    huge = b'{"variant_id": "' + b"v" * 2_000_000 + b'"}'
    assert api.post("/api/v1/buy-now", content=huge, headers=headers).status_code == 413
    body = {"variant_id": product["variant_id"]}
    _problem(api.post("/api/v1/buy-now", json=body, headers=shopper.headers), 400, "idempotency-key-required")
    bad_key = {**shopper.headers, "Idempotency-Key": "spaces are not allowed"}
    _problem(api.post("/api/v1/buy-now", json=body, headers=bad_key), 400, "idempotency-key-required")
    assert api.post("/api/v1/buy-now", json=body, headers={"Idempotency-Key": "k"}).status_code == 401
    _nothing_changed(db, product["variant_id"])


def test_unknown_draft_and_archived_items(api, factory, shop, db):
    merchant, product, shopper = shop
    _problem(buy(api, shopper, "var_01UNKNOWN0000000000000000"), 404, "not-found")
    draft = factory.product(merchant, status="draft", stock=1)
    _problem(buy(api, shopper, draft["variant_id"]), 404, "not-found")  # not published: does not exist for shoppers
    r = api.patch(
        f"/api/v1/merchants/{merchant.merchant_id}/variants/{product['variant_id']}",
        json={"status": "archived"},
        headers=merchant.headers,
    )
    assert r.status_code == 200
    problem = _problem(buy(api, shopper, product["variant_id"]), 409, "no-longer-sold")
    assert problem["variant_id"] == product["variant_id"]
    _nothing_changed(db, product["variant_id"])


def test_another_merchants_draft_is_not_found_and_not_named(api, factory, shop, db):
    _, _, shopper = shop
    other = factory.verified_merchant()
    hidden = factory.product(other, status="draft", stock=1)
    resp = buy(api, shopper, hidden["variant_id"])
    assert resp.status_code == 404 and other.merchant_id not in resp.text


def test_not_enough_stock_says_how_many_are_left(api, shop, db):
    _, product, shopper = shop
    problem = _problem(buy(api, shopper, product["variant_id"], 4), 409, "out-of-stock")
    assert problem["available"] == 3 and problem["requested"] == 4
    _nothing_changed(db, product["variant_id"])


def test_regions_the_merchant_cannot_deliver_to(api, factory, psp, shop, db):
    _, product, _ = shop
    # Priced for NL, but the merchant has no warehouse there: not deliverable.
    nl = factory.shopper("NL", psp=psp)
    problem = _problem(buy(api, nl, product["variant_id"]), 422, "not-deliverable")
    assert problem["region"] == "NL"
    # Not priced for ES at all.
    es = factory.shopper("ES", psp=psp)
    _problem(buy(api, es, product["variant_id"]), 422, "not-deliverable")
    _nothing_changed(db, product["variant_id"])


def test_prices_changed_since_the_shopper_saw_them(api, shop, db):
    merchant, product, shopper = shop
    problem = _problem(buy(api, shopper, product["variant_id"], expected_unit_amount=1500), 409, "price-changed")
    assert problem["changes"] == [
        {"variant_id": product["variant_id"], "was": {"amount": 1500, "currency": "EUR"}, "now": {"amount": 1999, "currency": "EUR"}}
    ]
    # In the cart: the line keeps the price the shopper saw, checkout refuses to charge another one silently.
    api.put(f"/api/v1/cart/lines/{product['variant_id']}", json={"quantity": 1}, headers=shopper.headers)
    r = api.put(
        f"/api/v1/merchants/{merchant.merchant_id}/variants/{product['variant_id']}/prices/BE",
        json={"amount": 2499},
        headers=merchant.headers,
    )
    assert r.status_code == 200, r.text
    cart = api.get("/api/v1/cart", headers=shopper.headers).json()
    assert cart["lines"][0]["unit_price"]["amount"] == 1999 and cart["lines"][0]["current_price"]["amount"] == 2499
    key = {**shopper.headers, "Idempotency-Key": uuid.uuid4().hex}
    _problem(api.post("/api/v1/cart/checkout", json={}, headers=key), 409, "price-changed")
    wrong_total = {"expected_total": {"amount": 1, "currency": "EUR"}}
    _nothing_changed(db, product["variant_id"])
    # Accepting the new price: set the line again, then it goes through (and a wrong expected total does not).
    api.put(f"/api/v1/cart/lines/{product['variant_id']}", json={"quantity": 1}, headers=shopper.headers)
    key = {**shopper.headers, "Idempotency-Key": uuid.uuid4().hex}
    _problem(api.post("/api/v1/cart/checkout", json=wrong_total, headers=key), 409, "total-changed")
    key = {**shopper.headers, "Idempotency-Key": uuid.uuid4().hex}
    right = {"expected_total": {"amount": 2499 + 495, "currency": "EUR"}}
    assert api.post("/api/v1/cart/checkout", json=right, headers=key).status_code == 201


def test_minors_cannot_buy_where_the_law_says_so(api, factory, psp, shop, db):
    merchant, product, _ = shop
    teen = factory.shopper("BE", psp=psp, birth_date=date(date.today().year - 15, 1, 1))
    problem = _problem(buy(api, teen, product["variant_id"]), 403, "age-restricted")
    assert problem["min_age"] == 18 and "under 18" in problem["detail"]
    unknown = factory.shopper("BE", psp=psp, birth_date=None)
    assert "birth date" in _problem(buy(api, unknown, product["variant_id"]), 403, "age-restricted")["detail"]
    _nothing_changed(db, product["variant_id"])
    # The same teenager may buy for delivery in the Netherlands, which has no such rule.
    nl_merchant = factory.verified_merchant(regions=("NL",))
    nl_product = factory.product(nl_merchant, prices={"NL": 999}, stock=1)
    teen_nl = factory.shopper("NL", psp=psp, birth_date=date(date.today().year - 15, 1, 1))
    assert buy(api, teen_nl, nl_product["variant_id"]).status_code == 201


def test_a_region_that_is_not_launched(api, factory, psp, db):
    admin = factory.admin()
    merchant = factory.verified_merchant(regions=("ES",))
    product = factory.product(merchant, prices={"ES": 1000}, stock=1)
    shopper = factory.shopper("ES", psp=psp)
    r = api.put("/api/v1/admin/regions/ES/launch", json={"launched": False, "reason": "not yet"}, headers=admin.headers)
    assert r.status_code == 200 and r.json()["launched"] is False
    try:
        _problem(buy(api, shopper, product["variant_id"]), 422, "region-not-launched")
        _nothing_changed(db, product["variant_id"], on_hand=1)
    finally:
        api.put("/api/v1/admin/regions/ES/launch", json={"launched": True, "reason": "launch day"}, headers=admin.headers)
    assert buy(api, shopper, product["variant_id"]).status_code == 201


def test_a_suspended_trader_cannot_sell(api, factory, shop, db):
    merchant, product, shopper = shop
    moderator = factory.moderator()
    r = api.post(
        f"/api/v1/merchants/{merchant.merchant_id}/verification",
        json={"decision": "suspend", "reason": "counterfeit reports"},
        headers=moderator.headers,
    )
    assert r.status_code == 200, r.text
    _problem(buy(api, shopper, product["variant_id"]), 409, "merchant-not-selling")
    _nothing_changed(db, product["variant_id"])


def test_missing_address_or_payment_method(api, factory, shop, db):
    _, product, _ = shop
    no_address = factory.shopper("BE", address=False)
    assert _problem(buy(api, no_address, product["variant_id"]), 422, "checkout-detail-missing")["missing"] == "address"
    other = factory.shopper("BE")
    r = buy(api, other, product["variant_id"], payment_method_id="pm_01NOTMINE0000000000000000")
    _problem(r, 404, "not-found")
    _nothing_changed(db, product["variant_id"])
