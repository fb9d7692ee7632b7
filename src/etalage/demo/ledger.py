"""Demo steps 84 and 87: the ledger of the demo's past sales, so shops open the demo with balances.

84: every demo order's sale is posted through the same code as a real payment (dated when it was paid: fee,
merchant pending, provider clearing); a delivered order's return window starts at its delivery, and a
return still open holds the money back. 87 (after creators' commissions have been taken from the pending
balances): every order whose window has passed is released to the shop's available balance.
"""

from __future__ import annotations

from sqlalchemy import select

from etalage.demo import DemoContext

OPEN_RETURNS = ("requested", "approved")  # the goods may still come back: the money waits


def post_sales(ctx: DemoContext) -> None:
    from etalage.commerce.models import OrderEvent
    from etalage.fulfilment.models import ReturnRequest
    from etalage.ledger import postings

    paid = ctx.data.get("orders") or []
    task = ctx.task("Ledger: the demo's sales", 2)
    ids = [o["order_id"] for o in paid]
    with ctx.db.session() as s:
        for order in paid:
            postings.on_order_paid(s, "order.paid", order)
        ctx.progress.advance(task)
        for start in range(0, len(ids), 2000):
            chunk = ids[start : start + 2000]
            delivered = s.execute(
                select(OrderEvent.order_id, OrderEvent.created_at).where(
                    OrderEvent.order_id.in_(chunk), OrderEvent.to_status == "delivered"
                )
            ).all()
            for order_id, at in delivered:
                postings.mark_delivered(s, order_id, at)
            held = s.scalars(
                select(ReturnRequest.order_id).where(
                    ReturnRequest.order_id.in_(chunk), ReturnRequest.status.in_(OPEN_RETURNS)
                )
            ).all()
            for order_id in held:
                postings.on_return(s, "return.requested", {"order_id": order_id})
    ctx.progress.advance(task)
    ctx.counts["ledger_sales"] = len(paid)


def release_due(ctx: DemoContext) -> None:
    from etalage.ledger import postings

    task = ctx.task("Ledger: return windows passed", 1)
    released = 0
    with ctx.db.session() as s:
        while (done := postings.release_due(s)) > 0:
            released += done
    ctx.progress.advance(task)
    ctx.counts["ledger_releases"] = released


STEPS = [(84, "ledger: sales", post_sales), (87, "ledger: releases", release_due)]
