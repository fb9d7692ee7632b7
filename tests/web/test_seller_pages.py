"""Seller center pages over HTTP: opening a shop, trader details and verification, tenant isolation."""

from __future__ import annotations

from sqlalchemy import select

from etalage.accounts.models import Membership
from tests.web.conftest import csrf_from, sign_in_http

TRADER = {
    "legal_name": "Atelier Zuid BV",
    "address_line1": "Kaai 1",
    "postal_code": "2000",
    "city": "Antwerpen",
    "country": "BE",
    "phone": "+32 3 123 45 67",
    "email": "hello@atelier.example",
    "id_document_type": "eid",
    "id_document_ref": "BE-EID-12345",
    "payment_account": "BE71 0961 2345 6769",
    "self_certification": "on",
}


def test_open_a_shop_then_submit_trader_details(web, factory, db):
    owner = factory.user("shopper")
    sign_in_http(web, owner.email)
    page = web.get("/seller")
    assert page.status_code == 200 and 'action="/seller/new"' in page.text
    token = csrf_from(page.text)
    assert web.post("/seller/new", data={"name": " ", "csrf_token": token}).status_code == 422
    resp = web.post("/seller/new", data={"name": "Atelier  Zuid", "csrf_token": token})
    assert resp.status_code == 303
    with db.read() as s:
        merchant_id = s.scalar(select(Membership.organisation_id).where(Membership.user_id == owner.id))
    assert resp.headers["location"] == f"/seller/{merchant_id}/onboarding"
    assert web.get("/seller").headers["location"] == f"/seller/{merchant_id}"

    onboarding = web.get(f"/seller/{merchant_id}/onboarding")
    assert onboarding.status_code == 200 and "Atelier Zuid" in onboarding.text
    # submitting with missing details keeps what was saved and says what is missing
    partial = web.post(
        f"/seller/{merchant_id}/onboarding",
        data={"legal_name": "Atelier Zuid BV", "action": "submit", "csrf_token": token},
    )
    assert partial.status_code == 422 and 'aria-invalid="true"' in partial.text
    assert 'value="Atelier Zuid BV"' in web.get(f"/seller/{merchant_id}/onboarding").text
    bad_iban = web.post(
        f"/seller/{merchant_id}/onboarding",
        data={**TRADER, "payment_account": "BE00 0000 0000 0000", "csrf_token": token},
    )
    assert bad_iban.status_code == 422
    done = web.post(
        f"/seller/{merchant_id}/onboarding", data={**TRADER, "action": "submit", "csrf_token": token}
    )
    assert done.status_code == 303, done.text[:500]
    after = web.get(f"/seller/{merchant_id}/onboarding?saved=submitted")
    assert "BE71…6769" in after.text and "BE71 0961" not in after.text  # the account is shown masked
    assert 'id="trader-status"' in after.text


def test_another_merchants_pages_are_not_found(web, factory):
    mine = factory.merchant(name="Mine")
    theirs = factory.merchant(name="Theirs")
    sign_in_http(web, mine.email)
    for path in ("", "/onboarding"):
        resp = web.get(f"/seller/{theirs.merchant_id}{path}")
        assert resp.status_code == 404 and resp.headers["content-type"].startswith("text/html"), path
        assert "Theirs" not in resp.text
    token = csrf_from(web.get(f"/seller/{mine.merchant_id}/onboarding").text)
    resp = web.post(f"/seller/{theirs.merchant_id}/onboarding", data={**TRADER, "csrf_token": token})
    assert resp.status_code == 404


def test_seller_pages_need_a_signed_in_member(web, factory):
    shop = factory.merchant()
    resp = web.get(f"/seller/{shop.merchant_id}")
    assert resp.status_code == 303 and resp.headers["location"].startswith("/signin?next=")
    shopper = factory.user("shopper")
    sign_in_http(web, shopper.email)
    assert web.get(f"/seller/{shop.merchant_id}").status_code == 403
