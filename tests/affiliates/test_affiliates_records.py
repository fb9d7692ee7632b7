"""What affiliates keeps and gives back: an open return holds a commission back from payable, the sweep job
reschedules itself, and a person's export and erasure (GDPR) cover their commissions and rate changes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from etalage.affiliates import accrual, privacy
from etalage.affiliates import jobs as affiliate_jobs
from etalage.affiliates.models import Commission, CommissionEvent
from etalage.core import bus
from etalage.core.models import Job
from etalage.db import utcnow
from tests.affiliates.test_affiliates_api import _buy_from, _move, _setup


def test_an_open_return_holds_the_commission_until_decided(api, factory, psp, db):
    merchant, product, creator, video, shopper = _setup(api, factory, psp)
    order = _buy_from(api, shopper, product, video)
    _move(api, merchant, order["id"], "fulfilling", "shipped", "delivered")
    with db.session() as s:
        bus.publish(s, "return.requested", {"order_id": order["id"], "merchant_id": merchant.merchant_id})
    later = utcnow() + timedelta(days=15)
    with db.session() as s:
        assert accrual.make_payable_due(s, later) == 0
    with db.session() as s:
        bus.publish(s, "return.rejected", {"order_id": order["id"], "merchant_id": merchant.merchant_id})
    with db.session() as s:
        assert accrual.make_payable_due(s, later) == 1
    with db.read() as s:
        c = s.scalars(select(Commission).where(Commission.order_id == order["id"])).one()
        kinds = list(s.scalars(select(CommissionEvent.kind).where(CommissionEvent.commission_id == c.id)
                               .order_by(CommissionEvent.id)))  # fmt: skip
    assert c.status == "payable" and kinds == ["accrued", "payable"]


def test_the_sweep_runs_and_schedules_its_next_slot(db):
    affiliate_jobs.sweep(db, {"slot": 0})
    with db.read() as s:
        queued = list(s.scalars(select(Job).where(Job.kind == affiliate_jobs.SWEEP)))
    assert any(j.run_at > utcnow() for j in queued)  # the next slot (start-up may have queued this one)


def test_export_and_erasure(api, factory, psp, db):
    merchant, product, creator, video, shopper = _setup(api, factory, psp)
    r = api.put(f"/api/v1/merchants/{merchant.merchant_id}/commission-rates",
                json={"rate_bp": 1200, "reason": "my own words"}, headers=merchant.headers)  # fmt: skip
    assert r.status_code == 200
    _buy_from(api, shopper, product, video)
    with db.read() as s:
        mine = privacy.export_user_commissions(s, creator.id)
        theirs = privacy.export_user_commissions(s, merchant.id)
    assert [(c["amount"], c["rate_bp"]) for c in mine["commissions"]] == [(240, 1200)]
    assert theirs["commissions"] == [] and theirs["rate_changes"][0]["reason"] == "my own words"
    with db.session() as s:
        assert privacy.erase_user_commissions(s, merchant.id) == {"rate_change_reasons_blanked": 1}
    with db.read() as s:
        assert privacy.export_user_commissions(s, merchant.id)["rate_changes"][0]["reason"] == ""
        assert (
            len(privacy.export_user_commissions(s, creator.id)["commissions"]) == 1
        )  # accounting records stay


def test_two_payments_under_one_reference_both_reach_the_ledger(api, factory, psp, db):
    from tests.ledger.helpers import account_balances, assert_ledger_balanced

    merchant, product, creator, video, shopper = _setup(api, factory, psp)
    admin = factory.admin()
    pay = f"/api/v1/admin/creators/{creator.id}/commission-payments"
    paid = []
    for _ in range(2):
        order = _buy_from(api, shopper, product, video)
        _move(api, merchant, order["id"], "fulfilling", "shipped", "delivered")
        with db.session() as s:
            assert accrual.make_payable_due(s, utcnow() + timedelta(days=15)) == 1
        r = api.post(pay, json={"reference": "SEPA-" + "7" * 110}, headers=admin.headers)
        assert r.status_code == 200, r.text
        paid += r.json()
    assert [p["amount"] for p in paid] == [200, 200]
    assert account_balances(db)[("creator_commissions_payable", None)] == 0  # accrued 400, paid 400
    assert_ledger_balanced(db)
