"""Demo step: stock of every variant in each of its merchant's warehouses (a few sold out), each receipt in
the stock ledger, so every level is explained from the start."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from etalage.db import utcnow
from etalage.demo import DemoContext
from etalage.inventory.models import StockLevel, StockMovement


def build_inventory(ctx: DemoContext) -> None:
    rng, now = ctx.rng, utcnow()
    warehouses: dict[str, list[dict]] = {}
    for w in ctx.data.get("warehouses") or []:
        warehouses.setdefault(w["merchant_id"], []).append(w)
    variants = ctx.data.get("variants") or []
    task = ctx.task("Inventory: stock and ledger", len(variants))
    levels, moves = [], []
    for v in variants:
        for w in warehouses.get(v["merchant_id"], []):
            qty = 0 if rng.random() < 0.08 else rng.randint(3, 60)
            levels.append(dict(variant_id=v["id"], warehouse_id=w["id"], product_id=v["product_id"],
                               merchant_id=v["merchant_id"], region_code=w["region_code"], warehouse_active=True,
                               on_hand=qty, reserved=0, updated_at=now - timedelta(days=30)))  # fmt: skip
            if qty:
                moves.append(dict(variant_id=v["id"], warehouse_id=w["id"], kind="receive", on_hand_delta=qty,
                                  reserved_delta=0, on_hand_after=qty, reserved_after=0,
                                  reason="opening stock (delivery note DN-0001)", actor="system", reference="DN-0001",
                                  created_at=now - timedelta(days=30)))  # fmt: skip
        ctx.progress.advance(task)
    with ctx.db.session() as s:
        for chunk in range(0, len(levels), 2000):
            s.execute(insert(StockLevel), levels[chunk : chunk + 2000])
        for chunk in range(0, len(moves), 2000):
            s.execute(insert(StockMovement), moves[chunk : chunk + 2000])
    ctx.data["stock"] = {(lv["variant_id"], lv["warehouse_id"]): lv["on_hand"] for lv in levels}
    ctx.data["warehouse_regions"] = {w["id"]: w["region_code"] for ws in warehouses.values() for w in ws}
    ctx.counts.update(stock_levels=len(levels))


STEP = (40, "inventory", build_inventory)
