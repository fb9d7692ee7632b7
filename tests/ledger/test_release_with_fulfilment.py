"""When money becomes payable with real parcels and returns: the window counts from the last parcel's
delivery scan, and an open return holds the order's money back until it is decided."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from etalage.core import jobs
from etalage.db import utcnow
from etalage.ledger import postings
from etalage.ledger.models import Settlement
from tests.fulfilment.helpers import deliver, paid_order, ship
from tests.ledger.helpers import assert_ledger_balanced


def _balance(api, merchant):  # type: ignore[no-untyped-def]
    return api.get(f"/api/v1/merchants/{merchant.merchant_id}/balance", headers=merchant.headers).json()[0]


def test_window_from_the_last_parcel_and_returns_hold_the_release(api, factory, psp, db):  # type: ignore[no-untyped-def]
    merchant, shopper, product, order = paid_order(api, factory, psp, quantity=2, price=2000)
    v = product["variant_id"]
    first = ship(api, merchant, order["id"], lines=[{"variant_id": v, "quantity": 1}]).json()
    second = ship(api, merchant, order["id"]).json()
    # the carrier's scans: each parcel delivered the moment it shipped (as early as a scan may be)
    first_scan, scan = (
        datetime.fromisoformat(p["shipped_at"].replace("Z", "+00:00")) for p in (first, second)
    )
    assert deliver(api, merchant, first["id"], delivered_at=first_scan.isoformat()).status_code == 200
    with db.read() as s:
        assert s.get(Settlement, order["id"]).available_at is None  # one parcel still on its way
    assert deliver(api, merchant, second["id"], delivered_at=scan.isoformat()).status_code == 200
    with db.read() as s:
        st = s.get(Settlement, order["id"])
        assert st.delivered_at == scan and st.available_at == scan + timedelta(days=14)

    # A return is requested in the window: the money stays pending past the window until it is decided.
    r = api.post(f"/api/v1/orders/{order['id']}/returns", headers=shopper.headers,
                 json={"lines": [{"variant_id": v, "quantity": 1}], "reason": "too big"})  # fmt: skip
    assert r.status_code == 201, r.text
    with db.session() as s:
        assert postings.release_due(s, utcnow() + timedelta(days=30)) == 0
    url = f"/api/v1/merchants/{merchant.merchant_id}/returns/{r.json()['id']}"
    assert (
        api.post(
            f"{url}/decision", json={"decision": "approve", "reason": "fine"}, headers=merchant.headers
        ).status_code
        == 200
    )
    assert api.post(f"{url}/receipt", json={}, headers=merchant.headers).status_code == 200
    headers = {**merchant.headers, "Idempotency-Key": uuid.uuid4().hex}
    assert api.post(f"{url}/refund", json={}, headers=headers).status_code == 202
    jobs.drain(db)  # the provider confirms the refund: posted against pending
    pending = _balance(api, merchant)["pending"]
    with db.session() as s:
        assert postings.release_due(s, utcnow() + timedelta(days=30)) == 1
    assert _balance(api, merchant) == {"currency": "EUR", "pending": 0, "available": pending, "in_payout": 0}
    fee = 280  # 7 % of 40.00
    assert pending == order["total"]["amount"] - fee - (2000 - fee * 2000 // order["total"]["amount"])
    assert_ledger_balanced(db)
