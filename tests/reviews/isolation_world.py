"""Shopper B's review of merchant B's delivered product, for the tenant-isolation walk."""

from __future__ import annotations

import uuid

from etalage.commerce import checkout, orders
from etalage.commerce.checkout import CheckoutRequest, LineIn
from etalage.fulfilment import shipments
from etalage.payments import service as payments
from etalage.payments.provider import ProviderPayment
from etalage.reviews import service
from etalage.reviews.schemas import ReviewIn
from tests.isolation import BODY_EXAMPLES, PUBLIC_READ, SKIP, World, builder

PUBLIC_READ.update({
    "GET /api/v1/products/{product_id}/reviews",
    "GET /api/v1/products/{product_id}/quality",
    "GET /api/v1/merchants/{merchant_id}/quality",
})  # fmt: skip
SKIP["POST /api/v1/reviews/{review_id}/reports"] = "anyone signed in may report a published (public) review"
BODY_EXAMPLES["POST /api/v1/orders/{order_id}/reviews"] = {
    "variant_id": "var_01M8000000000000000000000A",
    "rating": 5,
}


@builder
def _reviews(world: World) -> None:
    f, b, b_shopper = world.factory, world.b_merchant, world.b_shopper
    item = f.product(b, prices={"BE": 1200}, stock=2)  # type: ignore[attr-defined]
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
            s, b.principal, b.merchant_id or "", order_id, carrier="bpost", tracking_number="323200000000000R",
            lines=None,
        )  # fmt: skip
        shipments.merchant_delivered(s, b.principal, b.merchant_id or "", parcel.id, reason="scan", at=None)
    with f.db.session() as s:
        review = service.write_review(
            s, b_shopper.principal, order_id, ReviewIn(variant_id=item["variant_id"], rating=4)
        )
        world.own("review_id", review.id, private=False)  # published reviews are public
