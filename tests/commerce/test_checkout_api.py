"""One-tap checkout over real HTTP, with the real test PSP: the happy paths, idempotency, and payments."""

from __future__ import annotations

import threading
import uuid

import httpx
from sqlalchemy import func, select, text

from etalage.commerce.models import Order, OrderEvent
from etalage.core import bus
from etalage.payments import recovery
from etalage.payments.models import Payment, PaymentEvent
from tests.commerce.helpers import assert_stock_consistent, buy, eventually, stock_of
from tests.payments.psp import CARDS


def _order_count(db) -> int:  # type: ignore[no-untyped-def]
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Order)) or 0


def test_buy_now_pays_sells_the_stock_and_records_everything(api, factory, psp, db):
    merchant = factory.verified_merchant()
    product = factory.product(merchant, prices={"BE": 1999}, stock=5)
    shopper = factory.shopper("BE", psp=psp)
    paid_events: list[dict] = []

    def on_paid(_topic: str, payload: dict) -> None:
        paid_events.append(payload)

    bus.subscribe("order.paid", on_paid)
    try:
        resp = buy(api, shopper, product["variant_id"], 2, source={"video_id": None})
    finally:
        bus.unsubscribe("order.paid", on_paid)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["status"] == "paid" and body["payment"]["status"] == "captured"
    assert body["payment"]["brand"] == "visa" and body["payment"]["last4"] == "4242"
    order = body["orders"][0]
    assert order["status"] == "paid" and order["total"] == {"amount": 2 * 1999 + 495, "currency": "EUR"}
    assert order["tax"]["amount"] == 694 + 86 and order["tax_included"] is True
    assert stock_of(db, product["variant_id"]) == (3, 0)
    assert_stock_consistent(db)
    # the history, the shopper's view, the merchant's view
    detail = api.get(f"/api/v1/orders/{order['id']}", headers=shopper.headers).json()
    assert [(e["from_status"], e["to_status"]) for e in detail["events"]] == [
        (None, "awaiting_payment"),
        ("awaiting_payment", "paid"),
    ]
    mine = api.get(f"/api/v1/merchants/{merchant.merchant_id}/orders", headers=merchant.headers).json()
    assert [o["id"] for o in mine["items"]] == [order["id"]] and mine["items"][0]["next_states"]
    assert api.get(f"/api/v1/orders/{order['id']}", headers=merchant.headers).status_code == 404
    # the PSP charged exactly this, once
    charged = [p for p in psp.payments() if p["idempotency_key"] == body["payment"]["id"]]
    assert len(charged) == 1 and charged[0]["captured_amount"] == order["total"]["amount"]
    eventually(lambda: paid_events)
    event = paid_events[0]
    assert event["order_id"] == order["id"] and event["merchant_id"] == merchant.merchant_id
    assert event["region"] == "BE" and event["items"][0]["quantity"] == 2 and event["items"][0]["currency"] == "EUR"


def test_a_cart_across_merchants_is_one_order_each_and_one_payment(api, factory, psp, db):
    a, b = factory.verified_merchant(), factory.verified_merchant()
    shirt = factory.product(a, prices={"BE": 3000}, stock=3)
    book = factory.product(b, prices={"BE": 1200}, stock=3, tax_class="reduced")
    shopper = factory.shopper("BE", psp=psp)
    for variant, qty in ((shirt["variant_id"], 2), (book["variant_id"], 1)):
        r = api.put(f"/api/v1/cart/lines/{variant}", json={"quantity": qty}, headers=shopper.headers)
        assert r.status_code == 200, r.text
    cart = api.get("/api/v1/cart", headers=shopper.headers).json()
    assert cart["subtotal"] == {"amount": 7200, "currency": "EUR"} and len(cart["lines"]) == 2
    headers = {**shopper.headers, "Idempotency-Key": uuid.uuid4().hex}
    resp = api.post("/api/v1/cart/checkout", json={}, headers=headers)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    by_merchant = {o["merchant_id"]: o for o in body["orders"]}
    assert set(by_merchant) == {a.merchant_id, b.merchant_id}
    assert by_merchant[a.merchant_id]["shipping"]["amount"] == 0  # 60.00 is over the free-shipping threshold
    assert by_merchant[b.merchant_id]["shipping"]["amount"] == 495
    assert by_merchant[b.merchant_id]["lines"][0]["tax_rate_bp"] == 600  # books: the reduced rate
    assert body["total"]["amount"] == sum(o["total"]["amount"] for o in body["orders"])
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 1
    assert api.get("/api/v1/cart", headers=shopper.headers).json()["lines"] == []  # bought, so emptied
    assert_stock_consistent(db)


