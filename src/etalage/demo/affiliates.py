"""Demo step 86: creators' commissions. Most shops set a rate of their own (a few also for one product);
every demo order bought from a creator's video accrues its commission through the same code as a real
payment, and is taken from the shop's pending balance in the ledger (step 84 posted the sales); delivered
orders past the return window are payable, and half the creators owed something have been paid."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import insert

from etalage.demo import DemoContext

RATES_BP = (800, 1000, 1200, 1500, 2000)
DELIVERY_AFTER = timedelta(hours=80)  # the demo orders' delivered event: four 20-hour steps after payment


def build_affiliates(ctx: DemoContext) -> None:
    from etalage.affiliates import accrual
    from etalage.affiliates.models import Commission, CommissionRate, CommissionRateChange
    from etalage.commerce import service as commerce
    from etalage.commerce.sales import order_lines_net
    from etalage.db import utcnow

    rng, now = ctx.rng, utcnow()
    products: list[dict[str, Any]] = ctx.data.get("products") or []
    orders = [
        o for o in ctx.data.get("orders") or [] if o.get("source_video_id") or o.get("source_live_room_id")
    ]
    task = ctx.task("Creators' commissions", 3)
    merchants = sorted({p["merchant_id"] for p in products})
    rates, changes = [], []
    for mid in merchants:
        if rng.random() < 0.7:
            bp = rng.choice(RATES_BP)
            rates.append(dict(merchant_id=mid, product_id="", rate_bp=bp, updated_by="demo", updated_at=now))
            changes.append(dict(merchant_id=mid, product_id="", from_bp=None, to_bp=bp, actor="demo",
                                reason="demo: the shop's rate for creators", created_at=now))  # fmt: skip
    own = [p for p in products if p["merchant_id"] in {r["merchant_id"] for r in rates}]
    for p in rng.sample(own, min(3, len(own))):
        rates.append(
            dict(
                merchant_id=p["merchant_id"],
                product_id=p["id"],
                rate_bp=2500,
                updated_by="demo",
                updated_at=now,
            )
        )
        changes.append(dict(merchant_id=p["merchant_id"], product_id=p["id"], from_bp=None, to_bp=2500, actor="demo",
                            reason="demo: a product pushed through creators", created_at=now))  # fmt: skip
    with ctx.db.session() as s:
        if rates:
            s.execute(insert(CommissionRate), rates)
            s.execute(insert(CommissionRateChange), changes)
    ctx.progress.advance(task)

    made = 0
    with ctx.db.session() as s:
        for o in orders:
            commissions = accrual.accrue(s, o)
            if not commissions:
                continue
            made += len(commissions)
            order, _lines = order_lines_net(s, o["order_id"])
            if order is not None and order.status in ("delivered", "completed") and order.paid_at:
                for c in commissions:
                    c.delivered_at = order.paid_at + DELIVERY_AFTER
                    c.payable_at = c.delivered_at + timedelta(days=commerce.return_window_days(c.region_code))
        s.flush()
        accrual.make_payable_due(s, now)
    ctx.progress.advance(task)

    from sqlalchemy import select

    with ctx.db.session() as s:
        owed = sorted(set(s.scalars(select(Commission.creator_id).where(Commission.status == "payable"))))
        for i, creator in enumerate(owed[: (len(owed) + 1) // 2]):
            accrual.pay_creator(s, creator, f"DEMO-PAYOUT-{i + 1:03d}", "demo")
    ctx.progress.advance(task)
    ctx.counts.update(commissions=made, commission_rates=len(rates))


STEP = (86, "creators' commissions", build_affiliates)
