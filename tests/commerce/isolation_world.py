"""Merchant B's and shopper B's buying resources, for the tenant-isolation walk (tests/test_isolation.py).

B is a verified trader with a warehouse, a published product (so B's shopper can order it) and a draft one
(whose ids stand in for product/variant/image paths: never public, so A must get 404 everywhere).
"""

from __future__ import annotations

import io
import uuid

from PIL import Image

from etalage.catalog import media
from etalage.commerce import addresses, checkout, orders
from etalage.commerce.checkout import CheckoutRequest, LineIn
from etalage.merchants import service as merchants
from etalage.payments import service as payments
from etalage.payments.provider import ProviderToken
from tests.commerce.builders import TRADER
from tests.isolation import BODY_EXAMPLES, GLOBAL_PARAMS, PUBLIC_READ, World, builder

GLOBAL_PARAMS["region_code"] = "BE"
PUBLIC_READ.update({"GET /api/v1/products/{product_id}", "GET /api/v1/merchants/{merchant_id}/trader"})
BODY_EXAMPLES["POST /api/v1/merchants/{merchant_id}/warehouses"] = {
    "name": "Depot",
    "address_line1": "Dock 1",
    "postal_code": "1000",
    "city": "Gent",
    "region_code": "BE",
}
BODY_EXAMPLES["POST /api/v1/merchants/{merchant_id}/orders/{order_id}/refunds"] = {
    "amount": {"amount": 100, "currency": "EUR"},
    "reason": "goodwill",
}
BODY_EXAMPLES["POST /api/v1/merchants/{merchant_id}/stock-movements"] = {
    "variant_id": "var_x",
    "warehouse_id": "whs_x",
    "kind": "receive",
    "quantity": 1,
    "reason": "count",
}


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


@builder
def _buying(world: World) -> None:
    f, b, b_shopper = world.factory, world.b_merchant, world.b_shopper
    merchant_id = b.merchant_id or ""
    moderator = f.moderator()  # type: ignore[attr-defined]
    with f.db.session() as s:  # B becomes a verified trader with a warehouse in Belgium
        merchants.update_profile(s, b.principal, merchant_id, {**TRADER, "self_certification": True})
        merchants.submit_profile(s, b.principal, merchant_id)
        merchants.decide(s, moderator.principal, merchant_id, "verify", "checked")
        w = merchants.create_warehouse(
            s,
            b.principal,
            merchant_id,
            dict(
                name="B depot",
                operator="merchant",
                partner_name=None,
                address_line1="Dock 2",
                address_line2=None,
                postal_code="1000",
                city="Gent",
                state=None,
                region_code="BE",
            ),
        )
    b.extra["warehouses"] = {"BE": w.id}
    world.own("warehouse_id", w.id)
    on_sale = f.product(b, prices={"BE": 2500}, stock=5)  # type: ignore[attr-defined]
    draft = f.product(b, prices={"BE": 900}, stock=0, status="draft")  # type: ignore[attr-defined]
    world.own("product_id", draft["product_id"])
    world.own("variant_id", draft["variant_id"])
    with f.db.session() as s:
        image = media.add_image(s, b.principal, merchant_id, draft["product_id"], _jpeg(), "B's picture")
        world.own("media_id", image.id)
        # B's shopper: an address, a payment method and an order from B (awaiting payment).
        a = addresses.add_address(
            s,
            b_shopper.principal,
            dict(
                recipient="B Shopper",
                line1="B street 2",
                line2=None,
                postal_code="1000",
                city="Gent",
                state=None,
                country="BE",
                phone=None,
            ),
            True,
        )
        token = ProviderToken(f"tok_test_b{uuid.uuid4().hex[:12]}", "card", "visa", "4242", 12, 2099)
        m = payments.save_method(s, b_shopper.id, token, True)
        world.own("address_id", a.id)
        world.own("payment_method_id", m.id)
        checkout_id, _ = checkout.begin_checkout(
            s, b_shopper.id, CheckoutRequest([LineIn(on_sale["variant_id"], 1)]), uuid.uuid4().hex, "fp"
        )
        world.own("checkout_id", checkout_id)
        world.own("order_id", orders.orders_of_checkout(s, checkout_id)[0].id)