def test_a_replay_returns_the_same_order_and_charges_once(api, factory, psp, db):
    product = factory.product(factory.verified_merchant(), stock=5)
    shopper = factory.shopper("BE", psp=psp)
    key = uuid.uuid4().hex
    first = buy(api, shopper, product["variant_id"], key=key)
    again = buy(api, shopper, product["variant_id"], key=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["orders"][0]["id"] == first.json()["orders"][0]["id"]
    assert stock_of(db, product["variant_id"]) == (4, 0)
    assert len([p for p in psp.payments() if p["idempotency_key"] == first.json()["payment"]["id"]]) == 1
    different = buy(api, shopper, product["variant_id"], 2, key=key)
    assert different.status_code == 422 and different.json()["type"].endswith("/idempotency-key-reused")
    other_shopper = factory.shopper("BE", psp=psp)  # keys are per user: no clash
    assert buy(api, other_shopper, product["variant_id"], key=key).status_code == 201


def test_concurrent_duplicates_make_one_order(api, factory, psp, db, live_server):
    product = factory.product(factory.verified_merchant(), stock=50)
    shopper = factory.shopper("BE", psp=psp)
    key, answers = uuid.uuid4().hex, []

    def go() -> None:
        with httpx.Client(base_url=live_server.url, timeout=30) as client:
            answers.append(buy(client, shopper, product["variant_id"], key=key))

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in answers)
    assert set(statuses) <= {201, 409} and statuses.count(201) >= 1, statuses
    assert len({r.json()["orders"][0]["id"] for r in answers if r.status_code == 201}) == 1
    assert all(r.json()["type"].endswith("/request-in-progress") for r in answers if r.status_code == 409)
    assert _order_count(db) == 1 and stock_of(db, product["variant_id"]) == (49, 0)


def test_declines_cancel_the_order_and_put_the_stock_back(api, factory, psp, db):
    product = factory.product(factory.verified_merchant(), stock=2)
    for card, code in ((CARDS["declined"], "card_declined"), (CARDS["insufficient_funds"], "insufficient_funds")):
        shopper = factory.shopper("BE", psp=psp, card=card)
        key = uuid.uuid4().hex
        resp = buy(api, shopper, product["variant_id"], key=key)
        assert resp.status_code == 402, resp.text
        problem = resp.json()
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert problem["decline_code"] == code and "another payment method" in problem["detail"]
        assert buy(api, shopper, product["variant_id"], key=key).status_code == 402  # replayed, not re-charged
    assert stock_of(db, product["variant_id"]) == (2, 0)
    with db.read() as s:
        assert set(s.scalars(select(Order.status))) == {"cancelled"}
        assert set(s.scalars(select(Payment.status))) == {"declined"}
    assert_stock_consistent(db)


def test_three_d_secure_waits_for_the_shopper_then_the_webhook_pays(api, factory, psp, db):
    product = factory.product(factory.verified_merchant(), stock=2)
    shopper = factory.shopper("BE", psp=psp, card=CARDS["three_ds"])
    resp = buy(api, shopper, product["variant_id"])
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["status"] == "requires_action" and body["next_action"]["type"] == "three_ds"
    assert stock_of(db, product["variant_id"]) == (2, 1)  # held while the shopper decides
    psp.approve(body["next_action"]["url"])
    checkout_url = f"/api/v1/checkouts/{body['checkout_id']}"
    eventually(lambda: api.get(checkout_url, headers=shopper.headers).json()["status"] == "paid")
    assert stock_of(db, product["variant_id"]) == (1, 0)
    with db.read() as s:
        sources = list(s.scalars(select(PaymentEvent.source).order_by(PaymentEvent.id)))
    assert sources == ["checkout", "checkout", "webhook"]  # pending, requires_action, captured


def test_a_failed_challenge_cancels(api, factory, psp, db):
    product = factory.product(factory.verified_merchant(), stock=1)
    shopper = factory.shopper("BE", psp=psp, card=CARDS["three_ds"])
    body = buy(api, shopper, product["variant_id"]).json()
    psp.approve(body["next_action"]["url"], outcome="deny")
    url = f"/api/v1/checkouts/{body['checkout_id']}"
    eventually(lambda: api.get(url, headers=shopper.headers).json()["status"] == "declined")
    assert stock_of(db, product["variant_id"]) == (1, 0)


