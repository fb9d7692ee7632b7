"""The demo's after-sale step: every order that left the warehouse has its parcel (delivered ones delivered)."""

from __future__ import annotations

import random

from rich.progress import Progress

from etalage.demo import SCALES, DemoContext
from etalage.demo.fulfilment import build_fulfilment
from tests.fulfilment.helpers import paid_order


def test_demo_after_sale_step(api, factory, psp, db, settings):
    made = []
    for final in ("paid", "shipped", "delivered"):
        merchant, shopper, _, order = paid_order(api, factory, psp)
        url = f"/api/v1/merchants/{merchant.merchant_id}/orders/{order['id']}/transitions"
        for step in ("fulfilling", "shipped", "delivered")[
            : ("paid", "fulfilling", "shipped", "delivered").index(final)
        ]:
            assert (
                api.post(url, json={"to": step, "reason": "demo"}, headers=merchant.headers).status_code
                == 200
            )
        made.append((shopper, order["id"], final))
    admin = factory.admin()
    with Progress(disable=True) as progress:
        ctx = DemoContext(db, settings, SCALES["small"], random.Random(1), progress)
        ctx.data.update(orders=[{"order_id": oid} for _, oid, _ in made], admin=admin.id)
        build_fulfilment(ctx)
    assert ctx.counts["shipments"] == 2
    seen = {
        final: api.get(f"/api/v1/orders/{oid}/shipments", headers=shopper.headers).json()
        for shopper, oid, final in made
    }
    assert seen["paid"] == [] and [s["status"] for s in seen["shipped"]] == ["shipped"]
    assert seen["delivered"][0]["status"] == "delivered" and seen["delivered"][0]["carrier"] == "bpost"
    centres = api.get("/api/v1/fulfilment-centres", headers=admin.headers).json()
    assert [c["name"] for c in centres] == ["Etalage Fulfilment Antwerp"]
