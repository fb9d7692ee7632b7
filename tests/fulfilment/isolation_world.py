"""Merchant B's parcel and shopper B's return, for the tenant-isolation walk (tests/test_isolation.py)."""

from __future__ import annotations

import uuid

from etalage.commerce import checkout, orders
from etalage.commerce.checkout import CheckoutRequest, LineIn
from etalage.fulfilment import returns, shipments
from etalage.payments import service as payments
from etalage.payments.provider import ProviderPayment
from tests.isolation import BODY_EXAMPLES, World, builder

BODY_EXAMPLES["POST /api/v1/orders/{order_id}/returns"] = {
    "lines": [{"variant_id": "var_01M8000000000000000000000A", "quantity": 1}],
    "reason": "does not fit",
}
BODY_EXAMPLES["POST /api/v1/merchants/{merchant_id}/orders/{order_id}/shipments"] = {
    "carrier": "bpost",
    "tracking_number": "323200000000000001",
}
BODY_EXAMPLES["POST /api/v1/merchants/{merchant_id}/returns/{return_id}/decision"] = {
    "decision": "approve",
    "reason": "fine by us",
}
BODY_EXAMPLES["POST /api/v1/merchants/{merchant_id}/fulfilment-enrolments"] = {
    "centre_id": "ffc_01M8000000000000000000000A"
}


@builder
def _fulfilment(world: World) -> None:
    """B's shopper buys from B (paid as the provider would report it); B ships and the parcel is delivered;
    B's shopper asks to return it."""
    f, b, b_shopper = world.factory, world.b_merchant, world.b_shopper
    item = f.product(b, prices={"BE": 1800}, stock=3)  # type: ignore[attr-defined]
    with f.db.session() as s:
        checkout_id, _ = checkout.begin_checkout(
            s, b_shopper.id, CheckoutRequest([LineIn(item["variant_id"], 1)]), uuid.uuid4().hex, "fp"
        )
        payment = payments.payment_for_checkout(s, checkout_id)
        assert payment is not None
        captured = ProviderPayment(
            id=f"psp_{uuid.uuid4().hex[:12]}", idempotency_key=payment.id, status="captured",
            amount=payment.amount, currency=payment.currency, captured_amount=payment.amount, refunded_amount=0,
            decline_code=None, next_action=None,
        )  # fmt: skip
        payments.apply_provider_state(s, payment.id, captured, source="test")
        order_id = orders.orders_of_checkout(s, checkout_id)[0].id
    with f.db.session() as s:
        parcel, _ = shipments.create_shipment(
            s, b.principal, b.merchant_id or "", order_id, carrier="bpost", tracking_number="323200000000000B",
            lines=None,
        )  # fmt: skip
        shipments.merchant_delivered(s, b.principal, b.merchant_id or "", parcel.id, reason="scan", at=None)
        world.own("shipment_id", parcel.id)
    with f.db.session() as s:
        ret = returns.request_return(s, b_shopper.principal, order_id, [(item["variant_id"], 1)], "too big")
        world.own("return_id", ret.id)
