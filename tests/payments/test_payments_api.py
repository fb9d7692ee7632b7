"""Saved payment methods (tokens only), signed webhooks (forged, stale, replayed), and the test PSP itself."""

from __future__ import annotations

import time

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from etalage.payments import signing
from etalage.payments.models import PaymentEvent, ProviderEvent
from tests.commerce.helpers import buy
from tests.payments.psp import CARDS

WEBHOOK = "/api/v1/payments/webhooks"


def test_payment_methods_are_tokens_described_by_the_provider(api, factory, psp):
    shopper = factory.user("shopper")
    config = api.get("/api/v1/payments/config").json()
    assert config["tokenize_url"] == psp.url + "/v1/tokens" and config["local_methods"]["bancontact"] == ["BE"]
    token = psp.tokenize(CARDS["mastercard"])
    r = api.post("/api/v1/me/payment-methods", json={"token": token}, headers=shopper.headers)
    assert r.status_code == 201, r.text
    saved = r.json()
    assert (saved["brand"], saved["last4"], saved["is_default"]) == ("mastercard", "4444", True)
    assert api.post("/api/v1/me/payment-methods", json={"token": token}, headers=shopper.headers).status_code == 409
    assert api.post("/api/v1/me/payment-methods", json={"token": "tok_test_unknown1"},
                    headers=shopper.headers).status_code == 422  # fmt: skip
    second = api.post("/api/v1/me/payment-methods", json={"token": psp.tokenize(), "make_default": True},
                      headers=shopper.headers).json()  # fmt: skip
    methods = api.get("/api/v1/me/payment-methods", headers=shopper.headers).json()
    assert [m["id"] for m in methods if m["is_default"]] == [second["id"]]
    other = factory.user("shopper")
    assert api.delete(f"/api/v1/me/payment-methods/{second['id']}", headers=other.headers).status_code == 404
    assert api.delete(f"/api/v1/me/payment-methods/{second['id']}", headers=shopper.headers).status_code == 204
    assert [m["id"] for m in api.get("/api/v1/me/payment-methods", headers=shopper.headers).json()] == [saved["id"]]


def _signed(body: bytes, secret: str = "whsec_test_secret", ts: int | None = None) -> dict[str, str]:
    return {"PSP-Signature": signing.sign(secret, body, ts), "Content-Type": "application/json"}


def _captured_event(payment_id: str, event_id: str = "evt_forged1") -> bytes:
    payment = {"id": "psp_pay_x", "idempotency_key": payment_id, "status": "captured", "amount": 1, "currency": "EUR",
               "captured_amount": 1, "refunded_amount": 0, "decline_code": None, "next_action": None}  # fmt: skip
    return orjson.dumps({"events": [{"id": event_id, "type": "payment.captured", "data": {"payment": payment}}]})


def test_forged_stale_and_malformed_webhooks_are_refused(api, factory, psp, db):
    product = factory.product(factory.verified_merchant(), stock=1)
    shopper = factory.shopper("BE", psp=psp, card=CARDS["three_ds"])
    body = buy(api, shopper, product["variant_id"]).json()  # waiting for the shopper: a tempting target
    forged = _captured_event(body["payment"]["id"])
    for headers in (
        {"Content-Type": "application/json"},  # unsigned
        _signed(forged, secret="guessed"),  # wrong key
        _signed(forged, ts=int(time.time()) - 3600),  # a real signature, replayed an hour later
        {"PSP-Signature": "t=abc,v1=zz", "Content-Type": "application/json"},
    ):
        r = api.post(WEBHOOK, content=forged, headers=headers)
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json"), r.text
    tampered = forged.replace(b'"amount":1', b'"amount":2')
    sig = _signed(forged)
    assert api.post(WEBHOOK, content=tampered, headers=sig).status_code == 401
    assert api.post(WEBHOOK, content=b"{not json", headers=_signed(b"{not json")).status_code == 400
    status = api.get(f"/api/v1/checkouts/{body['checkout_id']}", headers=shopper.headers).json()["status"]
    assert status == "requires_action"  # nothing a forger sent changed anything
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(ProviderEvent)) == 0


