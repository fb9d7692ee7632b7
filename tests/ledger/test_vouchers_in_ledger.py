"""Vouchers in the ledger: the platform pays for its own (an expense, the merchant is owed the full price),
a merchant's own voucher simply lowers what the merchant is owed (and the fee on it)."""

from __future__ import annotations

import uuid

from etalage.core import jobs
from tests.commerce.helpers import buy
from tests.ledger.helpers import assert_ledger_balanced
from tests.promotions.helpers import voucher


def _sale(api, merchant, order_id):  # type: ignore[no-untyped-def]
    journal = api.get(
        f"/api/v1/merchants/{merchant.merchant_id}/orders/{order_id}/ledger", headers=merchant.headers
    )
    assert journal.status_code == 200, journal.text
    return journal.json()


def test_platform_and_merchant_vouchers(api, factory, psp, db):  # type: ignore[no-untyped-def]
    shop = factory.verified_merchant()
    product = factory.product(shop, prices={"BE": 10_000}, stock=5)
    voucher(factory, None, "PLATFORM10", percent=10)
    voucher(factory, shop, "SHOP10", percent=10)

    r = buy(api, factory.shopper("BE", psp=psp), product["variant_id"], voucher_code="platform10")
    assert r.status_code == 201, r.text
    order = r.json()["orders"][0]
    paid = order["total"]["amount"]  # 90.00 (free shipping over 50.00)
    lines = {ln["account"]: ln["amount"] for ln in _sale(api, shop, order["id"])[0]["lines"]}
    fee = 700  # 7 % of the full 100.00: the merchant sells at full price, the platform pays the voucher
    assert lines == {"psp_clearing": paid, "voucher_expense": 1_000, "merchant_pending": -(paid + 1_000 - fee),
                     "fee_revenue": -fee}  # fmt: skip

    # A full refund gives the voucher back to the platform, the fee back to the merchant.
    body = {"amount": {"amount": paid, "currency": "EUR"}, "reason": "never arrived"}
    headers = {**shop.headers, "Idempotency-Key": uuid.uuid4().hex}
    assert api.post(f"/api/v1/merchants/{shop.merchant_id}/orders/{order['id']}/refunds", json=body,
                    headers=headers).status_code == 202  # fmt: skip
    jobs.drain(db)
    journal = _sale(api, shop, order["id"])
    total = {}
    for entry in journal:
        for ln in entry["lines"]:
            total[ln["account"]] = total.get(ln["account"], 0) + ln["amount"]
    assert total == {"psp_clearing": 0, "voucher_expense": 0, "merchant_pending": 0, "fee_revenue": 0}

    r = buy(api, factory.shopper("BE", psp=psp), product["variant_id"], voucher_code="shop10")
    assert r.status_code == 201, r.text
    order = r.json()["orders"][0]
    paid = order["total"]["amount"]
    lines = {ln["account"]: ln["amount"] for ln in _sale(api, shop, order["id"])[0]["lines"]}
    fee = 630  # 7 % of the 90.00 the merchant sold for
    assert lines == {"psp_clearing": paid, "merchant_pending": -(paid - fee), "fee_revenue": -fee}
    assert_ledger_balanced(db)
