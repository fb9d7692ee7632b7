"""Trader onboarding (DSA Art. 30): collect, check, verify with a recorded reason; warehouses."""

from __future__ import annotations

import pytest

from etalage.merchants.service import iban_is_valid
from tests.commerce.builders import TRADER


def _profile(api, m, **changes):  # type: ignore[no-untyped-def]
    return api.put(f"/api/v1/merchants/{m.merchant_id}/trader-profile", json=changes, headers=m.headers)


def test_from_draft_to_verified_with_every_step_recorded(api, factory):
    m = factory.merchant()
    moderator = factory.moderator()
    base = f"/api/v1/merchants/{m.merchant_id}"
    draft = api.get(f"{base}/trader-profile", headers=m.headers).json()
    assert draft["status"] == "draft" and "legal_name" in draft["missing"] and "self_certification" in draft["missing"]
    r = api.post(f"{base}/trader-profile/submit", headers=m.headers)
    assert r.status_code == 422 and "payment_account" in r.json()["missing"]
    r = _profile(api, m, **TRADER, self_certification=True)
    assert r.status_code == 200 and r.json()["missing"] == []
    assert r.json()["payment_account"] == "BE68…7034"  # masked for the merchant's own staff
    assert api.get(f"{base}/trader", headers=m.headers).status_code == 404  # not public before verification
    assert api.post(f"{base}/trader-profile/submit", headers=m.headers).json()["status"] == "submitted"
    queue = api.get("/api/v1/moderation/traders", headers=moderator.headers).json()["items"]
    assert m.merchant_id in [i["merchant_id"] for i in queue]
    assert api.get("/api/v1/moderation/traders", headers=m.headers).status_code == 403
    seen = api.get(f"{base}/trader-profile", headers=moderator.headers).json()
    assert seen["payment_account"] == "BE68539007547034"  # the reviewer checks the real thing
    r = api.post(f"{base}/verification", json={"decision": "verify", "reason": "ID and KBO extract checked"},
                 headers=moderator.headers)  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "verified"
    assert api.post(f"{base}/verification", json={"decision": "verify", "reason": "again"},
                    headers=m.headers).status_code == 403  # fmt: skip
    public = api.get(f"{base}/trader").json()  # anyone, signed in or not
    assert public["legal_name"] == "Test Trading BV" and public["self_certified"] is True
    assert "payment_account" not in public and "id_document_ref" not in public
    history = api.get(f"{base}/verification-history", headers=m.headers).json()
    assert [(h["from_status"], h["to_status"]) for h in history] == [("draft", "submitted"), ("submitted", "verified")]
    assert history[-1]["actor_id"] == moderator.id and history[-1]["reason"] == "ID and KBO extract checked"
    # Changing who gets the money sends the trader back to review; changing a phone number does not.
    assert _profile(api, m, phone="+32 3 000 00 00").json()["status"] == "verified"
    assert _profile(api, m, payment_account="NL91ABNA0417164300").json()["status"] == "submitted"


def test_reject_then_fix_then_resubmit(api, factory):
    m = factory.merchant()
    moderator = factory.moderator()
    base = f"/api/v1/merchants/{m.merchant_id}"
    _profile(api, m, **TRADER, self_certification=True)
    api.post(f"{base}/trader-profile/submit", headers=m.headers)
    r = api.post(f"{base}/verification", json={"decision": "reject", "reason": "the ID document is unreadable"},
                 headers=moderator.headers)  # fmt: skip
    assert r.json()["status"] == "rejected" and r.json()["status_reason"] == "the ID document is unreadable"
    bad = api.post(f"{base}/verification", json={"decision": "reinstate", "reason": "nope"}, headers=moderator.headers)
    assert bad.status_code == 409 and bad.json()["allowed_from"] == ["suspended"]
    _profile(api, m, id_document_ref="KBO-9999")
    assert api.post(f"{base}/trader-profile/submit", headers=m.headers).json()["status"] == "submitted"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("payment_account", "BE68539007547035"),  # wrong check digits
        ("phone", "0032 2 123"),  # not international
        ("email", "not-an-email"),
        ("country", "XX"),
        ("country", "be"),
        ("legal_name", ""),
        ("legal_name", "x" * 201),
        ("self_certification", "yes please"),
        ("unexpected", "field"),
    ],
)
def test_bad_trader_details_are_refused(api, factory, field, value):
    m = factory.merchant()
    r = _profile(api, m, **{field: value})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_only_the_owner_edits_and_other_merchants_see_nothing(api, factory):
    m = factory.merchant()
    staff = factory.staff(m)
    assert _profile(api, staff, legal_name="Staff Co").status_code == 403
    other = factory.merchant()
    r = api.get(f"/api/v1/merchants/{m.merchant_id}/trader-profile", headers=other.headers)
    assert r.status_code == 404


@pytest.mark.db_agnostic
def test_iban_check_digits():
    assert iban_is_valid("BE68 5390 0754 7034") and iban_is_valid("NL91ABNA0417164300")
    assert not iban_is_valid("BE68539007547035") and not iban_is_valid("hello")


def test_warehouses(api, factory):
    m = factory.merchant()
    base = f"/api/v1/merchants/{m.merchant_id}/warehouses"
    body = {"name": "Antwerp", "address_line1": "Dock 1", "postal_code": "2000", "city": "Antwerp", "region_code": "BE"}
    r = api.post(base, json=body, headers=m.headers)
    assert r.status_code == 201 and r.json()["operator"] == "merchant"
    assert api.post(base, json={**body, "region_code": "US"}, headers=m.headers).status_code == 422  # needs a state
    assert api.post(base, json={**body, "region_code": "ZZ"}, headers=m.headers).status_code == 422
    partner = {**body, "operator": "fulfilment_partner", "region_code": "ES"}
    assert api.post(base, json=partner, headers=m.headers).status_code == 422  # name the partner
    r2 = api.post(base, json={**partner, "partner_name": "Almacenes SL"}, headers=m.headers)
    assert r2.status_code == 201
    assert {w["region_code"] for w in api.get(base, headers=m.headers).json()} == {"BE", "ES"}
    r3 = api.patch(f"{base}/{r2.json()['id']}", json={"active": False}, headers=m.headers)
    assert r3.status_code == 200 and r3.json()["active"] is False
    other = factory.merchant()
    assert api.patch(f"/api/v1/merchants/{other.merchant_id}/warehouses/{r2.json()['id']}", json={"active": True},
                     headers=other.headers).status_code == 404  # fmt: skip