def test_a_slow_provider_answers_202_and_the_webhook_settles_it(api, factory, psp, db):
    product = factory.product(factory.verified_merchant(), stock=1)
    shopper = factory.shopper("BE", psp=psp, card=CARDS["slow"])
    resp = buy(api, shopper, product["variant_id"])
    assert resp.status_code == 202 and resp.json()["status"] == "processing", resp.text
    url = f"/api/v1/checkouts/{resp.json()['checkout_id']}"
    eventually(lambda: api.get(url, headers=shopper.headers).json()["status"] == "paid", timeout=15)
    assert stock_of(db, product["variant_id"]) == (0, 0)


def test_a_lost_webhook_is_recovered_by_polling(api, factory, psp, db):
    product = factory.product(factory.verified_merchant(), stock=1)
    shopper = factory.shopper("BE", psp=psp, card=CARDS["slow"])
    psp.webhooks(deliver=False)
    resp = buy(api, shopper, product["variant_id"])
    assert resp.status_code == 202
    payment_id = resp.json()["payment"]["id"]
    eventually(lambda: any(p["idempotency_key"] == payment_id and p["status"] == "captured" for p in psp.payments()), 15)
    eventually(lambda: psp.webhooks()["events"].get("dropped"))
    with db.read() as s:
        assert s.get(Payment, payment_id).status == "pending"  # nobody told us
    assert recovery.reconcile_open_payments(db, older_than_seconds=0) >= 1
    with db.read() as s:
        assert s.get(Payment, payment_id).status == "captured"
        assert s.scalar(select(Order.status).where(Order.payment_id == payment_id)) == "paid"
    assert stock_of(db, product["variant_id"]) == (0, 0)


def test_the_shopper_can_ask_for_an_update_after_approving(api, factory, psp, db):
    product = factory.product(factory.verified_merchant(), stock=1)
    shopper = factory.shopper("BE", psp=psp, method_type="bancontact")
    psp.webhooks(deliver=False)
    body = buy(api, shopper, product["variant_id"]).json()
    assert body["status"] == "requires_action" and body["next_action"]["type"] == "redirect"
    psp.approve(body["next_action"]["url"])
    refreshed = api.post(f"/api/v1/checkouts/{body['checkout_id']}/refresh", headers=shopper.headers)
    assert refreshed.status_code == 200 and refreshed.json()["status"] == "paid", refreshed.text


def test_provider_down_means_nothing_charged_and_stock_back(api, factory, psp, db, settings, monkeypatch):
    product = factory.product(factory.verified_merchant(), stock=1)
    shopper = factory.shopper("BE", psp=psp)
    from tests.conftest import free_port

    monkeypatch.setattr(settings, "psp_url", f"http://127.0.0.1:{free_port()}")  # nobody listens there
    resp = buy(api, shopper, product["variant_id"])
    assert resp.status_code == 503, resp.text
    assert resp.json()["type"].endswith("/payment-provider-unavailable") and resp.headers["Retry-After"]
    assert stock_of(db, product["variant_id"]) == (1, 0)
    with db.read() as s:
        assert s.scalar(select(Order.status)) == "cancelled"
        assert s.scalar(select(Payment.status)) == "failed"


def test_local_methods_only_where_they_work(api, factory, psp, db):
    merchant = factory.verified_merchant(regions=("BE", "NL"))
    product = factory.product(merchant, prices={"BE": 1000, "NL": 1000}, stock=2)
    nl_shopper = factory.shopper("NL", psp=psp, method_type="bancontact")
    resp = buy(api, nl_shopper, product["variant_id"])
    assert resp.status_code == 422 and "bancontact" in resp.json()["detail"]
    ideal = factory.shopper("NL", psp=psp, method_type="ideal")
    body = buy(api, ideal, product["variant_id"]).json()
    assert body["next_action"]["type"] == "redirect"
    assert _order_count(db) == 1


def test_no_card_number_ever_reaches_the_database(api, factory, psp, db):
    product = factory.product(factory.verified_merchant(), stock=5)
    for card in (CARDS["success"], CARDS["mastercard"], CARDS["declined"]):
        buy(api, factory.shopper("BE", psp=psp, card=card), product["variant_id"])
    # And the API refuses card numbers outright: tokens only.
    shopper = factory.shopper("BE", psp=psp)
    r = api.post("/api/v1/me/payment-methods", json={"card_number": CARDS["success"]}, headers=shopper.headers)
    assert r.status_code == 422
    from etalage.db import Base

    with db.read() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(text(f'SELECT * FROM "{table.name}"')):
                flat = " ".join(str(v) for v in row)
                for number in CARDS.values():
                    assert number not in flat, f"a card number is stored in {table.name}"
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(OrderEvent)) >= 3
