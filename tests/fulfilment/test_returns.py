"""Returns over real HTTP: request within the window, decision (or automatic approval), receipt with restock,
refund through the payment provider, and every kind of bad input refused without a trace."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select, update

from etalage.core import jobs
from etalage.core.models import Job
from etalage.db import utcnow
from etalage.fulfilment.models import FulfilmentEvent, ReturnRequest, Shipment
from etalage.inventory.models import StockMovement
from etalage.payments.models import Payment
from tests.commerce.helpers import assert_stock_consistent, stock_of
from tests.fulfilment.helpers import deliver, delivered_order, order_status, paid_order, ship, topics


def _request(api, shopper, order_id, variant_id, quantity=1, *, key=None, reason="too small"):  # type: ignore[no-untyped-def]
    headers = {**shopper.headers, **({"Idempotency-Key": key} if key else {})}
    body = {"lines": [{"variant_id": variant_id, "quantity": quantity}], "reason": reason}
    return api.post(f"/api/v1/orders/{order_id}/returns", json=body, headers=headers)


def _merchant_url(merchant, return_id: str) -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/merchants/{merchant.merchant_id}/returns/{return_id}"


def test_a_return_approved_received_restocked_and_refunded(api, factory, psp, db):
    merchant, shopper, product, order = delivered_order(api, factory, psp, quantity=2, price=2000, stock=5)
    v = product["variant_id"]
    assert stock_of(db, v) == (3, 0)
    with topics("return.") as seen:
        r = _request(api, shopper, order["id"], v, 1, key="ret-1")
        assert r.status_code == 201, r.text
        ret = r.json()
        assert ret["status"] == "requested" and ret["value"] == {"amount": 2000, "currency": "EUR"}
        replay = _request(api, shopper, order["id"], v, 1, key="ret-1")
        assert replay.status_code == 200 and replay.json()["id"] == ret["id"]
        assert replay.headers["Idempotent-Replayed"] == "true"
        url = _merchant_url(merchant, ret["id"])
        listed = api.get(
            f"/api/v1/merchants/{merchant.merchant_id}/returns?status=requested", headers=merchant.headers
        ).json()
        assert [x["id"] for x in listed["items"]] == [ret["id"]]
        r = api.post(
            f"{url}/decision",
            json={"decision": "approve", "reason": "send it back"},
            headers=merchant.headers,
        )
        assert r.status_code == 200 and r.json()["status"] == "approved", r.text
        r = api.post(f"{url}/receipt", json={"reason": "parcel opened, as new"}, headers=merchant.headers)
        assert r.status_code == 200 and r.json()["status"] == "received", r.text
        assert stock_of(db, v) == (4, 0)  # back on the shelf it was sold from
        with db.read() as s:
            move = s.scalars(
                select(StockMovement).where(StockMovement.variant_id == v).order_by(StockMovement.id.desc())
            ).first()
            assert (move.kind, move.reason, move.on_hand_delta) == ("restock", "return", 1)
        headers = {**merchant.headers, "Idempotency-Key": uuid.uuid4().hex}
        r = api.post(
            f"{url}/refund",
            json={"amount": {"amount": 1500, "currency": "EUR"}, "reason": "worn once"},
            headers=headers,
        )
        assert (
            r.status_code == 202 and r.json()["status"] == "refunded" and r.json()["refund"]["amount"] == 1500
        ), r.text
        again = api.post(
            f"{url}/refund",
            json={"amount": {"amount": 1500, "currency": "EUR"}, "reason": "worn once"},
            headers=headers,
        )
        assert (
            again.status_code == 202 and again.json()["refund_id"] == r.json()["refund_id"]
        )  # a replay: once
    assert [t for t, _ in seen] == [
        "return.requested",
        "return.approved",
        "return.received",
        "return.refunded",
    ]
    assert seen[-1][1] == {
        "return_id": ret["id"],
        "order_id": order["id"],
        "merchant_id": merchant.merchant_id,
        "status": "refunded",
        "refund_id": r.json()["refund_id"],
        "amount": 1500,
        "currency": "EUR",
    }
    jobs.drain(db)  # the refund job asks the PSP
    with db.read() as s:
        assert (
            s.scalar(select(Payment.refunded_amount).where(Payment.checkout_id == order["checkout_id"]))
            == 1500
        )
    assert order_status(api, shopper, order["id"]) == "partially_refunded"
    mine = api.get(f"/api/v1/returns/{ret['id']}", headers=shopper.headers).json()
    assert [(e["to_status"], e["actor"]) for e in mine["events"]] == [
        ("requested", shopper.id),
        ("approved", merchant.id),
        ("received", merchant.id),
        ("refunded", merchant.id),
    ]
    assert mine["events"][1]["reason"] == "send it back"
    assert [
        x["id"] for x in api.get(f"/api/v1/orders/{order['id']}/returns", headers=shopper.headers).json()
    ] == [ret["id"]]
    assert_stock_consistent(db)


def test_an_unanswered_request_is_approved_automatically(api, factory, psp, db):
    merchant, shopper, product, order = delivered_order(api, factory, psp)
    ret = _request(api, shopper, order["id"], product["variant_id"]).json()
    assert ret["answer_by"] > utcnow().isoformat()
    with db.session() as s:  # the job waits until the merchant's time is up
        job = s.scalar(select(Job).where(Job.dedupe_key == f"return:{ret['id']}"))
        assert job is not None and job.run_at > utcnow() + timedelta(days=2)
        job.run_at = utcnow()
    jobs.drain(db)  # too early: the merchant still has time; nothing changes
    assert api.get(f"/api/v1/returns/{ret['id']}", headers=shopper.headers).json()["status"] == "requested"
    with db.session() as s:  # time passes
        s.execute(
            update(ReturnRequest)
            .where(ReturnRequest.id == ret["id"])
            .values(answer_by=utcnow() - timedelta(seconds=1))
        )
        s.execute(update(Job).where(Job.dedupe_key == f"return:{ret['id']}").values(run_at=utcnow()))
    jobs.drain(db)
    done = api.get(f"/api/v1/returns/{ret['id']}", headers=shopper.headers).json()
    assert done["status"] == "approved" and done["auto_approved"] is True
    assert done["events"][-1]["actor"] == "system" and "did not answer" in done["events"][-1]["reason"]
    # the merchant's late answer finds it decided
    r = api.post(f"{_merchant_url(merchant, ret['id'])}/decision", json={"decision": "reject", "reason": "too late"},
                 headers=merchant.headers)  # fmt: skip
    assert r.status_code == 409


def _counts(db):  # type: ignore[no-untyped-def]
    with db.read() as s:
        return (s.scalar(select(func.count()).select_from(ReturnRequest)),
                s.scalar(select(func.count()).select_from(FulfilmentEvent)))  # fmt: skip


def test_bad_return_requests_are_refused_and_change_nothing(api, factory, psp, db):
    merchant, shopper, product, order = paid_order(api, factory, psp, quantity=2)
    v = product["variant_id"]
    r = _request(api, shopper, order["id"], v)
    assert r.status_code == 409 and "delivered" in r.json()["detail"]  # not delivered yet
    parcel = ship(api, merchant, order["id"], lines=[{"variant_id": v, "quantity": 1}]).json()
    deliver(api, merchant, parcel["id"])
    before = _counts(db)
    other = factory.shopper("BE")
    cases = [
        (_request(api, shopper, order["id"], v, 2).status_code, 422),  # only one unit delivered so far
        (_request(api, shopper, order["id"], v, 3).status_code, 422),  # more than bought
        (_request(api, shopper, order["id"], "var_01M8000000000000000000000A").status_code, 422),
        (_request(api, other, order["id"], v).status_code, 404),  # someone else's order
        (_request(api, shopper, "ord_01M8000000000000000000000A", v).status_code, 404),
        (_request(api, shopper, order["id"], v, 0).status_code, 422),
        (_request(api, shopper, order["id"], v, reason="").status_code, 422),
        (
            api.post(
                f"/api/v1/orders/{order['id']}/returns",
                json={
                    "lines": [{"variant_id": v, "quantity": 1}, {"variant_id": v, "quantity": 1}],
                    "reason": "twice",
                },
                headers=shopper.headers,
            ).status_code,
            422,
        ),
        (
            api.post(
                f"/api/v1/orders/{order['id']}/returns",
                json={"lines": [], "reason": "nothing"},
                headers=shopper.headers,
            ).status_code,
            422,
        ),
        (
            api.post(
                f"/api/v1/orders/{order['id']}/returns",
                json={"lines": [{"variant_id": v, "quantity": 1}], "reason": "ok", "refund": 99},
                headers=shopper.headers,
            ).status_code,
            422,
        ),
    ]
    assert [got for got, _ in cases] == [want for _, want in cases]
    assert _counts(db) == before
    # past the 14-day window (Belgium) counted from delivery
    with db.session() as s:
        s.execute(update(Shipment).where(Shipment.id == parcel["id"]).values(
            shipped_at=utcnow() - timedelta(days=20), delivered_at=utcnow() - timedelta(days=15)))  # fmt: skip
    r = _request(api, shopper, order["id"], v)
    assert r.status_code == 409 and r.json()["window_days"] == 14 and "window" in r.json()["detail"], r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    with db.session() as s:
        s.execute(
            update(Shipment)
            .where(Shipment.id == parcel["id"])
            .values(delivered_at=utcnow() - timedelta(days=13))
        )
    ret = _request(api, shopper, order["id"], v, key="k1").json()
    assert ret["status"] == "requested"
    assert _request(api, shopper, order["id"], v).status_code == 422  # that unit is already being returned
    assert _request(api, shopper, order["id"], v, 2, key="k1").status_code == 422  # same key, another body
    url = _merchant_url(merchant, ret["id"])
    money = {**merchant.headers, "Idempotency-Key": uuid.uuid4().hex}
    bad = [
        (api.post(f"{url}/refund", json={}, headers=merchant.headers).status_code, 400),  # no Idempotency-Key
        (api.post(f"{url}/refund", json={}, headers=money).status_code, 409),  # not received yet
        (api.post(f"{url}/receipt", json={}, headers=merchant.headers).status_code, 409),  # not approved yet
        (
            api.post(
                f"{url}/decision", json={"decision": "reject", "reason": ""}, headers=merchant.headers
            ).status_code,
            422,
        ),
        (
            api.post(
                f"{url}/decision", json={"decision": "maybe", "reason": "hmm"}, headers=merchant.headers
            ).status_code,
            422,
        ),
        (
            api.post(
                f"{url}/decision", json={"decision": "approve", "reason": "fine"}, headers=other.headers
            ).status_code,
            403,
        ),
        (
            api.get(
                _merchant_url(factory.verified_merchant(), ret["id"]), headers=merchant.headers
            ).status_code,
            404,
        ),
        (api.get(f"/api/v1/returns/{ret['id']}", headers=other.headers).status_code, 404),
        (
            api.get(
                _merchant_url(merchant, "ret_01M8000000000000000000000A"), headers=merchant.headers
            ).status_code,
            404,
        ),
    ]
    assert [got for got, _ in bad] == [want for _, want in bad]
    r = api.post(
        f"{url}/decision",
        json={"decision": "reject", "reason": "the seal is broken"},
        headers=merchant.headers,
    )
    assert r.status_code == 200 and r.json()["decision_reason"] == "the seal is broken"
    assert (
        api.post(
            f"{url}/decision",
            json={"decision": "approve", "reason": "changed mind"},
            headers=merchant.headers,
        ).status_code
        == 409
    )
    # a rejected return frees its units for another request
    assert _request(api, shopper, order["id"], v).status_code == 201


def test_refunds_never_exceed_what_is_left_to_refund(api, factory, psp, db):
    merchant, shopper, product, order = delivered_order(api, factory, psp, quantity=1, price=3000)
    total = order["total"]["amount"]
    # the merchant already gave most of it back as goodwill
    goodwill = api.post(f"/api/v1/merchants/{merchant.merchant_id}/orders/{order['id']}/refunds",
                        json={"amount": {"amount": total - 500, "currency": "EUR"}, "reason": "late parcel"},
                        headers={**merchant.headers, "Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert goodwill.status_code == 202, goodwill.text
    ret = _request(api, shopper, order["id"], product["variant_id"]).json()
    url = _merchant_url(merchant, ret["id"])
    api.post(f"{url}/decision", json={"decision": "approve", "reason": "fine"}, headers=merchant.headers)
    api.post(
        f"{url}/receipt", json={"restock": False, "reason": "damaged in transit"}, headers=merchant.headers
    )
    stock_before = stock_of(db, product["variant_id"])
    key = {**merchant.headers, "Idempotency-Key": uuid.uuid4().hex}
    r = api.post(f"{url}/refund", json={}, headers=key)  # its value (3000) no longer fits
    assert r.status_code == 422 and r.json()["refundable"] == 500, r.text
    r = api.post(
        f"{url}/refund",
        json={"amount": {"amount": 10, "currency": "GBP"}},
        headers={**merchant.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 422
    assert api.get(f"/api/v1/returns/{ret['id']}", headers=shopper.headers).json()["status"] == "received"
    r = api.post(
        f"{url}/refund",
        json={"amount": {"amount": 500, "currency": "EUR"}},
        headers={**merchant.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 202, r.text
    assert (
        api.post(
            f"{url}/refund", json={}, headers={**merchant.headers, "Idempotency-Key": uuid.uuid4().hex}
        ).status_code
        == 409
    )
    jobs.drain(db)
    assert order_status(api, shopper, order["id"]) == "refunded"
    assert stock_of(db, product["variant_id"]) == stock_before  # not restocked: damaged
    with db.read() as s:
        payment = s.scalar(select(Payment).where(Payment.checkout_id == order["checkout_id"]))
        assert payment.refunded_amount == payment.captured_amount == total
