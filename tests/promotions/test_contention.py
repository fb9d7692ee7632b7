"""The race the issue names, over real HTTP: 100 shoppers tap "buy" at once on a flash sale capped at 5
units, and (separately) with a voucher limited to 3 uses. Exactly 5 and exactly 3 win; the others get a
409 problem, and nothing of theirs is half-written."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

import httpx
from sqlalchemy import func, select

from etalage.commerce.models import Order
from etalage.promotions.models import FlashSale, FlashSaleClaim, Voucher, VoucherRedemption
from tests.commerce.helpers import assert_stock_consistent
from tests.promotions.helpers import flash_sale, voucher

SHOPPERS = 100


def _race(live_server: Any, shoppers: list[Any], body: dict[str, Any]) -> list[httpx.Response]:
    start = threading.Barrier(len(shoppers))
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def shop(shopper: Any) -> None:
        with httpx.Client(base_url=live_server.url, timeout=120) as client:
            start.wait()  # everyone taps "buy" at the same moment
            headers = {**shopper.headers, "Idempotency-Key": uuid.uuid4().hex}
            resp = client.post("/api/v1/buy-now", json=body, headers=headers)
        with lock:
            answers.append(resp)

    threads = [threading.Thread(target=shop, args=(s,)) for s in shoppers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def _losers_are_clear(answers: list[httpx.Response], slugs: set[str]) -> None:
    for r in answers:
        if r.status_code != 201:
            assert r.headers["content-type"].startswith("application/problem+json"), r.text
            assert r.json()["type"].rsplit("/", 1)[-1] in slugs, r.text


def test_a_hundred_shoppers_race_for_a_flash_sale_of_five(factory, psp, db, live_server, api):
    shop = factory.verified_merchant()
    product = factory.product(shop, stock=SHOPPERS + 10, prices={"BE": 2000})
    sale_id = flash_sale(factory, shop, product["variant_id"], price=999, quantity=5)
    shoppers = [factory.shopper("BE", psp=psp) for _ in range(SHOPPERS)]

    # Each shopper saw the flash price; when the sale is gone that price is no longer on offer.
    answers = _race(
        live_server,
        shoppers,
        {"variant_id": product["variant_id"], "quantity": 1, "expected_unit_amount": 999},
    )

    statuses = Counter(r.status_code for r in answers)
    assert statuses == {201: 5, 409: SHOPPERS - 5}, statuses
    _losers_are_clear(answers, {"flash-sale-sold-out", "price-changed"})
    assert all(
        r.json()["orders"][0]["lines"][0]["unit_price"]["amount"] == 999
        for r in answers
        if r.status_code == 201
    )
    with db.read() as s:
        assert s.scalar(select(FlashSale.sold).where(FlashSale.id == sale_id)) == 5
        assert s.scalar(select(func.sum(FlashSaleClaim.quantity))) == 5
        assert s.scalar(select(func.count()).select_from(Order)) == 5  # losers left no order behind
    assert_stock_consistent(db)


def test_a_hundred_shoppers_race_for_a_voucher_of_three_uses(factory, psp, db, live_server, api):
    shop = factory.verified_merchant()
    product = factory.product(shop, stock=SHOPPERS + 10, prices={"BE": 2000})
    voucher_id = voucher(factory, shop, "RACE3", amount=500, currency="EUR", max_uses=3)
    shoppers = [factory.shopper("BE", psp=psp) for _ in range(SHOPPERS)]

    answers = _race(
        live_server, shoppers, {"variant_id": product["variant_id"], "quantity": 1, "voucher_code": "race3"}
    )

    statuses = Counter(r.status_code for r in answers)
    assert statuses == {201: 3, 409: SHOPPERS - 3}, statuses
    _losers_are_clear(answers, {"voucher-used-up"})
    for r in answers:
        if r.status_code == 201:
            order = r.json()["orders"][0]
            assert (
                order["discount"]["amount"] == 500
                and order["total"]["amount"] == 2000 - 500 + order["shipping"]["amount"]
            )
    with db.read() as s:
        assert s.scalar(select(Voucher.used_count).where(Voucher.id == voucher_id)) == 3
        assert s.scalar(select(func.count()).select_from(VoucherRedemption)) == 3
        assert s.scalar(select(func.count()).select_from(Order)) == 3
    assert_stock_consistent(db)


def test_one_shopper_racing_themselves_gets_the_voucher_once(factory, psp, db, live_server, api):
    """Ten taps at once by the same shopper on a voucher limited to one use per shopper: one order."""
    shop = factory.verified_merchant()
    product = factory.product(shop, stock=20, prices={"BE": 2000})
    voucher_id = voucher(factory, shop, "ONCEEACH", percent=20, per_user_limit=1)
    shopper = factory.shopper("BE", psp=psp)

    answers = _race(
        live_server, [shopper] * 10, {"variant_id": product["variant_id"], "voucher_code": "ONCEEACH"}
    )

    statuses = Counter(r.status_code for r in answers)
    assert statuses == {201: 1, 409: 9}, statuses
    _losers_are_clear(answers, {"voucher-limit-reached"})
    with db.read() as s:
        assert s.scalar(select(Voucher.used_count).where(Voucher.id == voucher_id)) == 1
        assert s.scalar(select(func.count()).select_from(VoucherRedemption)) == 1
