"""A person's after-sale data: in their export, blocking erasure while a return is open, gone after it."""

from __future__ import annotations

from etalage.fulfilment import privacy
from tests.fulfilment.helpers import delivered_order, ship


def test_export_block_and_erase(api, factory, psp, db):
    merchant, shopper, product, order = delivered_order(api, factory, psp, quantity=2)
    body = {
        "lines": [{"variant_id": product["variant_id"], "quantity": 1}],
        "reason": "my sister has the same",
    }
    ret = api.post(f"/api/v1/orders/{order['id']}/returns", json=body, headers=shopper.headers).json()
    other = factory.shopper("BE", psp=psp)
    with db.read() as s:
        mine = privacy.export_user_fulfilment(s, shopper.id)
        assert [r["reason"] for r in mine["returns"]] == ["my sister has the same"]
        assert len(mine["shipments"]) == 1 and mine["shipments"][0]["tracking_number"]
        assert privacy.export_user_fulfilment(s, other.id) == {"shipments": [], "returns": []}
        assert [b["return_id"] for b in privacy.erasure_blockers(s, shopper.id)] == [ret["id"]]
    url = f"/api/v1/merchants/{merchant.merchant_id}/returns/{ret['id']}/decision"
    api.post(url, json={"decision": "reject", "reason": "worn"}, headers=merchant.headers)
    with db.session() as s:
        assert privacy.erasure_blockers(s, shopper.id) == []
        assert privacy.erase_user_fulfilment(s, shopper.id) == {"return_reasons": 1, "tracking_numbers": 1}
        assert privacy.erase_user_fulfilment(s, shopper.id) == {"return_reasons": 0, "tracking_numbers": 0}
    with db.read() as s:
        after = privacy.export_user_fulfilment(s, shopper.id)
    assert after["returns"][0]["reason"] == "[erased]" and after["returns"][0]["status"] == "rejected"
    assert after["shipments"][0]["tracking_number"].startswith("[erased ")
    assert "my sister" not in str(
        api.get(f"/api/v1/returns/{ret['id']}", headers=shopper.headers).json()["events"]
    )
    assert ship(api, merchant, order["id"]).status_code == 409  # everything already shipped
