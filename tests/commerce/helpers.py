"""Small helpers for the buying tests: one-tap purchases, and reading the database's invariants."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import func, select

from etalage.db import Database
from etalage.inventory.models import StockLevel, StockMovement, StockReservation


def buy(api: httpx.Client, shopper: Any, variant_id: str, quantity: int = 1, *, key: str | None = None,
        **body: Any) -> httpx.Response:  # fmt: skip
    headers = {**shopper.headers, "Idempotency-Key": key or uuid.uuid4().hex}
    return api.post("/api/v1/buy-now", json={"variant_id": variant_id, "quantity": quantity, **body}, headers=headers)


def stock_of(db: Database, variant_id: str) -> tuple[int, int]:
    """(on hand, reserved) over all warehouses."""
    with db.read() as s:
        row = s.execute(
            select(func.coalesce(func.sum(StockLevel.on_hand), 0), func.coalesce(func.sum(StockLevel.reserved), 0))
            .where(StockLevel.variant_id == variant_id)
        ).one()  # fmt: skip
    return int(row[0]), int(row[1])


def assert_stock_consistent(db: Database) -> None:
    """Every level is within bounds, equals the sum of its ledger, and reserved equals the active holds."""
    with db.read() as s:
        levels = s.execute(select(StockLevel.variant_id, StockLevel.warehouse_id, StockLevel.on_hand, StockLevel.reserved)).all()
        ledger = {
            (v, w): (int(a), int(b))
            for v, w, a, b in s.execute(
                select(StockMovement.variant_id, StockMovement.warehouse_id, func.sum(StockMovement.on_hand_delta),
                       func.sum(StockMovement.reserved_delta)).group_by(StockMovement.variant_id, StockMovement.warehouse_id)
            )
        }  # fmt: skip
        holds = {
            (v, w): int(q)
            for v, w, q in s.execute(
                select(StockReservation.variant_id, StockReservation.warehouse_id, func.sum(StockReservation.quantity))
                .where(StockReservation.status == "active")
                .group_by(StockReservation.variant_id, StockReservation.warehouse_id)
            )
        }  # fmt: skip
    for v, w, on_hand, reserved in levels:
        assert 0 <= reserved <= on_hand, (v, w, on_hand, reserved)
        assert ledger.get((v, w), (0, 0)) == (on_hand, reserved), f"ledger of {v}@{w} does not add up to the level"
        assert holds.get((v, w), 0) == reserved, f"reserved {reserved} but active holds {holds.get((v, w), 0)}"


def eventually(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll until ``check()`` returns something truthy (asynchronous webhooks, background work)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last value {value!r})")
        time.sleep(interval)
