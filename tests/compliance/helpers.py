"""Helpers for the compliance tests: notices and decisions over HTTP, orders, events, and a scan of every
text column of every table for a person's data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import JSON, String, Text, select

from etalage.db import Base, Database, import_all_models
from tests.factories import Actor, Factory

ILLEGAL = {
    "explanation": "This sells a product recalled in the EU (RAPEX alert A12/00123/24); see the listing.",
    "good_faith": True,
}


def notice(api: httpx.Client, actor: Actor | None, kind: str, target_id: str, category: str = "other",
           **body: Any) -> httpx.Response:  # fmt: skip
    payload = {"target": {"kind": kind, "id": target_id}, "category": category, **body}
    return api.post("/api/v1/notices", json=payload, headers=actor.headers if actor else {})


def decide(api: httpx.Client, moderator: Actor, kind: str, target_id: str, action: str = "remove",
           **body: Any) -> httpx.Response:  # fmt: skip
    payload: dict[str, Any] = {"target": {"kind": kind, "id": target_id}, "action": action,
                               "facts": "Checked against the listing and the notices.", **body}  # fmt: skip
    if action != "no_action" and "ground" not in body:
        payload.update(ground="terms", terms_clause="4.2 Prohibited items")
    return api.post("/api/v1/moderation/decisions", json=payload, headers=moderator.headers)


def problem(resp: httpx.Response, status: int) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers
    return resp.json()


def order(factory: Factory, shopper: Actor, variant_id: str, *, to: str | None = "delivered") -> str:
    """An order through checkout's first step (no provider), moved along the state machine to ``to``."""
    from etalage.commerce import checkout, orders
    from etalage.commerce.checkout import CheckoutRequest, LineIn

    with factory.db.session() as s:
        checkout_id, _ = checkout.begin_checkout(
            s, shopper.id, CheckoutRequest([LineIn(variant_id, 1)]), uuid.uuid4().hex, "fp"
        )
        o = orders.orders_of_checkout(s, checkout_id)[0]
        path = ["paid", "fulfilling", "shipped", "delivered"]
        for step in path[: path.index(to) + 1] if to else []:
            orders.transition(s, o, step, actor="system", reason="test")
        return o.id


def post_events(api: httpx.Client, actor: Actor, product_id: str, n: int = 3) -> None:
    events = [
        {"type": "product_click", "event_id": f"pc-{i}-{uuid.uuid4().hex[:8]}",
         "occurred_at": datetime.now(UTC).isoformat(), "product_id": product_id}
        for i in range(n)
    ]  # fmt: skip
    resp = api.post("/api/v1/events", json={"events": events}, headers=actor.headers)
    assert resp.status_code == 200, resp.text


def scan(db: Database, needles: list[str]) -> list[str]:
    """Where any needle occurs (case-insensitive) in any string or JSON column of any table."""
    import_all_models()
    wanted = [n.lower() for n in needles if n]
    hits = []
    with db.read() as s:
        for table in Base.metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            if not cols:
                continue
            for row in s.execute(select(*cols)):
                for col, value in zip(cols, row, strict=True):
                    text = str(value).lower() if value is not None else ""
                    hits.extend(f"{table.name}.{col.name}: {n}" for n in wanted if n in text)
    return hits