def test_a_replayed_genuine_webhook_changes_nothing_twice(api, factory, psp, db):
    product = factory.product(factory.verified_merchant(), stock=2)
    shopper = factory.shopper("BE", psp=psp, card=CARDS["three_ds"])
    psp.webhooks(deliver=False)
    body = buy(api, shopper, product["variant_id"]).json()
    psp.approve(body["next_action"]["url"])
    event = _captured_event(body["payment"]["id"], "evt_genuine_1")  # signed with the real secret: genuine
    first = api.post(WEBHOOK, content=event, headers=_signed(event))
    assert first.status_code == 200 and first.json() == {"received": 1, "new": 1}
    again = api.post(WEBHOOK, content=event, headers=_signed(event))
    assert again.status_code == 200 and again.json() == {"received": 1, "new": 0}
    assert api.get(f"/api/v1/checkouts/{body['checkout_id']}", headers=shopper.headers).json()["status"] == "paid"
    with db.read() as s:
        captured = s.scalar(select(func.count()).select_from(PaymentEvent).where(PaymentEvent.to_status == "captured"))
    assert captured == 1


@pytest.mark.db_agnostic
def test_the_psp_behaves_like_one(psp_server):
    psp = psp_server
    auth = {"Authorization": "Bearer psp_test_key"}
    with httpx.Client(base_url=psp.url, timeout=10) as c:
        bad = c.post("/v1/tokens", json={"type": "card", "card": {"number": "4242424242424241", "exp_month": 1, "exp_year": 2099}})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_number"  # Luhn
        expired = c.post("/v1/tokens", json={"type": "card", "card": {"number": CARDS["success"], "exp_month": 1, "exp_year": 2020}})
        assert expired.json()["error"]["code"] == "expired_card"
        token = psp.tokenize()
        assert "number" not in c.get(f"/v1/tokens/{token}", headers=auth).json()
        assert c.get(f"/v1/tokens/{token}").status_code == 401
        pay = {"amount": 1000, "currency": "EUR", "token": token, "capture": False}
        first = c.post("/v1/payments", json=pay, headers={**auth, "Idempotency-Key": "k-psp-1"})
        assert first.status_code == 201 and first.json()["status"] == "authorised"
        again = c.post("/v1/payments", json=pay, headers={**auth, "Idempotency-Key": "k-psp-1"})
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
        other = c.post("/v1/payments", json={**pay, "amount": 5}, headers={**auth, "Idempotency-Key": "k-psp-1"})
        assert other.status_code == 409
        pid = first.json()["id"]
        assert c.post(f"/v1/payments/{pid}/capture", json={"amount": 600}, headers=auth).json()["captured_amount"] == 600
        refund = lambda amount, key: c.post(f"/v1/payments/{pid}/refunds", json={"amount": amount},  # noqa: E731
                                            headers={**auth, "Idempotency-Key": key})  # fmt: skip
        assert refund(700, "r1").status_code == 400  # more than was captured
        assert refund(400, "r2").status_code == 201 and refund(400, "r2").json()["amount"] == 400  # idempotent
        assert refund(300, "r3").status_code == 400  # only 200 left
        # A key that never arrived can be cancelled, so that a late request with it charges nothing.
        tomb = c.post("/v1/payments/cancel-by-key", json={"idempotency_key": "k-lost"}, headers=auth).json()
        assert tomb["status"] == "cancelled"
        late = c.post("/v1/payments", json=pay, headers={**auth, "Idempotency-Key": "k-lost"}).json()
        assert late["status"] == "cancelled" and late["captured_amount"] == 0
        bancontact = psp.tokenize(kind="bancontact")
        usd = c.post("/v1/payments", json={**pay, "token": bancontact, "currency": "USD"},
                     headers={**auth, "Idempotency-Key": "k-bc"})  # fmt: skip
        assert usd.json()["error"]["code"] == "currency_not_supported"


def test_erasure_deletes_saved_cards_at_the_provider(api, factory, psp, db):
    from etalage.payments import privacy

    shopper = factory.shopper("BE", psp=psp)
    with db.read() as s:
        [token] = privacy.saved_tokens(s, shopper.id)
    auth = {"Authorization": f"Bearer {psp.api_key}"}
    assert httpx.get(f"{psp.url}/v1/tokens/{token}", headers=auth).status_code == 200
    assert httpx.delete(f"{psp.url}/v1/tokens/{token}").status_code == 401  # the provider's key is needed
    with db.session() as s:
        counts = privacy.erase_user_payments(s, shopper.id)
    assert counts == {"payment_methods": 1, "deleted_at_provider": 1}
    gone = httpx.get(f"{psp.url}/v1/tokens/{token}", headers=auth)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "no_such_token"
    with db.session() as s:  # again: nothing left to delete, and no error
        assert privacy.erase_user_payments(s, shopper.id) == {"payment_methods": 0, "deleted_at_provider": 0}
