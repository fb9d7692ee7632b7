"""Demo step: shoppers' saved address and card (so "buy now" is one tap), and a history of orders.

Cards are tokenised the way a shopper's device would: straight into the test PSP's own storage
(``<data dir>/psp.db``, which ``etalage payments psp`` serves), so Etalage only ever holds tokens. Past orders
are consistent with everything else: a captured payment at the PSP and in Etalage, committed stock holds,
on-hand lowered with a ``sell`` ledger row, and an order history from checkout to where each order is now.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import bindparam, insert, update

from etalage.commerce import tax
from etalage.commerce.models import Address, Order, OrderEvent, OrderLine
from etalage.commerce.regions import REGIONS, US_STATE_SALES_TAX_BP
from etalage.db import new_id, utcnow
from etalage.demo import DemoContext
from etalage.inventory.models import StockLevel, StockMovement, StockReservation
from etalage.payments.models import Payment, PaymentEvent, PaymentMethod
from etalage.payments.psp.store import Store

STREETS = ["Main street", "Station road", "Harbour lane", "Market square", "Park avenue", "Mill street"]
PATH = ["awaiting_payment", "paid", "fulfilling", "shipped", "delivered", "completed"]
FINAL_WEIGHTS = {"paid": 15, "fulfilling": 15, "shipped": 20, "delivered": 20, "completed": 30}


def _wallets(ctx: DemoContext, users: list[str], regions: dict[str, str]) -> None:
    rng, now = ctx.rng, utcnow()
    store = Store(ctx.settings.data_dir / "psp.db")
    addresses, methods, tokens = [], [], []
    for uid in users:
        region = regions.get(uid) or "BE"
        state = rng.choice(sorted(US_STATE_SALES_TAX_BP)) if region == "US" else None
        addresses.append(dict(id=new_id("adr"), user_id=uid, recipient="Demo Shopper", line1=f"{rng.choice(STREETS)} {rng.randint(1, 150)}",
                              line2=None, postal_code=str(rng.randint(1000, 9999)), city="Demo City", state=state,
                              country=region, phone=None, is_default=True, created_at=now, deleted_at=None))  # fmt: skip
        token = f"tok_test_{new_id('d')[2:].lower()}"
        tokens.append((token, "card", "4242424242424242", "visa", "4242", 12, 2030, time.time()))
        methods.append(dict(id=new_id("pm"), user_id=uid, psp_token=token, type="card", brand="visa", last4="4242",
                            exp_month=12, exp_year=2030, is_default=True, created_at=now, deleted_at=None))  # fmt: skip
    with store.db:  # one transaction for the PSP's side
        store.db.execute("BEGIN")
        store.db.executemany(
            "INSERT INTO tokens (token, type, number, brand, last4, exp_month, exp_year, created_at) VALUES (?,?,?,?,?,?,?,?)",
            tokens,
        )
        store.db.execute("COMMIT")
    store.close()
    with ctx.db.session() as s:
        for chunk in range(0, len(addresses), 2000):
            s.execute(insert(Address), addresses[chunk : chunk + 2000])
            s.execute(insert(PaymentMethod), methods[chunk : chunk + 2000])
    ctx.data["addresses"] = {a["user_id"]: a for a in addresses}
    ctx.data["payment_methods"] = {m["user_id"]: m["id"] for m in methods}


def build_orders(ctx: DemoContext) -> None:
    rng, now = ctx.rng, utcnow()
    shoppers: list[str] = list(ctx.data.get("shoppers") or [])
    regions: dict[str, str] = ctx.data.get("user_regions") or {}
    users = (
        shoppers
        + list(ctx.data.get("creators") or [])
        + [u for u in (ctx.data.get("admin"), ctx.data.get("moderator")) if u]
    )
    task = ctx.task("Orders: wallets and history", 2)
    _wallets(ctx, users, regions)
    ctx.progress.advance(task)
    stock: dict[tuple[str, str], int] = dict(ctx.data.get("stock") or {})
    wregion: dict[str, str] = ctx.data.get("warehouse_regions") or {}
    prices: dict[tuple[str, str], int] = ctx.data.get("prices") or {}
    products = {p["id"]: p for p in ctx.data.get("products") or []}
    by_region: dict[str, list[tuple[str, str, str]]] = defaultdict(
        list
    )  # region -> (variant, warehouse, product)
    for v in ctx.data.get("variants") or []:
        if v["product_id"] not in products:
            continue
        for (vid, wid), qty in stock.items():
            if vid == v["id"] and qty >= 3 and (vid, wregion[wid]) in prices:
                by_region[wregion[wid]].append((vid, wid, v["product_id"]))
    videos_of: dict[str, list[str]] = defaultdict(list)
    for video in ctx.data.get("videos") or []:
        for pid in video.get("product_ids") or []:
            videos_of[pid].append(video["id"])
    psp = Store(ctx.settings.data_dir / "psp.db")
    orders, lines, events, payments, pay_events, holds, moves, level_updates, psp_rows, published = (
        [] for _ in range(10)
    )
    addresses = ctx.data.get("addresses") or {}
    wanted = max(3, ctx.scale["shoppers"] // 8)
    for _ in range(wanted * 3):
        if len(orders) >= wanted:
            break
        uid = rng.choice(shoppers)
        region = regions.get(uid) or "BE"
        candidates = by_region.get(region)
        if not candidates or uid not in addresses:
            continue
        vid, wid, pid = rng.choice(candidates)
        qty = rng.choice([1, 1, 1, 2])
        if stock[(vid, wid)] < qty + 1:
            continue
        product, reg, addr = products[pid], REGIONS[region], addresses[uid]
        unit = prices[(vid, region)]
        shipping = tax.shipping_fee(unit * qty, reg.shipping_fee, reg.free_shipping_over)
        totals = tax.price_order(
            region, [tax.TaxLine(unit, qty, product["tax_class"])], shipping, state=addr["state"]
        )
        final = rng.choices(list(FINAL_WEIGHTS), list(FINAL_WEIGHTS.values()))[0]
        placed = now - timedelta(days=rng.uniform(1, 40))
        order_id, checkout_id, payment_id, psp_id = (
            new_id("ord"),
            new_id("chk"),
            new_id("pay"),
            f"psp_pay_demo{len(orders):06d}",
        )
        video = rng.choice(videos_of[pid]) if videos_of.get(pid) and rng.random() < 0.5 else None
        ship_to = {
            k: addr[k]
            for k in ("recipient", "line1", "line2", "postal_code", "city", "state", "country", "phone")
        }
        orders.append(dict(id=order_id, checkout_id=checkout_id, user_id=uid, merchant_id=product["merchant_id"],
                           payment_id=payment_id, region_code=region, currency=reg.currency, status=final,
                           subtotal_amount=totals.subtotal_amount, shipping_amount=totals.shipping_amount,
                           tax_amount=totals.tax_amount, total_amount=totals.total_amount, tax_included=totals.tax_included,
                           refunded_amount=0, ship_to=ship_to, source_video_id=video, source_live_room_id=None,
                           created_at=placed, updated_at=placed, paid_at=placed + timedelta(seconds=2)))  # fmt: skip
        lines.append(dict(order_id=order_id, product_id=pid, variant_id=vid, sku="", title=product["title"], options={},
                          quantity=qty, unit_amount=unit, tax_rate_bp=totals.lines[0].rate_bp,
                          tax_amount=totals.lines[0].tax_amount, total_amount=totals.lines[0].total_amount,
                          source_video_id=video, source_live_room_id=None))  # fmt: skip
        steps = PATH[: PATH.index(final) + 1]
        for i, (a, b) in enumerate(zip([None, *steps], steps, strict=False)):
            actor = (
                uid
                if b == "awaiting_payment"
                else ("payment:checkout" if b == "paid" else product["merchant_id"])
            )
            events.append(dict(order_id=order_id, from_status=a, to_status=b, actor=actor, reason=b.replace("_", " "),
                               created_at=placed + timedelta(hours=i * 20, seconds=i)))  # fmt: skip
        method = ctx.data["payment_methods"][uid]
        payments.append(dict(id=payment_id, checkout_id=checkout_id, user_id=uid, amount=totals.total_amount,
                             currency=reg.currency, status="captured", method_type="card", payment_method_id=method,
                             brand="visa", last4="4242", psp_reference=psp_id, captured_amount=totals.total_amount,
                             refunded_amount=0, created_at=placed, updated_at=placed))  # fmt: skip
        pay_events += [dict(payment_id=payment_id, from_status=None, to_status="pending", source="checkout", reason="checkout started", amount=None, created_at=placed),
                       dict(payment_id=payment_id, from_status="pending", to_status="captured", source="checkout", reason="provider: captured", amount=totals.total_amount, created_at=placed)]  # fmt: skip
        psp_rows.append((psp_id, payment_id, totals.total_amount, reg.currency, "card", "captured", 1, totals.total_amount,
                         0, checkout_id, placed.timestamp(), placed.timestamp()))  # fmt: skip
        holds.append(dict(id=new_id("rsv"), order_id=order_id, variant_id=vid, warehouse_id=wid, quantity=qty,
                          status="committed", expires_at=placed + timedelta(minutes=15), created_at=placed, resolved_at=placed))  # fmt: skip
        stock[(vid, wid)] -= qty
        moves.append(dict(variant_id=vid, warehouse_id=wid, kind="sell", on_hand_delta=-qty, reserved_delta=0,
                          on_hand_after=stock[(vid, wid)], reserved_after=0, reason="sold: order paid", actor="payment:checkout",
                          reference=order_id, created_at=placed))  # fmt: skip
        level_updates.append({"vid": vid, "wid": wid, "qty": qty})
        published.append({"order_id": order_id, "user_id": uid, "merchant_id": product["merchant_id"], "region": region,
                          "currency": reg.currency, "total_amount": totals.total_amount, "discount_amount": 0,
                          "source_video_id": video, "source_live_room_id": None,
                          "paid_at": (placed + timedelta(seconds=2)).isoformat(),
                          "items": [{"product_id": pid, "variant_id": vid, "quantity": qty, "unit_amount": unit,
                                     "total_amount": totals.lines[0].total_amount, "currency": reg.currency}]})  # fmt: skip
    with psp.db:
        psp.db.execute("BEGIN")
        psp.db.executemany(
            "INSERT INTO payments (id, idempotency_key, amount, currency, method_type, status, capture, captured_amount, "
            "refunded_amount, reference, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            psp_rows,
        )
        psp.db.execute("COMMIT")
    psp.close()
    sl = StockLevel.__table__
    sell = (
        update(sl)
        .where(sl.c.variant_id == bindparam("vid"), sl.c.warehouse_id == bindparam("wid"))
        .values(on_hand=sl.c.on_hand - bindparam("qty"))
    )
    with ctx.db.session() as s:
        for model, rows in ((Order, orders), (OrderLine, lines), (OrderEvent, events), (Payment, payments),
                            (PaymentEvent, pay_events), (StockReservation, holds), (StockMovement, moves)):  # fmt: skip
            for chunk in range(0, len(rows), 2000):
                if rows[chunk : chunk + 2000]:
                    s.execute(insert(model.__table__), rows[chunk : chunk + 2000])
        if level_updates:
            s.connection().execute(sell, level_updates)
    ctx.progress.advance(task)
    ctx.data["orders"] = published
    ctx.counts.update(orders=len(orders), addresses=len(users))


STEP = (60, "orders", build_orders)
