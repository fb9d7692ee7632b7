"""Demo step: after the sale. Parcels with a carrier and tracking number for every order that left the
warehouse (delivered ones with their delivery), a platform fulfilment centre, and return requests on some
delivered orders: waiting for the shop, approved or rejected (none refunded, so no money moves here)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from etalage.commerce.models import Order, OrderEvent, OrderLine
from etalage.db import new_id, utcnow
from etalage.demo import DemoContext
from etalage.fulfilment.models import (
    FulfilmentCentre,
    FulfilmentEvent,
    ReturnLine,
    ReturnRequest,
    Shipment,
    ShipmentLine,
)

CARRIERS = {"BE": "bpost", "NL": "PostNL", "FR": "La Poste", "DE": "DHL", "ES": "Correos", "GB": "Royal Mail",
            "US": "USPS", "ID": "DHL"}  # fmt: skip
REASONS = [
    "Too small",
    "Not the colour in the video",
    "Arrived damaged",
    "Changed my mind",
    "Ordered two sizes",
]
LEFT = ("shipped", "delivered", "completed")


def build_fulfilment(ctx: DemoContext) -> None:
    rng, now = ctx.rng, utcnow()
    task = ctx.task("After the sale: parcels and returns", 2)
    ids = [o["order_id"] for o in ctx.data.get("orders") or []]
    shipments, slines, sevents, returns, rlines, revents = ([] for _ in range(6))
    with ctx.db.session() as s:
        orders, lines, moments = [], {}, {}
        for start in range(0, len(ids), 2000):
            chunk = ids[start : start + 2000]
            orders += s.execute(
                select(Order.id, Order.user_id, Order.merchant_id, Order.region_code, Order.status, Order.currency)
                .where(Order.id.in_(chunk), Order.status.in_(LEFT))
            ).all()  # fmt: skip
            for ln in s.execute(select(OrderLine).where(OrderLine.order_id.in_(chunk))).scalars():
                lines.setdefault(ln.order_id, []).append(ln)
            for e in s.execute(
                select(OrderEvent.order_id, OrderEvent.to_status, OrderEvent.created_at).where(
                    OrderEvent.order_id.in_(chunk), OrderEvent.to_status.in_(("shipped", "delivered"))
                )
            ):
                moments[(e.order_id, e.to_status)] = e.created_at
    ctx.progress.advance(task)
    for o in orders:
        shipped_at = moments.get((o.id, "shipped")) or now - timedelta(days=2)
        delivered_at = moments.get((o.id, "delivered")) if o.status != "shipped" else None
        sid, carrier = new_id("shp"), CARRIERS.get(o.region_code, "DHL")
        tracking = f"{rng.randint(10**11, 10**12 - 1)}{o.region_code}"
        shipments.append(dict(id=sid, order_id=o.id, merchant_id=o.merchant_id, user_id=o.user_id, fulfilled_by="merchant",
                              carrier=carrier, tracking_number=tracking, status="delivered" if delivered_at else "shipped",
                              created_by=o.merchant_id, shipped_at=shipped_at, delivered_at=delivered_at))  # fmt: skip
        for ln in lines.get(o.id, []):
            slines.append(dict(shipment_id=sid, variant_id=ln.variant_id, order_id=o.id, product_id=ln.product_id,
                               quantity=ln.quantity))  # fmt: skip
        sevents.append(dict(subject_id=sid, order_id=o.id, from_status=None, to_status="shipped", actor=o.merchant_id,
                            reason=f"handed to {carrier}", created_at=shipped_at))  # fmt: skip
        if delivered_at:
            sevents.append(dict(subject_id=sid, order_id=o.id, from_status="shipped", to_status="delivered",
                                actor=o.merchant_id, reason="delivered (carrier)", created_at=delivered_at))  # fmt: skip
        if delivered_at and rng.random() < 0.08 and lines.get(o.id):
            ln = lines[o.id][0]
            asked = min(now - timedelta(minutes=5), delivered_at + timedelta(days=rng.uniform(0.5, 10)))
            status = rng.choice(["requested", "approved", "approved", "rejected"])
            rid, value = new_id("ret"), ln.total_amount // ln.quantity
            reason = rng.choice(REASONS)
            decision = {"approved": "Send it back, we will refund you", "rejected": "The item was worn"}.get(
                status
            )
            returns.append(dict(id=rid, order_id=o.id, merchant_id=o.merchant_id, user_id=o.user_id, status=status,
                                reason=reason, decision_reason=decision, auto_approved=False, currency=o.currency,
                                value_amount=value, refund_amount=None, refund_id=None,
                                answer_by=asked + timedelta(days=3), created_at=asked, updated_at=asked))  # fmt: skip
            rlines.append(dict(return_id=rid, variant_id=ln.variant_id, product_id=ln.product_id, quantity=1,
                               value_amount=value))  # fmt: skip
            revents.append(dict(subject_id=rid, order_id=o.id, from_status=None, to_status="requested", actor=o.user_id,
                                reason=reason, created_at=asked))  # fmt: skip
            if decision:
                revents.append(dict(subject_id=rid, order_id=o.id, from_status="requested", to_status=status,
                                    actor=o.merchant_id, reason=decision, created_at=asked + timedelta(hours=5)))  # fmt: skip
    with ctx.db.session() as s:
        admin = ctx.data.get("admin")
        if admin:
            s.execute(insert(FulfilmentCentre.__table__), [dict(
                id=new_id("ffc"), name="Etalage Fulfilment Antwerp", address_line1="Haven 1000", postal_code="2030",
                city="Antwerpen", state=None, region_code="BE", active=True, created_by=admin, created_at=now)])  # fmt: skip
        for model, rows in ((Shipment, shipments), (ShipmentLine, slines), (ReturnRequest, returns),
                            (ReturnLine, rlines), (FulfilmentEvent, sevents + revents)):  # fmt: skip
            for start in range(0, len(rows), 2000):
                s.execute(insert(model.__table__), rows[start : start + 2000])
    ctx.progress.advance(task)
    ctx.counts.update(shipments=len(shipments), returns=len(returns))


STEP = (80, "after the sale", build_fulfilment)
