"""Merchant B's webhook endpoint and event, for the tenant-isolation walk (tests/test_isolation.py)."""

from __future__ import annotations

from sqlalchemy import select

from etalage.webhooks import outbox, service
from etalage.webhooks.models import WebhookEvent
from tests.isolation import World, builder


@builder
def _webhooks(world: World) -> None:
    b = world.b_merchant
    with world.factory.db.session() as s:
        e = service.create_endpoint(s, b.principal, b.merchant_id or "", "https://b.example.com/hooks",
                                    ["*"], "B's shop system", True)  # fmt: skip
        world.own("endpoint_id", e.id)
        outbox.record(s, "payout.created", {"merchant_id": b.merchant_id, "payout_id": "po_isolation"})
        event_id = s.scalar(select(WebhookEvent.id).where(WebhookEvent.merchant_id == b.merchant_id))
        world.own("event_id", event_id or "")
