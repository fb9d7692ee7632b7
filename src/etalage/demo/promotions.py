"""Demo step: promotions and reviews. A voucher per shop for the first few shops and one platform voucher,
flash sales running now on a few products, and verified reviews (with some shop replies) on about a third
of the delivered demo orders' items. Bulk inserts into promotions' and reviews' own tables."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from etalage.accounts import service as accounts
from etalage.commerce.models import Order, OrderLine
from etalage.core.money import percent_of
from etalage.db import new_id, utcnow
from etalage.demo import DemoContext
from etalage.promotions.models import FlashSale, Voucher
from etalage.reviews.models import Review, ReviewEvent

TEXTS = {
    5: [
        "Exactly as in the video, love it.",
        "Great quality, fast delivery.",
        "Perfect fit, ordering another colour.",
    ],
    4: [
        "Good value; the colour is a little darker.",
        "Nice, but the parcel took a few days.",
        "Very happy overall.",
    ],
    3: ["It's fine. Nothing special.", "Runs a size small.", "Okay for the price."],
    2: ["Thinner than I expected.", "The seam came loose after a week."],
    1: ["Not what was shown in the video.", "Arrived damaged and the shop was slow to answer."],
}
REPLIES = ["Thank you for your review!", "Sorry to hear that: write to us and we will make it right.",
           "Glad you like it!"]  # fmt: skip
RATINGS = [5] * 45 + [4] * 30 + [3] * 12 + [2] * 7 + [1] * 6


def build_promotions(ctx: DemoContext) -> None:
    rng, now = ctx.rng, utcnow()
    task = ctx.task("Promotions and reviews", 3)
    merchants = sorted({v["merchant_id"] for v in ctx.data.get("variants") or []})
    vouchers = [
        dict(id=new_id("vch"), code=f"SHOP{i + 1}TEN", merchant_id=m, funded_by="merchant", kind="percent",
             percent_bp=1000, amount=None, currency=None, min_spend_amount=0, region_code=None,
             starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=30), per_user_limit=1, max_uses=500,
             used_count=0, status="active", description="10 % off everything in the shop", created_by=m, created_at=now)
        for i, m in enumerate(merchants[:3])
    ]  # fmt: skip
    if ctx.data.get("admin"):
        vouchers.append(dict(id=new_id("vch"), code="WELCOME5", merchant_id=None, funded_by="platform", kind="fixed",
                             percent_bp=None, amount=500, currency="EUR", min_spend_amount=2500, region_code=None,
                             starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=60), per_user_limit=1,
                             max_uses=1000, used_count=0, status="active", description="5 EUR off a first order of 25 EUR",
                             created_by=ctx.data["admin"], created_at=now))  # fmt: skip
    prices = ctx.data.get("prices") or {}
    owners = {v["id"]: v for v in ctx.data.get("variants") or []}
    in_be = [(vid, region, amount) for (vid, region), amount in sorted(prices.items()) if region == "BE"]
    picked = in_be[:: max(1, len(in_be) // 5)][:5]  # a few, spread over the catalog
    sales = [
        dict(id=new_id("fls"), merchant_id=owners[vid]["merchant_id"], product_id=owners[vid]["product_id"],
             variant_id=vid, region_code=region, price_amount=max(1, amount - percent_of(amount, 3000)),
             currency="EUR", quantity=20, sold=0, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=2),
             status="active", created_by=owners[vid]["merchant_id"], created_at=now)
        for vid, region, amount in picked
        if vid in owners
    ]  # fmt: skip
    ctx.progress.advance(task)
    ids = [o["order_id"] for o in ctx.data.get("orders") or []]
    reviews, events = [], []
    with ctx.db.session() as s:
        for start in range(0, len(ids), 2000):
            chunk = ids[start : start + 2000]
            rows = s.execute(
                select(OrderLine.id, OrderLine.order_id, OrderLine.product_id, OrderLine.variant_id, Order.user_id,
                       Order.merchant_id, Order.updated_at)
                .join(Order, Order.id == OrderLine.order_id)
                .where(Order.id.in_(chunk), Order.status.in_(("delivered", "completed")))
            ).all()  # fmt: skip
            names = accounts.display_names(s, sorted({r.user_id for r in rows}))
            for r in rows:
                if rng.random() > 0.35:
                    continue
                rating = rng.choice(RATINGS)
                at = min(now - timedelta(minutes=1), r.updated_at + timedelta(hours=rng.uniform(2, 72)))
                rid = new_id("rev")
                reply = rng.choice(REPLIES) if rng.random() < 0.3 else None
                reviews.append(dict(id=rid, product_id=r.product_id, variant_id=r.variant_id, merchant_id=r.merchant_id,
                                    order_id=r.order_id, order_line_id=r.id, user_id=r.user_id,
                                    author_name=(names.get(r.user_id) or "A buyer")[:100], rating=rating,
                                    text=rng.choice(TEXTS[rating]), status="published", reply_text=reply,
                                    reply_by=r.merchant_id if reply else None,
                                    replied_at=at + timedelta(hours=6) if reply else None, reports=0, created_at=at,
                                    updated_at=at))  # fmt: skip
                events.append(
                    dict(review_id=rid, action="written", actor=r.user_id, reason="", created_at=at)
                )
    ctx.progress.advance(task)
    with ctx.db.session() as s:
        for model, rows in (
            (Voucher, vouchers),
            (FlashSale, sales),
            (Review, reviews),
            (ReviewEvent, events),
        ):
            for start in range(0, len(rows), 2000):
                if rows[start : start + 2000]:
                    s.execute(insert(model.__table__), rows[start : start + 2000])
    ctx.progress.advance(task)
    ctx.counts.update(vouchers=len(vouchers), flash_sales=len(sales), reviews=len(reviews))


STEP = (82, "promotions and reviews", build_promotions)
